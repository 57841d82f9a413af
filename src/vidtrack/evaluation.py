"""Run the tracker on MOTChallenge sequences and score it with TrackEval.

A sequence folder holds ``det/det.txt`` (public detections), ``gt/gt.txt`` (ground
truth) and ``seqinfo.ini``. The tracker runs on preloaded detections, so the measured
frames/s is the tracker's own; results are written as MOTChallenge rows
``frame,id,x,y,w,h,conf,-1,-1,-1`` to ``OUT/<SEQ>.txt`` and scored with ``trackeval``
(HOTA, CLEAR, Identity) under MOT15 conventions. Nothing here prints: the CLI does.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import numpy as np

from vidtrack.errors import OptionError, VidtrackError, check_option
from vidtrack.tracking import IoUTracker, RefineConfig, TrackerConfig, TrackLog, refine_tracks
from vidtrack.tracking.lookahead import LookAhead
from vidtrack.tracking.assignment import hungarian_solver

if TYPE_CHECKING:
    from vidtrack.analytics.geometry import Segment, Spec
    from vidtrack.analytics.identity import LinkConfig
    from vidtrack.analytics.lines import LineConfig

#: MOTChallenge ground truth is pedestrians only; every detection is class 0 here.
PEDESTRIAN = 0


@dataclass(frozen=True)
class MotSequence:
    """One sequence's detections, preloaded per frame (index 0 is frame 1)."""

    name: str
    path: Path
    length: int
    frame_rate: float
    boxes: tuple[np.ndarray, ...]  # per frame, (N,4) xyxy float64
    scores: tuple[np.ndarray, ...]  # per frame, (N,) float64
    classes: tuple[np.ndarray, ...]  # per frame, (N,) float64 zeros

    @property
    def detection_count(self) -> int:
        """Detections in the whole sequence: rows summed over its frames."""
        return sum(len(s) for s in self.scores)


@dataclass(frozen=True)
class SequenceScore:
    """TrackEval scores (percentages, counts) and tracker timing for one sequence or all."""

    name: str
    frames: int
    hota: float
    det_a: float
    ass_a: float
    mota: float
    idf1: float
    id_switches: int
    false_positives: int
    false_negatives: int
    tracker_seconds: float

    @property
    def frames_per_second(self) -> float:
        """Tracker-only throughput (detections preloaded, I/O excluded)."""
        return self.frames / self.tracker_seconds if self.tracker_seconds > 0 else float("inf")


@dataclass(frozen=True)
class EvalReport:
    """Per-sequence scores plus the combined score over all of them."""

    sequences: tuple[SequenceScore, ...]
    combined: SequenceScore
    out_dir: Path
    refined: bool


# -- reading MOTChallenge folders ---------------------------------------------------------


def find_sequences(mot_root: Path, names: Sequence[str] | None = None) -> list[Path]:
    """Sequence folders under ``mot_root`` (those with ``det/det.txt``), optionally a subset."""
    root = Path(mot_root).expanduser()
    if not root.is_dir():
        raise OptionError(
            f"MOT_ROOT {root} is not a folder", "pass the folder holding the sequences, e.g. .../MOT15/train"
        )
    found = {p.name: p for p in sorted(root.iterdir()) if (p / "det" / "det.txt").is_file()}
    if not found:
        raise OptionError(
            f"no sequences with det/det.txt under {root}", "pass a MOTChallenge split folder, e.g. .../MOT15/train"
        )
    if not names:
        return list(found.values())
    unknown = [n for n in names if n not in found]
    if unknown:
        raise OptionError(f"unknown sequence {', '.join(unknown)}", f"use some of: {', '.join(found)}")
    return [found[n] for n in dict.fromkeys(names)]


def _read_rows(path: Path) -> np.ndarray:
    """A MOTChallenge text file as a float array (at least 7 columns); empty files give (0, 10)."""
    try:
        if path.stat().st_size == 0:
            return np.empty((0, 10))
        rows = np.loadtxt(path, delimiter=",", ndmin=2)
    except (OSError, ValueError) as exc:
        raise VidtrackError(f"cannot read {path} ({exc})", "check it is a MOTChallenge comma-separated file") from exc
    if rows.shape[1] < 7:
        raise VidtrackError(f"{path} has {rows.shape[1]} columns", "MOTChallenge rows need frame,id,x,y,w,h,conf")
    return rows


