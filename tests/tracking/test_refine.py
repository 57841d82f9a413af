"""Offline refinement of a track log."""

from __future__ import annotations

import numpy as np

from vidtrack.tracking import RefineConfig, TrackLog, refine_tracks

NO_SMOOTH = dict(smooth_window=1)


def log_rows(frames: list[int], key: int, track_id: int | list[int], x0: float = 0.0, conf: float = 0.95) -> np.ndarray:
    log = TrackLog()
    ids = track_id if isinstance(track_id, list) else [track_id] * len(frames)
    for frame, tid in zip(frames, ids):
        x = x0 + 10.0 * frame
        log.add(frame, np.array([[x, 0.0, x + 50, 100.0]]), np.array([conf]), np.array([key]), np.array([tid]))
    return log.rows()


def test_short_gaps_are_interpolated_long_ones_not() -> None:
    rows = log_rows(list(range(1, 11)) + list(range(14, 24)) + list(range(40, 50)), key=1, track_id=1)
    out = refine_tracks(rows, RefineConfig(max_gap=5, min_length=1, **NO_SMOOTH))
    frames = out[:, 0].astype(int).tolist()
    assert frames == list(range(1, 24)) + list(range(40, 50))
    filled = out[out[:, 0] == 12][0]
    np.testing.assert_allclose(filled[2:6], [120, 0, 170, 100])  # on the straight line


def test_backfill_recovers_tentative_rows_of_confirmed_tracks_only() -> None:
    confirmed = log_rows(list(range(1, 21)), key=7, track_id=[0, 0] + [3] * 18)
    never_confirmed = log_rows([1, 2], key=8, track_id=0, x0=500)
    rows = np.vstack([confirmed, never_confirmed])
    out = refine_tracks(rows, RefineConfig(min_length=1, **NO_SMOOTH))
    assert set(out[:, 1].astype(int)) == {3}
    assert out[:, 0].astype(int).tolist() == list(range(1, 21))
    no_backfill = refine_tracks(rows, RefineConfig(min_length=1, backfill=False, **NO_SMOOTH))
    assert no_backfill[:, 0].astype(int).tolist() == list(range(3, 21))


def test_short_weak_tracks_dropped_short_confident_kept() -> None:
    weak = log_rows([1, 2, 3, 4], key=1, track_id=1, conf=0.6)
    strong = log_rows([1, 2, 3, 4], key=2, track_id=2, x0=500, conf=0.97)
    long_weak = log_rows(list(range(1, 21)), key=3, track_id=3, x0=900, conf=0.6)
    out = refine_tracks(np.vstack([weak, strong, long_weak]), RefineConfig(min_length=10, keep_score_rank=0.9))
    assert set(out[:, 1].astype(int)) == {2, 3}


def test_keep_rule_reads_ranks_not_raw_scores() -> None:
    # Scores that are all low in raw terms (a YOLO-like scale): the short track whose
    # detections rank high is kept, given the tracker's ranks or the log's own.
    weak = log_rows([1, 2, 3, 4], key=1, track_id=1, conf=0.3)
    strong = log_rows([1, 2, 3, 4], key=2, track_id=2, x0=500, conf=0.6)
    long_weak = log_rows(list(range(1, 21)), key=3, track_id=3, x0=900, conf=0.4)
    rows = np.vstack([weak, strong, long_weak])
    config = RefineConfig(min_length=10, keep_score_rank=0.5)
    assert set(refine_tracks(rows, config)[:, 1].astype(int)) == {2, 3}
    ranks = np.where(rows[:, 7] >= 0.6, 0.9, 0.1)
    assert set(refine_tracks(rows, config, ranks)[:, 1].astype(int)) == {2, 3}
    assert set(refine_tracks(rows, config, np.ones(len(rows)))[:, 1].astype(int)) == {1, 2, 3}


def test_smoothing_removes_jitter_without_lag(rng: np.random.Generator) -> None:
    rows = log_rows(list(range(1, 61)), key=1, track_id=1)
    clean = rows[:, 3:7].copy()
    rows[:, 3:7] += rng.normal(0, 3, rows[:, 3:7].shape)
    out = refine_tracks(rows, RefineConfig(min_length=1, smooth_window=5))
    raw_error = np.abs(rows[:, 3:7] - clean).mean()
    smooth_error = np.abs(out[:, 2:6] - clean).mean()
    assert smooth_error < 0.7 * raw_error
    assert abs((out[:, 2:6] - clean).mean()) < 0.5  # centred: no systematic lag


def test_rows_sorted_by_frame_then_id_and_empty_log() -> None:
    rows = np.vstack([log_rows([3, 1, 2], key=2, track_id=5), log_rows([2, 1, 3], key=1, track_id=4, x0=300)])
    out = refine_tracks(rows, RefineConfig(min_length=1))
    assert out[:, :2].astype(int).tolist() == [[1, 4], [1, 5], [2, 4], [2, 5], [3, 4], [3, 5]]
    assert refine_tracks(TrackLog().rows()).shape == (0, 7)
