"""Line-counting accuracy on MOT15: vidtrack vs the anchors, on the same public detections.

Every method gets every row of each sequence's ``det/det.txt`` and counts crossings of the
lines ``0.5,0,0.5,1`` (vertical, through the middle) and ``0,0.6,1,0.6`` (horizontal):

- **vidtrack**: its tracker with the look-ahead of a file run and its line counter with
  ``vidtrack run``'s defaults (exactly ``vidtrack eval --line``);
- **Ultralytics BYTETracker + ObjectCounter**: ``bytetrack.yaml`` defaults, and the
  counting of ``ultralytics.solutions.ObjectCounter.count_objects`` itself (box centre,
  once per track id, direction by the move along x or y), called per track and frame;
- **roboflow ByteTrack + sv.LineZone defaults** (four-corner anchors, threshold 1);
- **roboflow ByteTrack / OC-SORT + sv.LineZone best** (bottom-centre anchor,
  ``minimum_crossing_threshold=3``).

The truth is ``vidtrack.evaluation.true_crossings``: each ground-truth id counts at most
once per direction when its bottom-centre passes the segment between two consecutive
observations (confidence-0 rows ignored). The error of a sequence and line is
``|in - true in| + |out - true out|``; the total is the sum over sequences and lines.
Each anchor's "in" is mapped to vidtrack's convention by moving a box across each line
in vidtrack's "in" direction and seeing which of its counters moves.

    .venv/bin/python benchmarks/counting_accuracy.py [MOT_ROOT]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np

from vidtrack.analytics.geometry import Segment, specs
from vidtrack.evaluation import (
    count_sequence_lines,
    find_sequences,
    load_sequence,
    sequence_lines,
    true_crossings,
)
from vidtrack.tracking import TrackerConfig

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "assets" / "mot" / "MOT15" / "train"
LINES = ("0.5,0,0.5,1", "0,0.6,1,0.6")

Counts = list[tuple[int, int]]  # per line: (in, out) in vidtrack's convention


# -- Ultralytics: BYTETracker + ObjectCounter.count_objects ------------------------------------


class _Boxes:
    """The slice of ``ultralytics.engine.results.Boxes`` BYTETracker reads (numpy, indexable)."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray) -> None:
        self.xyxy, self.conf, self.cls = xyxy, conf, cls
        wh = xyxy[:, 2:4] - xyxy[:, 0:2]
        self.xywh = np.concatenate([xyxy[:, 0:2] + wh / 2, wh], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index) -> "_Boxes":
        return _Boxes(self.xyxy[index], self.conf[index], self.cls[index])


def _ul_counter(a: tuple[float, float], b: tuple[float, float]):
    """An ObjectCounter for line a-b without BaseSolution.__init__ (which loads a model)."""
    from collections import defaultdict

    from shapely.geometry import LineString, Point
    from ultralytics.solutions.object_counter import ObjectCounter

    counter = ObjectCounter.__new__(ObjectCounter)
    counter.region = [a, b]
    counter.LineString, counter.Point = LineString, Point
    counter.r_s = LineString(counter.region)
    counter.counted_ids = set()
    counter.in_count = counter.out_count = 0
    counter.classwise_count = defaultdict(lambda: {"IN": 0, "OUT": 0})
    counter.names = {0: "person"}
    return counter


def _ul_direction(segment: Segment) -> bool:
    """True when ObjectCounter's IN is vidtrack's "in" on this line."""
    counter = _ul_counter(segment.a, segment.b)
    start, end = _across(segment)
    counter.count_objects(end, 1, start, 0)
    return counter.in_count == 1


def run_ultralytics(sequence, lines: list[tuple[str, Segment]]) -> Counts:
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    cfg = YAML.load(check_yaml("bytetrack.yaml"))
    tracker = BYTETracker(SimpleNamespace(**cfg))
    counters = [_ul_counter(seg.a, seg.b) for _, seg in lines]
    history: dict[int, tuple[float, float]] = {}
    for boxes, scores, classes in zip(sequence.boxes, sequence.scores, sequence.classes):
        rows = tracker.update(_Boxes(boxes.astype(np.float32), scores.astype(np.float32), classes.astype(np.float32)))
        for x1, y1, x2, y2, track_id, *_ in rows.tolist():
            centre = ((x1 + x2) / 2, (y1 + y2) / 2)
            previous = history.get(int(track_id))
            for counter in counters:
                counter.count_objects(centre, int(track_id), previous, 0)
            history[int(track_id)] = centre
    out = []
    for counter, (_, seg) in zip(counters, lines):
        same = _ul_direction(seg)
        out.append((counter.in_count, counter.out_count) if same else (counter.out_count, counter.in_count))
    return out


# -- roboflow trackers + supervision LineZone ------------------------------------------------


def _line_zone(segment: Segment, best: bool):
    import supervision as sv

    kwargs = {"triggering_anchors": (sv.Position.BOTTOM_CENTER,), "minimum_crossing_threshold": 3} if best else {}
    return sv.LineZone(start=sv.Point(*segment.a), end=sv.Point(*segment.b), **kwargs)