def subsample_rows(rows: np.ndarray, subsample: int) -> np.ndarray:
    """MOTChallenge rows of frames 1, 1+K, 1+2K... renumbered 1, 2, 3... (``K = subsample``).

    The same rule applies to detections and ground truth, so ``vidtrack eval --subsample K``
    scores a sequence as if it had been recorded (or detected) at ``frameRate / K``.
    """
    if subsample == 1:
        return rows
    frame = rows[:, 0].astype(np.int64)
    rows = rows[(frame - 1) % subsample == 0].copy()
    rows[:, 0] = (rows[:, 0].astype(np.int64) - 1) // subsample + 1
    return rows


def subsampled_length(length: int, subsample: int) -> int:
    """Frames left of a ``length``-frame sequence after keeping every ``subsample``-th (the first kept)."""
    return (length + subsample - 1) // subsample


def load_sequence(path: Path, min_confidence: float = 0.0, subsample: int = 1) -> MotSequence:
    """Read ``seqinfo.ini`` and ``det/det.txt``; drop detections below ``min_confidence``.

    ``subsample`` K keeps frames 1, 1+K, 1+2K... renumbered from 1; the frame rate and
    length are divided accordingly (:func:`subsample_rows`).
    """
    path = Path(path)
    check_option(subsample >= 1, "--subsample", subsample, "use 1 (every frame) or more")
    rows = _read_rows(path / "det" / "det.txt")
    info = configparser.ConfigParser()
    info.read(path / "seqinfo.ini")
    section = info["Sequence"] if info.has_section("Sequence") else {}
    last_frame = int(rows[:, 0].max()) if len(rows) else 0
    length = int(section.get("seqLength", last_frame))
    frame_rate = float(section.get("frameRate", 30))
    rows = rows[(rows[:, 6] >= min_confidence) & (rows[:, 0] >= 1) & (rows[:, 0] <= length)]
    rows = subsample_rows(rows, subsample)
    length, frame_rate = subsampled_length(length, subsample), frame_rate / subsample
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    xyxy = rows[:, 2:6].copy()
    xyxy[:, 2:4] += xyxy[:, 0:2]
    bounds = np.searchsorted(rows[:, 0], np.arange(1, length + 2))
    boxes = tuple(xyxy[a:b] for a, b in zip(bounds[:-1], bounds[1:]))
    scores = tuple(rows[a:b, 6] for a, b in zip(bounds[:-1], bounds[1:]))
    classes = tuple(np.full(len(s), float(PEDESTRIAN)) for s in scores)
    return MotSequence(path.name, path, length, frame_rate, boxes, scores, classes)


# -- tracking -------------------------------------------------------------------------------


def track_sequence(
    sequence: MotSequence, config: TrackerConfig, det_index: bool = False
) -> tuple[np.ndarray, float]:
    """Tracking as ``vidtrack run`` does it on a recorded file: the online tracker plus the
    look-ahead of ``min_hits - 1`` frames that reports each confirmed track from its first
    matched frame (:mod:`vidtrack.tracking.lookahead`).

    Returns rows (frame, id, x1, y1, x2, y2, conf) and the tracker's seconds; with
    ``det_index`` each row also ends with the index of its detection in its frame.
    """
    tracker = IoUTracker(config, frame_rate=sequence.frame_rate)
    stage: LookAhead[tuple[int, np.ndarray, np.ndarray]] = LookAhead(config.min_hits - 1)
    released = []
    start = time.perf_counter()
    for frame, (boxes, scores, classes) in enumerate(
        zip(sequence.boxes, sequence.scores, sequence.classes), start=1
    ):
        index, keys, ids = tracker.step(boxes, scores, classes)
        released.extend(
            stage.push((frame, tracker.last_boxes, scores[index], index), keys, ids, tracker.last_adopted)
        )
    released.extend(stage.flush())
    seconds = time.perf_counter() - start
    chunks = []
    columns = 8 if det_index else 7
    for (frame, boxes, conf, index), ids in released:
        keep = ids > 0
        if np.count_nonzero(keep):
            chunk = np.empty((int(np.count_nonzero(keep)), columns))
            chunk[:, 0] = frame
            chunk[:, 1] = ids[keep]
            chunk[:, 2:6] = boxes[keep]
            chunk[:, 6] = conf[keep]
            if det_index:
                chunk[:, 7] = index[keep]
            chunks.append(chunk)
    return (np.concatenate(chunks) if chunks else np.empty((0, columns))), seconds


