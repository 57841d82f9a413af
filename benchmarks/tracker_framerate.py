"""The tracker at lower frame rates: HOTA / IDF1 / ID switches on MOT15 subsampled to every K-th frame.

Each sequence keeps frames 1, 1+K, 1+2K... renumbered, and its ground truth the same way
(``vidtrack eval --subsample K``); every tracker gets the same public detections, frame
by frame, and is told the sequence's rate ``frameRate / K``; TrackEval scores them all
(:func:`vidtrack.evaluation.evaluate_tracker`). Anchors at their default settings:
roboflow ``trackers`` (every tracker the installed version has among ByteTrack, SORT,
OC-SORT, BoT-SORT and C-BIoU) and Ultralytics ``BYTETracker`` with ``bytetrack.yaml``.

    .venv/bin/python benchmarks/tracker_framerate.py [MOT_ROOT] [--k 1 2 3] [--only vidtrack]

Prints one table per K and, last, vidtrack's margin over the best anchor on each score.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np

from vidtrack.evaluation import MotSequence, evaluate_tracker, track_sequence
from vidtrack.tracking import TrackerConfig

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "assets" / "mot" / "MOT15" / "train"
ROBOFLOW = {
    "roboflow ByteTrack": "ByteTrackTracker",
    "roboflow SORT": "SORTTracker",
    "roboflow OC-SORT": "OCSORTTracker",
    "roboflow BoT-SORT": "BoTSORTTracker",
    "roboflow C-BIoU": "CBIoUTracker",
}

Track = Callable[[MotSequence], tuple[np.ndarray, float]]


def _rows(frame: int, xyxy: np.ndarray, ids: np.ndarray, conf: np.ndarray) -> np.ndarray:
    keep = ids >= 0
    out = np.empty((int(np.count_nonzero(keep)), 7))
    out[:, 0] = frame
    out[:, 1] = ids[keep] + 1  # some trackers count ids from 0; MOT ids start at 1
    out[:, 2:6] = xyxy[keep]
    out[:, 6] = conf[keep]
    return out


def roboflow(class_name: str) -> Track:
    import supervision as sv
    import trackers

    make = getattr(trackers, class_name)

    def track(seq: MotSequence) -> tuple[np.ndarray, float]:
        tracker = make(frame_rate=seq.frame_rate)
        chunks = []
        start = time.perf_counter()
        for frame, (b, s, c) in enumerate(zip(seq.boxes, seq.scores, seq.classes), start=1):
            dets = sv.Detections(xyxy=b.astype(np.float32), confidence=s.astype(np.float32), class_id=c.astype(int))
            out = tracker.update(dets)
            if len(out):
                chunks.append(_rows(frame, out.xyxy, np.asarray(out.tracker_id), np.asarray(out.confidence)))
        return (np.concatenate(chunks) if chunks else np.empty((0, 7))), time.perf_counter() - start

    return track


def ultralytics_bytetrack(seq: MotSequence) -> tuple[np.ndarray, float]:
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    from counting_accuracy import _Boxes  # the slice of ultralytics' Boxes BYTETracker reads

    cfg = YAML.load(check_yaml("bytetrack.yaml"))
    try:
        tracker = BYTETracker(SimpleNamespace(**cfg), frame_rate=int(round(seq.frame_rate)))
    except TypeError:  # releases whose BYTETracker takes no frame rate
        tracker = BYTETracker(SimpleNamespace(**cfg))
    chunks = []
    start = time.perf_counter()
    for frame, (b, s, c) in enumerate(zip(seq.boxes, seq.scores, seq.classes), start=1):
        rows = tracker.update(_Boxes(b.astype(np.float32), s.astype(np.float32), c.astype(np.float32)))
        if len(rows):
            rows = np.asarray(rows, dtype=np.float64)
            chunks.append(_rows(frame, rows[:, 0:4], rows[:, 4] - 1, rows[:, 5]))
    return (np.concatenate(chunks) if chunks else np.empty((0, 7))), time.perf_counter() - start


def main() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mot_root", nargs="?", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--k", type=int, nargs="+", default=[1, 2, 3], help="subsampling steps")
    parser.add_argument("--only", nargs="*", help="only trackers whose name contains one of these")
    args = parser.parse_args()

    import trackers

    methods: dict[str, Track] = {"vidtrack": lambda seq: track_sequence(seq, TrackerConfig())}
    for name, class_name in ROBOFLOW.items():
        if hasattr(trackers, class_name):
            methods[name] = roboflow(class_name)
        else:
            print(f"({name}: not in trackers {getattr(trackers, '__version__', '?')})")
    methods["Ultralytics BYTETracker"] = ultralytics_bytetrack
    if args.only:
        methods = {n: m for n, m in methods.items() if any(o.lower() in n.lower() for o in args.only)}

    margins = []
    for k in args.k:
        print(f"\nK={k} (every {k}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(k, 'th')} frame)")
        print(f"  {'tracker':26s} {'HOTA':>6s} {'IDF1':>6s} {'IDSW':>6s} {'frames/s':>9s}")
        scores = {}
        for name, method in methods.items():
            combined = evaluate_tracker(args.mot_root, method, subsample=k).combined
            scores[name] = combined
            print(f"  {name:26s} {combined.hota:6.1f} {combined.idf1:6.1f} {combined.id_switches:6d} "
                  f"{combined.frames_per_second:9,.0f}", flush=True)
        anchors = {n: s for n, s in scores.items() if n != "vidtrack"}
        if "vidtrack" in scores and anchors:
            ours = scores["vidtrack"]
            hota = ours.hota - max(s.hota for s in anchors.values())
            idf1 = ours.idf1 - max(s.idf1 for s in anchors.values())
            margins.append((k, hota, idf1))
    for k, hota, idf1 in margins:
        print(f"K={k}: vidtrack - best anchor: HOTA {hota:+.1f}, IDF1 {idf1:+.1f}")


if __name__ == "__main__":
    main()