def _sv_direction(segment: Segment, best: bool) -> bool:
    """True when LineZone's in_count is vidtrack's "in" on this line."""
    import supervision as sv

    zone = _line_zone(segment, best)
    start, end = _across(segment)
    for point in [start] * 5 + [end] * 5:
        x, y = point
        zone.trigger(sv.Detections(xyxy=np.array([[x - 5, y - 20, x + 5, y]], float), tracker_id=np.array([1])))
    assert zone.in_count + zone.out_count == 1
    return zone.in_count == 1


def run_supervision(sequence, lines: list[tuple[str, Segment]], make_tracker: Callable, best: bool) -> Counts:
    import supervision as sv

    tracker = make_tracker(sequence.frame_rate)
    zones = [_line_zone(seg, best) for _, seg in lines]
    for boxes, scores, classes in zip(sequence.boxes, sequence.scores, sequence.classes):
        detections = sv.Detections(xyxy=boxes.astype(np.float32), confidence=scores.astype(np.float32), class_id=classes.astype(int))
        tracked = tracker.update(detections)
        for zone in zones:
            zone.trigger(tracked)
    out = []
    for zone, (_, seg) in zip(zones, lines):
        same = _sv_direction(seg, best)
        out.append((zone.in_count, zone.out_count) if same else (zone.out_count, zone.in_count))
    return out


def _across(segment: Segment) -> tuple[tuple[float, float], tuple[float, float]]:
    """Two points 40 px either side of the segment's middle, left then right of its arrow (vidtrack's "in")."""
    (ax, ay), (bx, by) = segment.a, segment.b
    mx, my = (ax + bx) / 2, (ay + by) / 2
    dx, dy = (bx - ax) / segment.length, (by - ay) / segment.length
    nx, ny = -dy, dx  # the right of the arrow on screen (y down): signed distance grows along it
    return (mx - 40 * nx, my - 40 * ny), (mx + 40 * nx, my + 40 * ny)


# -- the table ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mot_root", nargs="?", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args()
    from trackers import ByteTrackTracker, OCSORTTracker

    paths = find_sequences(args.mot_root)
    sequences = [load_sequence(p) for p in paths]
    line_specs = specs(list(LINES), "--line", 2, 2)
    geometry = {s.name: sequence_lines(s.path, line_specs) for s in sequences}
    truth = {s.name: [true_crossings(s.path / "gt" / "gt.txt", seg) for _, seg in geometry[s.name]] for s in sequences}

    def vidtrack_counts(seq) -> Counts:
        return [(x.counted_in, x.counted_out) for x in count_sequence_lines(seq, geometry[seq.name], TrackerConfig())]

    methods: dict[str, Callable] = {
        "vidtrack (run defaults)": vidtrack_counts,
        "Ultralytics BYTETracker + ObjectCounter": lambda s: run_ultralytics(s, geometry[s.name]),
        "roboflow ByteTrack + sv.LineZone defaults": lambda s: run_supervision(
            s, geometry[s.name], lambda fps: ByteTrackTracker(frame_rate=fps), best=False
        ),
        "roboflow ByteTrack + sv.LineZone best": lambda s: run_supervision(
            s, geometry[s.name], lambda fps: ByteTrackTracker(frame_rate=fps), best=True
        ),
        "roboflow OC-SORT + sv.LineZone best": lambda s: run_supervision(
            s, geometry[s.name], lambda fps: OCSORTTracker(frame_rate=fps), best=True
        ),
    }
    true_total = sum(i + o for per in truth.values() for i, o in per)
    print(f"{len(sequences)} sequences, lines {' and '.join(LINES)}, {true_total} true crossings")
    print(f"{'method':44s} {'counted':>8s} {'error':>6s} {'relative':>9s} {'seconds':>8s}")
    errors: dict[str, int] = {}
    for name, method in methods.items():
        start = time.perf_counter()
        error = counted = 0
        try:
            for seq in sequences:
                for (ti, to), (ci, co) in zip(truth[seq.name], method(seq)):
                    error += abs(ci - ti) + abs(co - to)
                    counted += ci + co
        except ImportError as exc:  # an anchor's optional dependency (e.g. shapely for Ultralytics' counter)
            print(f"{name:44s} skipped: {exc} (pip install {exc.name})")
            continue
        errors[name] = error
        print(f"{name:44s} {counted:8d} {error:6d} {100 * error / true_total:8.1f}% {time.perf_counter() - start:8.1f}")
    ours = errors["vidtrack (run defaults)"]
    anchors = [v for k, v in errors.items() if not k.startswith("vidtrack")]
    if not anchors:
        return
    best_anchor = min(anchors)
    print(f"vidtrack error / best anchor error: {ours} / {best_anchor} = {ours / best_anchor:.2f}x (target <= 0.5x)")


if __name__ == "__main__":
    main()