def track_sequence_refined(
    sequence: MotSequence, config: TrackerConfig, refine: RefineConfig
) -> tuple[np.ndarray, float]:
    """Online tracking of every frame, then offline refinement of the whole sequence.

    The seconds returned cover the tracker and the refinement together.
    """
    tracker = IoUTracker(config, frame_rate=sequence.frame_rate)
    log = TrackLog()
    start = time.perf_counter()
    for frame, (boxes, scores, classes) in enumerate(
        zip(sequence.boxes, sequence.scores, sequence.classes), start=1
    ):
        det_index, keys, ids = tracker.step(boxes, scores, classes)
        log.add(frame, boxes[det_index], scores[det_index], keys, ids)
    logged = log.rows()
    rows = refine_tracks(logged, refine, tracker.score_rank(logged[:, 7]))
    return rows, time.perf_counter() - start


def write_mot(path: Path, rows: np.ndarray) -> None:
    """Write (frame, id, x1, y1, x2, y2, conf) rows as MOTChallenge ``frame,id,x,y,w,h,conf,-1,-1,-1``."""
    from vidtrack.sinks.data import mot_line

    with open(path, "w", encoding="utf-8") as out:
        for frame, track_id, x1, y1, x2, y2, conf in rows.tolist():
            out.write(mot_line(int(frame), int(track_id), x1, y1, x2, y2, conf))


# -- scoring ------------------------------------------------------------------------------


@contextlib.contextmanager
def _numpy_aliases() -> Iterator[None]:
    """Give numpy back the ``np.float``/``np.int``/``np.bool`` aliases some TrackEval
    releases still use (removed in numpy 1.24), only while TrackEval runs."""
    added = []
    for name, alias in (("float", float), ("int", int), ("bool", bool)):
        if name not in np.__dict__:
            setattr(np, name, alias)
            added.append(name)
    try:
        yield
    finally:
        for name in added:
            delattr(np, name)


def score_sequences(
    mot_root: Path, result_dir: Path, lengths: dict[str, int]
) -> tuple[dict[str, dict], dict]:
    """Score ``result_dir/<SEQ>.txt`` against ``mot_root/<SEQ>/gt/gt.txt`` with TrackEval.

    Returns TrackEval's raw per-sequence results and the combined result, each a dict
    keyed by metric family (``HOTA``, ``CLEAR``, ``Identity``).
    """
    for name in lengths:
        if not (Path(mot_root) / name / "gt" / "gt.txt").is_file():
            raise OptionError(f"sequence {name} has no gt/gt.txt", "eval needs ground truth; pick sequences that have it")
    with _numpy_aliases(), contextlib.redirect_stdout(io.StringIO()):
        try:
            import trackeval
        except ImportError as exc:
            raise VidtrackError("trackeval is not installed", "pip install 'vidtrack[eval]'") from exc
        dataset = trackeval.datasets.MotChallenge2DBox(
            {
                "GT_FOLDER": str(mot_root),
                "TRACKERS_FOLDER": str(Path(result_dir).parent),
                "TRACKERS_TO_EVAL": [Path(result_dir).name],
                "TRACKER_SUB_FOLDER": "",
                "OUTPUT_FOLDER": str(Path(result_dir).parent),
                "BENCHMARK": "MOT15",
                "SPLIT_TO_EVAL": "train",
                "SKIP_SPLIT_FOL": True,
                "SEQ_INFO": dict(lengths),
                "PRINT_CONFIG": False,
            }
        )
        metrics = [
            trackeval.metrics.HOTA({"PRINT_CONFIG": False}),
            trackeval.metrics.CLEAR({"PRINT_CONFIG": False, "THRESHOLD": 0.5}),
            trackeval.metrics.Identity({"PRINT_CONFIG": False, "THRESHOLD": 0.5}),
        ]
        per_sequence: dict[str, dict] = {}
        for name in lengths:
            raw = dataset.get_raw_seq_data(Path(result_dir).name, name)
            data = dataset.get_preprocessed_seq_data(raw, "pedestrian")
            per_sequence[name] = {m.get_name(): m.eval_sequence(data) for m in metrics}
        combined = {
            m.get_name(): m.combine_sequences({n: r[m.get_name()] for n, r in per_sequence.items()}) for m in metrics
        }
    return per_sequence, combined


