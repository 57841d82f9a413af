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

Same-run baseline (``--against REV``, default :data:`ISSUE_DAY`, the commit issue 19 was filed
at): that commit's ``src/`` is extracted with ``git archive`` into a temporary folder and its
tracker is timed in a subprocess on the very same frames (handed over as arrays, not re-read),
driven as that commit's own ``tracker_speed.py`` drove it (``IoUTracker(TrackerConfig())``,
``update_arrays`` per frame, and ``update`` on the same ``sv.Detections``), alternating with
today's tracker sequence by sequence (the order flips each time), ByteTrack once per rep. The issue's absolute figure (14,300 frames/s "on an
AMD EPYC") was taken on another machine; the old tracker's rate here says what it corresponds
to on this one. A clone without that commit (a shallow CI clone) skips the row with a
one-line note. ``--against none`` skips it too.

    .venv/bin/python benchmarks/tracker_speed.py [MOT_ROOT] [--reps 5] [--clock cpu|wall] [--against REV]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import supervision as sv

from vidtrack.evaluation import find_sequences, load_sequence
from vidtrack.tracking import IoUTracker, TrackerConfig
from vidtrack.tracking.assignment import hungarian_solver

clock = time.thread_time

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = REPO.parent / "shared" / "assets" / "mot" / "MOT15" / "train"

#: The commit issue 19 was filed at ("today 14,300 frames/s and 4.0x on an AMD EPYC").
ISSUE_DAY = "a39230a"
ISSUE_FPS = 14_300  # the issue's figure for that commit's tracker, on the filer's machine
TARGET_FPS = 20_000

# The old tracker's side of the same-run baseline, run with only the old src/ on sys.path.
# It reads the frames the parent loaded, then answers one line per request on stdin:
# "arrays K" or "sv K" -> the seconds one pass over sequence K took (as the parent times it).
_WORKER = r"""
import json, pickle, sys, time
import numpy as np
import supervision as sv
import vidtrack.tracking.tracker as tracker_module
from vidtrack.tracking import IoUTracker, TrackerConfig
try:
    from vidtrack.tracking.assignment import hungarian_solver
    hungarian_solver()
except ImportError:
    pass
with open(sys.argv[1], "rb") as f:
    sequences = pickle.load(f)
clock = time.thread_time if sys.argv[2] == "cpu" else time.perf_counter
as_detections = [
    [sv.Detections(xyxy=b.astype(np.float32), confidence=s.astype(np.float32), class_id=c.astype(int))
     for b, s, c in zip(*seq)]
    for seq in sequences
]
has_arrays = hasattr(IoUTracker, "update_arrays")
print(json.dumps({"module": tracker_module.__file__, "update_arrays": has_arrays}), flush=True)
for line in sys.stdin:
    call, k = line.split()
    if call == "arrays":
        update = IoUTracker(TrackerConfig()).update_arrays
        start = clock()
        for b, s, c in zip(*sequences[int(k)]):
            update(b, s, c)
    else:
        update = IoUTracker(TrackerConfig()).update
        start = clock()
        for d in as_detections[int(k)]:
            update(d)
    print(clock() - start, flush=True)
"""


class OldTracker:
    """The tracker of an older commit, timed in a subprocess on the same frames as today's."""

    def __init__(self, rev: str, sequences: list, clock_name: str) -> None:
        """Extract ``rev``'s ``src/`` into a temporary folder and start the worker on it.
        Raises LookupError (with the reason) when this clone cannot provide that commit."""
        try:
            found = subprocess.run(
                ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                capture_output=True, text=True,
            )
        except OSError as exc:  # no git at all
            raise LookupError(f"git not available ({exc})") from exc
        if found.returncode != 0:
            shallow = subprocess.run(
                ["git", "-C", str(REPO), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True
            ).stdout.strip() == "true"
            raise LookupError(f"commit {rev} is not in this clone" + (" (a shallow clone)" if shallow else ""))
        self.commit = found.stdout.strip()[:12]
        self._tmp = tempfile.TemporaryDirectory(prefix="tracker-speed-")
        root = Path(self._tmp.name)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", self.commit, "src"], capture_output=True, check=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(root, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        data = root / "frames.pickle"
        with open(data, "wb") as f:
            pickle.dump([(seq.boxes, seq.scores, seq.classes) for seq in sequences], f)
        env = {**os.environ, "PYTHONPATH": str(root / "src")}  # the old package only
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(data), clock_name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=root,
        )
        hello = json.loads(self._proc.stdout.readline() or "null")
        if not hello or not Path(hello["module"]).resolve().is_relative_to(root.resolve()):
            self.close()
            raise LookupError(f"the worker did not load {rev}'s tracker ({hello})")
        self.has_update_arrays = bool(hello["update_arrays"])

    def seconds(self, call: str, k: int) -> float:
        """One pass over sequence ``k`` with ``call`` ("arrays" or "sv"), in the worker's clock."""
        self._proc.stdin.write(f"{call} {k}\n")
        self._proc.stdin.flush()
        return float(self._proc.stdout.readline())

    def close(self) -> None:
        """Stop the worker and delete the extracted sources."""
        if self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait(timeout=30)
        self._tmp.cleanup()


def time_vidtrack_arrays(seq: object) -> float:
    """Seconds of ``update_arrays`` over one sequence's frames, a new tracker."""
    update = IoUTracker(TrackerConfig()).update_arrays
    start = clock()
    for boxes, scores, classes in zip(seq.boxes, seq.scores, seq.classes):
        update(boxes, scores, classes)
    return clock() - start


def time_vidtrack_detections(frames: list[sv.Detections]) -> float:
    """Seconds of ``update(sv.Detections)`` over one sequence's frames, a new tracker."""
    update = IoUTracker(TrackerConfig()).update
    start = clock()
    for detections in frames:
        update(detections)
    return clock() - start


def time_bytetrack(frames_per_seq: list[list[sv.Detections]], rates: list[float]) -> float:
    """Seconds of roboflow ByteTrack over every sequence, a new tracker each, at its frame rate."""
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
    """Load the sequences, time every tracker rep by rep, print the medians and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mot_root", nargs="?", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--reps", type=int, default=5, help="runs per tracker; the median is reported")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="thread CPU time or wall time")
    parser.add_argument(
        "--against", default=ISSUE_DAY, metavar="REV",
        help=f"also time the tracker of this commit on the same frames (default {ISSUE_DAY}, issue 19's day; "
        "'none' skips it)",
    )
    args = parser.parse_args()
    global clock
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter

    if not args.mot_root.is_dir():
        print(f"error: MOT_ROOT {args.mot_root} is not a folder: pass the MOTChallenge train folder, "
              "e.g. ../shared/assets/mot/MOT15/train", file=sys.stderr)
        sys.exit(2)
    try:
        import trackers  # noqa: F401  (roboflow ByteTrack, the baseline)
    except ImportError:
        print("error: the baseline needs roboflow `trackers`: pip install -e '.[dev]' (or pip install trackers)",
              file=sys.stderr)
        sys.exit(2)
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

    old = None
    if args.against.lower() not in ("", "none"):
        try:
            old = OldTracker(args.against, sequences, args.clock)
        except LookupError as exc:
            print(f"issue-day tracker row skipped: {exc}")
    old_arrays = f"{args.against} update_arrays"
    old_sv = f"{args.against} update(sv)"

    runs: dict[str, list[float]] = {"vidtrack update_arrays": [], "vidtrack update(sv)": [], "roboflow ByteTrack": []}
    if old is not None:
        runs.update({old_arrays: [], old_sv: []} if old.has_update_arrays else {old_sv: []})
    try:
        for rep in range(args.reps):  # interleaved, so background load hits all alike
            # today's tracker and the old one alternate sequence by sequence (the order flips),
            # so a slow second of this shared machine lands on both
            seconds = dict.fromkeys(runs, 0.0)
            for k, seq in enumerate(sequences):
                timers = [
                    ("vidtrack update_arrays", lambda: time_vidtrack_arrays(seq),
                     old_arrays if old is not None and old.has_update_arrays else None, "arrays"),
                    ("vidtrack update(sv)", lambda: time_vidtrack_detections(as_detections[k]),
                     old_sv if old is not None else None, "sv"),
                ]
                for name, timed, old_name, call in timers:
                    if old_name is not None and (rep + k) % 2:
                        seconds[old_name] += old.seconds(call, k)
                    seconds[name] += timed()
                    if old_name is not None and not (rep + k) % 2:
                        seconds[old_name] += old.seconds(call, k)
            seconds["roboflow ByteTrack"] = time_bytetrack(as_detections, rates)
            for name, value in seconds.items():
                runs[name].append(frames / value)
    finally:
        if old is not None:
            old.close()

    print(f"{len(sequences)} sequences, {frames} frames, {sum(s.detection_count for s in sequences)} detections, "
          f"median of {args.reps} runs, {args.clock} time")
    medians = {name: statistics.median(values) for name, values in runs.items()}
    for name, fps in medians.items():
        print(f"  {name:24s} {fps:10,.0f} frames/s")
    base = medians["roboflow ByteTrack"]
    print(f"ratio vidtrack update_arrays / ByteTrack: {medians['vidtrack update_arrays'] / base:.2f}x (issue 19: >= 5x)")
    print(f"ratio vidtrack update(sv)    / ByteTrack: {medians['vidtrack update(sv)'] / base:.2f}x")
    if old is None:
        return
    if old.has_update_arrays:
        today, then, call = medians["vidtrack update_arrays"], medians[old_arrays], "update_arrays"
        paired = statistics.median(a / b for a, b in zip(runs["vidtrack update_arrays"], runs[old_arrays]))
    else:  # compare the call that existed then
        today, then, call = medians["vidtrack update(sv)"], medians[old_sv], "update(sv)"
        paired = statistics.median(a / b for a, b in zip(runs["vidtrack update(sv)"], runs[old_sv]))
        print(f"({args.against} has no update_arrays: update(sv) is compared)")
    day = " (issue day)" if old.commit.startswith(ISSUE_DAY) else ""
    print(f"ratio {args.against}{day} {call} / ByteTrack: {then / base:.2f}x")
    if old.has_update_arrays:
        print(f"ratio vidtrack / {args.against} update(sv): {medians['vidtrack update(sv)'] / medians[old_sv]:.2f}x")
    if day:
        print(issue_day_line(today, then, call, paired))
    else:
        print(f"today's tracker is {today / then:.2f}x the {args.against} tracker ({call}; median of the per-rep "
              f"ratios {paired:.2f}x)")


def issue_day_line(today: float, then: float, call: str, paired: float) -> str:
    """What the issue's figures mean on this machine, from today's and the issue-day tracker's
    frames/s measured in the same run."""
    return (
        f"the issue's {ISSUE_FPS:,} frames/s on the filer's machine corresponds to {then:,.0f} frames/s here, "
        f"so {TARGET_FPS:,} there ~ {TARGET_FPS:,}/{ISSUE_FPS:,} x {then:,.0f} = {TARGET_FPS / ISSUE_FPS * then:,.0f} "
        f"here; today's tracker is {today / then:.2f}x the issue-day tracker ({call}; target >= "
        f"{TARGET_FPS / ISSUE_FPS:.2f}x; median of the per-rep ratios {paired:.2f}x)"
    )

if __name__ == "__main__":
    main()
