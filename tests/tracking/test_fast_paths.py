"""The shortcuts taken for speed give exactly what the general code gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import supervision as sv

from vidtrack.tracking import IoUTracker
from vidtrack.tracking.assignment import assign, assign_listed
from vidtrack.tracking.scores import ScoreRanks


def test_assign_listed_equals_assign_on_matrices_ties_included() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        n, m = rng.integers(1, 7, 2)
        allowed = rng.random((n, m)) < 0.5
        overlap = np.where(allowed, rng.choice([0.3, 0.5, 0.5, 0.7, 0.0], (n, m)), 0.0)  # ties on purpose
        priority = rng.random(n) < 0.5
        rows, cols = allowed.nonzero()
        weights = [overlap[i, j] + (1.0 if priority[i] else 0.0) for i, j in zip(rows.tolist(), cols.tolist())]
        want_rows, want_cols = assign(allowed, overlap, priority)
        got = assign_listed(int(n), int(m), rows.tolist(), cols.tolist(), weights)
        assert got == (want_rows.tolist(), want_cols.tolist())


def test_score_ranks_same_whether_bins_come_as_lists_or_arrays() -> None:
    rng = np.random.default_rng(0)
    as_lists, as_arrays, mixed = ScoreRanks(memory=500), ScoreRanks(memory=500), ScoreRanks(memory=500)
    for frame in range(400):  # past `memory`: the counts are halved, fractions appear
        bins = rng.integers(0, 1000, rng.integers(0, 9))
        as_lists.observe_bins(bins.tolist())
        as_arrays.observe_bins(bins)
        mixed.observe_bins(bins if frame % 3 else bins.tolist())
        wanted = np.array([0.1, 0.5, 0.9])
        assert as_lists.bin_thresholds(wanted).tolist() == as_arrays.bin_thresholds(wanted).tolist()
        assert as_lists.bin_thresholds(wanted).tolist() == mixed.bin_thresholds(wanted).tolist()
    assert as_lists._cumulative.tobytes() == as_arrays._cumulative.tobytes() == mixed._cumulative.tobytes()


@dataclasses.dataclass
class CheckedDetections(sv.Detections):
    """A Detections subclass with its own __post_init__: must be built through its constructor."""

    built: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.built = 1


def test_output_detections_equal_a_validated_build() -> None:
    tracker = IoUTracker()
    frame = sv.Detections(
        xyxy=np.array([[10.0, 10.0, 50.0, 90.0], [200.0, 40.0, 260.0, 160.0]], dtype=np.float32),
        confidence=np.array([0.9, 0.8], dtype=np.float32),
        class_id=np.array([0, 0]),
        data={"class_name": np.array(["person", "person"])},
    )
    for _ in range(4):
        out = tracker.update(frame)
    rebuilt = sv.Detections(xyxy=out.xyxy, confidence=out.confidence, class_id=out.class_id,
                            tracker_id=out.tracker_id, data=out.data, metadata=out.metadata)
    assert out == rebuilt and out.tracker_id.tolist() == [1, 2] and out.xyxy.dtype == np.float32
    assert out.data["det_index"].tolist() == [0, 1]
    # A subclass with its own __post_init__ still gets it run.
    tracker = IoUTracker()
    sub = CheckedDetections(xyxy=frame.xyxy, confidence=frame.confidence, class_id=frame.class_id)
    for _ in range(4):
        out = tracker.update(sub)
    assert type(out) is CheckedDetections and out.built == 1 and len(out) == 2


def test_small_gate_equals_the_numpy_centre_gate() -> None:
    """``_gate_small`` (plain Python, numpy's hypot) matches what ``_centre_gate`` + ``assign``
    match, in the same order: collapsed, NaN and tiny predictions, other classes, conflicts."""
    from vidtrack.tracking.tracker import _centre_gate, _gate_small

    rng = np.random.default_rng(11)
    for case in range(1000):
        n, m = (int(v) for v in rng.integers(1, 6, 2))
        centre = rng.uniform(0, 200, (n, 2))
        size = rng.uniform(5, 60, (n, 2))
        boxes = np.concatenate((centre - size / 2, centre + size / 2), axis=1)
        # tracks near the detections (so the gate has work), some of them degenerate
        pick = rng.integers(0, n, m)
        tracks = boxes[pick] + rng.normal(0, 4, (m, 4)) * rng.choice([0.1, 0.5, 2.0], (m, 1))
        kind = rng.integers(0, 12, m)
        tracks[kind == 0, 2] = tracks[kind == 0, 0]  # zero width
        tracks[kind == 1, 3] = tracks[kind == 1, 1] - 1.0  # negative height
        tracks[kind == 2, 1] = np.nan
        tracks[kind == 3] = [5.0, 5.0, 5.0 + 1e-200, 5.0 + 1e-200]  # size underflows to 0
        if case % 5 == 0:
            tracks[:] = tracks[0]  # identical tracks: tied closeness
        det_cls = rng.integers(0, 2, n).astype(float).tolist()
        trk_cls = rng.integers(0, 2, m).astype(float).tolist()
        gate = float(rng.choice([0.5, 1.0, 2.0]))
        d = sorted(rng.choice(n, rng.integers(1, n + 1), replace=False).tolist())
        t = sorted(rng.choice(m, rng.integers(1, m + 1), replace=False).tolist())

        with np.errstate(all="ignore"):
            closeness, allowed = _centre_gate(boxes[d], tracks[t], gate)
        allowed &= np.array([[det_cls[i] == trk_cls[j] for j in t] for i in d])
        want_rows, want_cols = assign(allowed, closeness)
        want = ([d[a] for a in want_rows.tolist()], [t[b] for b in want_cols.tolist()])

        free = [True] * n
        rows, cols = _gate_small([], [], d, t, boxes.tolist(), tracks.tolist(), det_cls, trk_cls, gate, free)
        assert (rows, cols) == want, case
        assert free == [i not in rows for i in range(n)]


def test_assign_listed_without_the_solver_equals_the_solver() -> None:
    """Conflicts shaped as stars (one detection on two tracks, two detections on one track) are
    decided without the solver when the best matching is unique by a margin: same pairs, same
    order as the solver's; near-ties and other shapes still go to it."""
    from vidtrack.tracking.assignment import _star_matching

    rng = np.random.default_rng(5)
    decided = 0
    for case in range(3000):
        n, m = (int(v) for v in rng.integers(1, 8, 2))
        allowed = rng.random((n, m)) < rng.choice([0.15, 0.3, 0.5])
        overlap = rng.uniform(0.3, 1.0, (n, m))
        if case % 7 == 0:
            overlap = np.round(overlap, 1)  # ties
        if case % 11 == 0:
            overlap[0, :] = overlap[0, 0] + rng.choice([0.0, 1e-12, 1e-6], m)  # near-ties
        priority = rng.random(n) < 0.5
        rows, cols = allowed.nonzero()
        weights = [overlap[i, j] + (1.0 if priority[i] else 0.0) for i, j in zip(rows.tolist(), cols.tolist())]
        want_rows, want_cols = assign(allowed, overlap, priority)
        got = assign_listed(n, m, rows.tolist(), cols.tolist(), weights)
        assert got == (want_rows.tolist(), want_cols.tolist()), case
        decided += _star_matching(rows.tolist(), cols.tolist(), weights) is not None
    assert decided > 500  # the shortcut is exercised, not only the solver