def _summarise(name: str, frames: int, seconds: float, result: dict) -> SequenceScore:
    hota, clear, identity = result["HOTA"], result["CLEAR"], result["Identity"]
    return SequenceScore(
        name=name,
        frames=frames,
        hota=100.0 * float(np.mean(hota["HOTA"])),
        det_a=100.0 * float(np.mean(hota["DetA"])),
        ass_a=100.0 * float(np.mean(hota["AssA"])),
        mota=100.0 * float(clear["MOTA"]),
        idf1=100.0 * float(identity["IDF1"]),
        id_switches=int(clear["IDSW"]),
        false_positives=int(clear["CLR_FP"]),
        false_negatives=int(clear["CLR_FN"]),
        tracker_seconds=seconds,
    )


def evaluate(
    mot_root: Path,
    sequences: Sequence[str] | None = None,
    config: TrackerConfig | None = None,
    refine: RefineConfig | None = None,
    out_dir: Path | None = None,
    min_confidence: float = 0.0,
    subsample: int = 1,
) -> EvalReport:
    """Track every sequence, write ``out_dir/<SEQ>.txt`` and score them all.

    ``refine`` switches on offline refinement. Without ``out_dir`` the result files go to
    a temporary folder that is removed afterwards (``EvalReport.out_dir`` then no longer
    exists). ``subsample`` K > 1 tracks and scores every K-th frame only (detections and
    ground truth alike, renumbered; the tracker is told the rate, ``frameRate / K``).
    """
    config = config if config is not None else TrackerConfig()

    def track(sequence: MotSequence) -> tuple[np.ndarray, float]:
        if refine is None:
            return track_sequence(sequence, config)
        return track_sequence_refined(sequence, config, refine)

    report = evaluate_tracker(mot_root, track, sequences, out_dir, min_confidence, subsample)
    return EvalReport(report.sequences, report.combined, report.out_dir, refined=refine is not None)


def evaluate_tracker(
    mot_root: Path,
    track: Callable[[MotSequence], tuple[np.ndarray, float]],
    sequences: Sequence[str] | None = None,
    out_dir: Path | None = None,
    min_confidence: float = 0.0,
    subsample: int = 1,
) -> EvalReport:
    """Score any tracker the way :func:`evaluate` scores vidtrack's (the benchmarks' anchors use it).

    ``track(sequence)`` returns rows ``(frame, id, x1, y1, x2, y2, conf)`` and the seconds
    it took. Raises ``OptionError`` for a bad folder, sequence name or value.
    """
    check_option(0.0 <= min_confidence <= 1.0, "--min-conf", min_confidence, "use a value between 0 and 1")
    check_option(subsample >= 1, "--subsample", subsample, "use 1 (every frame) or more")
    hungarian_solver()  # load scipy now, not inside the first sequence's timed loop
    paths = find_sequences(Path(mot_root), sequences)
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vidtrack-eval-")))
        if out_dir is None:
            out = scratch / "results"
        else:
            out = Path(out_dir).expanduser()
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OptionError(f"cannot create --out {out} ({exc.strerror})", "pick a writable folder") from exc
        lengths: dict[str, int] = {}
        seconds: dict[str, float] = {}
        for path in paths:
            sequence = load_sequence(path, min_confidence, subsample)
            rows, took = track(sequence)
            write_mot(out / f"{sequence.name}.txt", rows)
            lengths[sequence.name] = sequence.length
            seconds[sequence.name] = took
        gt_root = paths[0].parent if subsample == 1 else subsampled_ground_truth(paths, subsample, scratch / "gt")
        per_sequence, combined = score_sequences(gt_root, out, lengths)
    scores = tuple(_summarise(n, lengths[n], seconds[n], per_sequence[n]) for n in lengths)
    total = _summarise("COMBINED", sum(lengths.values()), sum(seconds.values()), combined)
    return EvalReport(sequences=scores, combined=total, out_dir=out, refined=False)


