"""Tracker-only throughput on the seven MOT15 sequences: vidtrack vs roboflow ByteTrack.

Detections are preloaded (reading files is not timed). Each tracker runs over all seven
sequences several times; the median run is reported, both measured in this same process
so the ratio is fair on a noisy machine. vidtrack is timed at its numpy level
(``update_arrays``, what ``vidtrack eval`` times) and through ``update(sv.Detections)``
(what the pipeline calls); ByteTrack can only be called with ``sv.Detections``.

Time is the thread's CPU time by default (``--clock cpu``, ``time.thread_time``): all
three trackers are single-threaded Python/numpy, so on an idle machine it equals the wall
time, and on a shared one (the 2-core development box runs several jobs) the time this
process waited for a core is left out, which wall-clock medians cannot do (there the
ratio moved between 2.5x and 6x from one run to the next). ``--clock wall`` times with
``time.perf_counter``.

    .venv/bin/python benchmarks/tracker_speed.py [MOT_ROOT] [--reps 5] [--clock cpu|wall]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import supervision as sv

from vidtrack.evaluation import find_sequences, load_sequence
from vidtrack.tracking import IoUTracker, TrackerConfig
from vidtrack.tracking.assignment import hungarian_solver

clock = time.thread_time

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "assets" / "mot" / "MOT15" / "train"


def time_vidtrack_arrays(sequences: list) -> float:
    seconds = 0.0
    for seq in sequences:
        update = IoUTracker(TrackerConfig()).update_arrays
        start = clock()
        for boxes, scores, classes in zip(seq.boxes, seq.scores, seq.classes):
            update(boxes, scores, classes)
        seconds += clock() - start
    return seconds


def time_vidtrack_detections(frames_per_seq: list[list[sv.Detections]]) -> float:
    seconds = 0.0
    for frames in frames_per_seq:
        tracker = IoUTracker(TrackerConfig())
        start = clock()
        for detections in frames:
            tracker.update(detections)
        seconds += clock() - start
    return seconds


def time_bytetrack(frames_per_seq: list[list[sv.Detections]], rates: list[float]) -> float:
    from trackers import ByteTrackTracker

    seconds = 0.0
    for frames, rate in zip(frames_per_seq, rates):
        tracker = ByteTrackTracker(frame_rate=rate)
        start = clock()
        for detections in frames:
            tracker.update(detections)
        seconds += clock() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mot_root", nargs="?", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--reps", type=int, default=5, help="runs per tracker; the median is reported")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="thread CPU time or wall time")
    args = parser.parse_args()
    global clock
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter

    sequences = [load_sequence(p) for p in find_sequences(args.mot_root)]
    frames = sum(s.length for s in sequences)
    as_detections = [
        [
            sv.Detections(xyxy=b.astype(np.float32), confidence=s.astype(np.float32), class_id=c.astype(int))
            for b, s, c in zip(seq.boxes, seq.scores, seq.classes)
        ]
        for seq in sequences
    ]
    rates = [seq.frame_rate for seq in sequences]
    hungarian_solver()  # import scipy before timing (ByteTrack has it loaded already)

    runs: dict[str, list[float]] = {"vidtrack update_arrays": [], "vidtrack update(sv)": [], "roboflow ByteTrack": []}
    for _ in range(args.reps):  # interleaved, so background load hits all alike
        runs["vidtrack update_arrays"].append(frames / time_vidtrack_arrays(sequences))
        runs["vidtrack update(sv)"].append(frames / time_vidtrack_detections(as_detections))
        runs["roboflow ByteTrack"].append(frames / time_bytetrack(as_detections, rates))

    print(f"{len(sequences)} sequences, {frames} frames, {sum(s.detection_count for s in sequences)} detections, "
          f"median of {args.reps} runs, {args.clock} time")
    medians = {name: statistics.median(values) for name, values in runs.items()}
    for name, fps in medians.items():
        print(f"  {name:24s} {fps:10,.0f} frames/s")
    base = medians["roboflow ByteTrack"]
    print(f"ratio vidtrack update_arrays / ByteTrack: {medians['vidtrack update_arrays'] / base:.2f}x")
    print(f"ratio vidtrack update(sv)    / ByteTrack: {medians['vidtrack update(sv)'] / base:.2f}x")


if __name__ == "__main__":
    main()
