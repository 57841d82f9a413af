"""Score ranks: the calibrated confidence scale the tracker's thresholds are read on."""

from __future__ import annotations

import numpy as np

from vidtrack.tracking.scores import BINS, ScoreRanks, finite_score_bins


def test_prior_makes_rank_about_the_raw_score_before_any_data() -> None:
    ranks = ScoreRanks(prior_weight=20)
    np.testing.assert_allclose(ranks.rank(np.array([0.0995, 0.5, 0.9995])), [0.1, 0.5, 1.0], atol=2e-3)


def test_ranks_follow_the_observed_distribution(rng: np.random.Generator) -> None:
    ranks = ScoreRanks(prior_weight=1)
    scores = rng.uniform(0.25, 0.9, 5000)
    for chunk in np.array_split(scores, 500):
        ranks.observe(chunk)
    probe = np.array([0.3, 0.5, 0.7, 0.85])
    expected = (scores[None, :] <= probe[:, None]).mean(axis=1)
    np.testing.assert_allclose(ranks.rank(probe), expected, atol=0.01)
    # Thresholds are the inverse: the lowest score reaching each rank.
    np.testing.assert_allclose(ranks.thresholds(np.array([0.1, 0.5])), np.quantile(scores, [0.1, 0.5]), atol=0.01)


def test_equal_scores_all_rank_one_and_reach_every_threshold() -> None:
    ranks = ScoreRanks()
    for _ in range(50):
        ranks.observe(np.full(7, 0.8))
    assert ranks.rank(np.array([0.8]))[0] > 0.99
    bins = ranks.bins(np.array([0.8]))
    assert (bins >= ranks.bin_thresholds(np.array([0.0, 0.5, 1.0]))).all()
    assert ranks.bin_thresholds(np.array([0.0]))[0] == 0


def test_ranks_stay_exact_enough_between_refreshes(rng: np.random.Generator) -> None:
    # The cumulative counts are rebuilt lazily; thresholds may lag by STALENESS at most.
    ranks = ScoreRanks(prior_weight=0)
    seen = []
    for _ in range(400):
        chunk = rng.beta(5, 2, 8)
        seen.append(chunk)
        ranks.observe(chunk)
        exact = np.quantile(np.concatenate(seen), 0.35, method="inverted_cdf")
        assert abs(ranks.thresholds(np.array([0.35]))[0] - exact) < 0.02


def test_out_of_range_and_nan_scores_are_clipped() -> None:
    bins = ScoreRanks.bins(np.array([-1.0, np.nan, 0.0, 1.0, 7.0]))
    assert bins.tolist() == [0, 0, 0, BINS - 1, BINS - 1]
    # The tracker's fast path (NaN already removed) agrees with the robust one.
    finite = np.array([-1.0, 0.0, 0.0005, 0.001, 0.4999, 0.5, 1.0, 7.0])
    assert finite_score_bins(finite).tolist() == ScoreRanks.bins(finite).tolist()
    assert finite_score_bins(finite).tolist() == [0, 0, 0, 1, 499, 500, BINS - 1, BINS - 1]


def test_memory_lets_ranks_follow_a_changed_detector() -> None:
    ranks = ScoreRanks(memory=1000)
    for _ in range(200):
        ranks.observe(np.full(10, 0.9))
    for _ in range(200):
        ranks.observe(np.full(10, 0.4))
    # The old 0.9 scores have faded: 0.4 is now the typical score, not the bottom.
    assert ranks.rank(np.array([0.4]))[0] > 0.9
    assert ranks.rank(np.array([0.3]))[0] < 0.01