def subsampled_ground_truth(paths: Sequence[Path], subsample: int, root: Path) -> Path:
    """Write ``root/<SEQ>/gt/gt.txt`` and ``seqinfo.ini`` holding every ``subsample``-th frame
    of each sequence's ground truth, renumbered (:func:`subsample_rows`); returns ``root``."""
    for path in paths:
        info = configparser.ConfigParser()
        info.optionxform = str  # keep seqLength's capitals
        info.read(path / "seqinfo.ini")
        if not info.has_section("Sequence"):
            info.add_section("Sequence")
        section = info["Sequence"]
        gt = path / "gt" / "gt.txt"
        if not gt.is_file():
            raise OptionError(f"sequence {path.name} has no gt/gt.txt", "eval needs ground truth; pick sequences that have it")
        rows = _read_rows(gt)
        length = int(section.get("seqLength", int(rows[:, 0].max()) if len(rows) else 0))
        section["seqLength"] = str(subsampled_length(length, subsample))
        section["frameRate"] = f"{float(section.get('frameRate', 30)) / subsample:g}"
        target = root / path.name
        (target / "gt").mkdir(parents=True)
        np.savetxt(target / "gt" / "gt.txt", subsample_rows(rows, subsample), delimiter=",", fmt="%.10g")
        with open(target / "seqinfo.ini", "w", encoding="utf-8") as out:
            info.write(out, space_around_delimiters=False)
    return root


# -- line counting accuracy (vidtrack eval --line) ------------------------------------------


@dataclass(frozen=True)
class LineCountScore:
    """True and counted crossings of one line in one sequence, or a sum of such scores.

    A sum keeps the sum of the parts' errors (a miss in one sequence is not cancelled by
    an extra count in another).
    """

    name: str
    true_in: int
    true_out: int
    counted_in: int
    counted_out: int
    summed_error: int | None = None  # set on sums: the parts' errors added up

    @property
    def true_total(self) -> int:
        """True crossings, both directions: ``true_in + true_out``."""
        return self.true_in + self.true_out

    @property
    def counted_total(self) -> int:
        """Counted crossings, both directions: ``counted_in + counted_out``."""
        return self.counted_in + self.counted_out

    @property
    def error(self) -> int:
        """``|in - true in| + |out - true out|`` (for a sum: the sum of the parts' errors)."""
        if self.summed_error is not None:
            return self.summed_error
        return abs(self.counted_in - self.true_in) + abs(self.counted_out - self.true_out)

    @property
    def relative_error(self) -> float:
        """Error as a share of the true crossings (0 when there are none and none were counted)."""
        return self.error / self.true_total if self.true_total else (0.0 if self.error == 0 else float("inf"))

    def __add__(self, other: "LineCountScore") -> "LineCountScore":
        return LineCountScore(
            "TOTAL", self.true_in + other.true_in, self.true_out + other.true_out,
            self.counted_in + other.counted_in, self.counted_out + other.counted_out, self.error + other.error,
        )


def sequence_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels from ``seqinfo.ini``."""
    info = configparser.ConfigParser()
    info.read(Path(path) / "seqinfo.ini")
    if not info.has_section("Sequence") or "imWidth" not in info["Sequence"]:
        raise OptionError(f"{path}/seqinfo.ini gives no imWidth/imHeight", "--line needs the frame size of each sequence")
    return int(info["Sequence"]["imWidth"]), int(info["Sequence"]["imHeight"])


def true_crossings(gt_path: Path, segment: "Segment") -> tuple[int, int]:
    """(in, out) crossings of ``segment`` in a MOTChallenge ``gt.txt``.

    The definition: rows with confidence 0 are ignored (as in MOT evaluation); each
    ground-truth id counts at most once per direction, when its box's bottom-centre goes
    from one side of the segment to the other between two consecutive observations of
    that id (the step between them meets the segment). An observation whose bottom-centre
    lies exactly on the line takes no side: it is skipped, and the test is made between the
    sided observations before and after it (on MOT15's 7 training sequences and the lines
    ``0.5,0,0.5,1`` and ``0,0.6,1,0.6`` this gives 152 crossings).
    """
    rows = _read_rows(gt_path)
    rows = rows[rows[:, 6] != 0]
    rows = rows[np.lexsort((rows[:, 0], rows[:, 1]))]
    anchors = np.stack([rows[:, 2] + rows[:, 4] / 2, rows[:, 3] + rows[:, 5]], axis=1)
    side = segment.signed_distance(anchors)
    sided = side != 0.0  # an anchor exactly on the line takes no side: skipped
    rows, anchors, side = rows[sided], anchors[sided], side[sided]
    counted: dict[int, set[str]] = {}
    for i in range(1, len(rows)):
        if rows[i, 1] != rows[i - 1, 1] or (side[i] > 0) == (side[i - 1] > 0):
            continue
        p, q = (anchors[i - 1, 0], anchors[i - 1, 1]), (anchors[i, 0], anchors[i, 1])
        if segment.crossing_fraction(p, q) is None:
            continue
        counted.setdefault(int(rows[i, 1]), set()).add("in" if side[i] > 0 else "out")
    ins = sum("in" in s for s in counted.values())
    outs = sum("out" in s for s in counted.values())
    return ins, outs


def count_sequence_lines(
    sequence: MotSequence,
    lines: Sequence[tuple[str, "Segment"]],
    config: TrackerConfig,
    line_config: "LineConfig | None" = None,
    link_config: "LinkConfig | None" = None,
) -> list[LineCountScore]:
    """Track ``det/det.txt`` as ``vidtrack run`` does on a file (look-ahead, boxes clipped to the
    frame) and count crossings with the product's line counter; compare with the ground truth.

    As in ``run``, the counter also gets each frame's detections that are in no reported
    track (:mod:`vidtrack.analytics.backfill`), clipped to the frame like the tracks."""
    from vidtrack.analytics.scene import count_crossings

    rows, _ = track_sequence(sequence, config, det_index=True)
    width, height = sequence_size(sequence.path)

    def clip(boxes: np.ndarray) -> np.ndarray:
        boxes = boxes.copy()
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
        return boxes

    rows[:, 2:6] = clip(rows[:, 2:6])
    bounds = np.searchsorted(rows[:, 0], np.arange(1, sequence.length + 2))

    def frames() -> Iterator[tuple[float, np.ndarray, np.ndarray, np.ndarray]]:
        for index in range(sequence.length):
            chunk = rows[bounds[index] : bounds[index + 1]]
            free = np.ones(len(sequence.boxes[index]), dtype=bool)
            free[chunk[:, 7].astype(np.int64)] = False
            yield index / sequence.frame_rate, chunk[:, 1].astype(np.int64), chunk[:, 2:6], clip(sequence.boxes[index][free])

    scene = count_crossings(frames(), lines, line_config, link_config)
    gt = sequence.path / "gt" / "gt.txt"
    if not gt.is_file():
        raise OptionError(f"sequence {sequence.name} has no gt/gt.txt", "--line needs ground truth")
    scores = []
    for (name, segment), counter in zip(lines, scene.lines):
        true_in, true_out = true_crossings(gt, segment)
        scores.append(LineCountScore(f"{sequence.name} {name}", true_in, true_out, counter.total_in, counter.total_out))
    return scores


def sequence_lines(path: Path, specs: Sequence["Spec"]) -> list[tuple[str, "Segment"]]:
    """``--line`` specs put on a sequence's frame (named by their text unless they carry a name)."""
    from vidtrack.analytics.geometry import Segment

    width, height = sequence_size(path)
    out = []
    for spec in specs:
        a, b = spec.points(width, height)
        out.append((spec.name or spec.text, Segment(a, b)))
    return out
