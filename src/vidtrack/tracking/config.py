"""Tracker and offline-refinement settings as frozen dataclasses, validated once.

Every field says what raising it does, once, in its help text (``knob``). The defaults are one principled set used by
``vidtrack run`` and ``vidtrack eval`` alike; they are not tuned per sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from vidtrack.config import CMC_MODES
from vidtrack.errors import check_option



#: The frame rate ``position_gain`` and ``velocity_gain`` are stated at (frames/s).
GAIN_RATE = 30.0


def knob(default: Any, help: str) -> Any:
    """A tracker setting: its default and its one-line help (what raising it does), written once.

    The CLI builds ``--flag`` options from these (``vidtrack.cli.tracker_options``) and a test
    checks the README's tracker table against them; the comments above each field say why.
    """
    return field(default=default, metadata={"help": help})


def knob_help(name: str) -> str:
    """The help text of the :class:`TrackerConfig` setting ``name``."""
    return next(f.metadata["help"] for f in fields(TrackerConfig) if f.name == name)


@dataclass(frozen=True)
class TrackerConfig:
    """Online IoU tracker settings.

    Association is IoU between each detection and where the track's box is predicted to
    be (constant velocity, alpha-beta filtered). Detections are split by confidence:
    confident ones are matched first and may start tracks; weak ones may only extend existing tracks, with a
    stricter overlap test (ByteTrack's idea: a weak box overlapping a live track is
    usually a real, partly occluded object, a weak box anywhere else usually is not).

    Confidence settings are *score ranks*, not raw scores: the share of the scores this
    tracker has seen so far that a detection's score is at or above (see
    :mod:`vidtrack.tracking.scores`). Raw scores mean different things for different
    detectors (MOT15's Faster R-CNN: median 0.97, never below 0.5; YOLO11n INT8: real
    persons 0.25-0.89, median 0.7), ranks mean the same for all of them, so one default
    set serves ``vidtrack run`` and ``vidtrack eval`` alike. When all scores are equal
    (e.g. ground truth) every detection ranks 1.0. A raw floor belongs to the detector
    (``run --conf``, ``eval --min-conf``).

    Trade-offs of ranks: the bottom ``high_score_rank`` of any detector's distinct scores
    is treated as weak even when all its boxes are good (such boxes still extend tracks),
    and lowering the detector's raw floor feeds junk into the bottom of the
    distribution, which lifts every real detection's rank (raise ``--conf`` instead of
    the ranks to keep junk out).
    """

    # Applies to confident detections; a missed match means an id switch after the miss.
    iou_threshold: float = knob(
        0.3,
        "Minimum IoU between a detection and a track's predicted box to match. Raise: fewer wrong matches "
        "between neighbours; lower: fast objects keep their ids.",
    )
    # C-BIoU (Yang et al., WACV 2023): a second pass with widened boxes for what the plain
    # IoU pass left unmatched. 0 switches the pass off.
    iou_buffer: float = knob(
        0.3,
        "Second matching pass for confident detections left over: both boxes widened by this share of "
        "their size on each side. Raise: fast movers and low frame rates keep ids; neighbours swap more.",
    )
    # A track seen once has no velocity: the motion-aware gate of a tentative track's second
    # match. Per frame: at lower rates objects move further, which the gate is meant for.
    # 2 box sizes: a rider at 30 fps moves ~45 px a frame on a ~30 px box (overpass clip);
    # MOT15 at K=1,2,3 is unchanged or better from 1 to 2. Tracks with a velocity are
    # gated at half of it against their prediction (a fast, decelerating car overlaps its
    # prediction too little for the IoU passes).
    new_track_gate: float = knob(
        2.0,
        "How far (in box sizes, centre to centre) a track seen once may have moved to take a detection it "
        "no longer overlaps (tracks with a velocity: half of it, from their prediction); 0 = off. Raise: "
        "fast movers are picked up; neighbours merge more.",
    )
    low_iou_threshold: float = knob(
        0.5,
        "Minimum IoU for a weak detection (ranked below --high-score-rank) to extend a track. Raise: weak "
        "false boxes latch on less; lower: partly occluded objects keep their track.",
    )
    # 0.15 is a raw 0.76 on MOT15's Faster R-CNN boxes.
    high_score_rank: float = knob(
        0.15,
        "Detections whose score ranks at least this high among the detector's scores seen so far (0-1; "
        "0.15 = all but its bottom 15%) are matched first; weaker ones need --low-iou-threshold. Ranks, "
        "not raw scores, so one value suits any detector. Raise: fewer false matches, more misses.",
    )
    min_score_rank: float = knob(
        0.0,
        "The tracker ignores detections ranking below this among the detector's scores (0 = keep all). "
        "Raise: fewer false matches, fewer boxes kept through occlusions.",
    )
    # 0.35 is a raw 0.93 on MOT15's detections, 0.39-0.71 on YOLO11n videos at --conf 0.25.
    # An object's weaker frames still extend its track once it exists, so it is lost only
    # if it never ranks this high.
    new_track_score_rank: float = knob(
        0.35,
        "Score rank (0-1) a detection needs to start a new track (0.35 = the detector's top 65%). Raise: "
        "fewer spurious tracks, objects picked up later.",
    )
    min_hits: int = knob(
        3,
        "Consecutive matched frames before a track is shown with an id. Raise: fewer short false tracks, "
        "objects appear later.",
    )
    # An unseen track is not reported meanwhile; tentative tracks die on their first miss.
    # In seconds, so one default serves 5-60 fps (the tracker converts with the video's rate).
    max_age: float = knob(
        1.0,
        "Seconds a track survives unseen (x the frame rate = frames). Raise: ids survive longer "
        "occlusions; lost tracks may steal nearby newcomers.",
    )
    # The share of the prediction error a new observation corrects (alpha-beta filter).
    # 0.5 (was 0.6): MOT15 HOTA/IDF1 up at K=1,2,3 and K=1 ID switches 188 -> 164; the lag it
    # adds on fast movers is bounded by reporting the detection's own box when the filtered
    # one overlaps it below IoU 0.6 (tracker.LAG_IOU).
    position_gain: float = knob(
        0.5,
        "How much each detection corrects the track's box (0-1, at 30 fps; kept as a lag in seconds at other "
        "rates). Raise: follows the detector (and its jitter); lower: steadier boxes that lag (never below "
        "IoU 0.6 with the detection: then its own box is reported).",
    )
    # Too high and coasting tracks drift with the jitter they took for motion.
    velocity_gain: float = knob(
        0.05,
        "How much each detection corrects the track's velocity (0-1, at 30 fps; x sqrt(30/fps) at other rates). Raise: reacts to turns faster, "
        "jitter becomes motion; lower: smoother prediction.",
    )
    # Filtered boxes fit better (MOT15: +1.5 MOTA, +0.7 HOTA) but lag a little, which costs
    # about 5 HOTA when the boxes are already perfect (ground truth as detections). The raw
    # box is always reachable through ``data["det_index"]``.
    smooth_boxes: bool = knob(
        True,
        "Report the tracks' filtered (steadier) boxes; off (--raw-boxes): the detector's boxes unchanged.",
    )
    # The estimate is a separate stage (vidtrack.motion, OpenCV); the tracker only applies
    # the affine it is handed. auto: a pair of frames a second is checked while the picture
    # stands still (near zero cost), every frame once it moves.
    cmc: str = knob(
        "auto",
        "Camera motion compensation: off, auto (on while the picture moves) or on. Raise: (off, auto, on) "
        "ids survive pans and shakes; costs a few ms per frame while estimating.",
    )
    # Older detections fade out by halving.
    score_memory: int = knob(
        10_000,
        "Detections the score ranking remembers (older ones fade). Raise: steadier ranks; lower: ranks "
        "adapt sooner when the scene or detector changes.",
    )

    def __post_init__(self) -> None:
        for flag, value in (
            ("--iou-threshold", self.iou_threshold),
            ("--low-iou-threshold", self.low_iou_threshold),
            ("--high-score-rank", self.high_score_rank),
            ("--min-score-rank", self.min_score_rank),
            ("--new-track-score-rank", self.new_track_score_rank),
            ("--position-gain", self.position_gain),
            ("--velocity-gain", self.velocity_gain),
            ("--iou-buffer", self.iou_buffer),
        ):
            check_option(0.0 <= value <= 1.0, flag, value, "use a value between 0 and 1")
        check_option(0.0 <= self.new_track_gate <= 5.0, "--new-track-gate", self.new_track_gate, "use 0 (off) to 5 box sizes")
        check_option(self.iou_threshold > 0, "--iou-threshold", self.iou_threshold, "use a value above 0, e.g. 0.3")
        check_option(self.low_iou_threshold > 0, "--low-iou-threshold", self.low_iou_threshold, "use e.g. 0.5")
        check_option(self.min_hits >= 1, "--min-hits", self.min_hits, "use 1 or more (1 reports tracks at once)")
        check_option(self.max_age >= 0, "--max-age", self.max_age, "use 0 or more seconds, e.g. 1")
        check_option(self.cmc in CMC_MODES, "--cmc", self.cmc, "use auto, on or off")
        check_option(self.score_memory >= 1, "--score-memory", self.score_memory, "use e.g. 10000 detections")


    def gains_at(self, frame_rate: float) -> tuple[float, float]:
        """``(position_gain, velocity_gain)`` per frame at ``frame_rate``, for the same time
        constants the settings have at :data:`GAIN_RATE` frames/s.

        A box filtered with gain a lags the detections by ``(1 - a) / a`` frames; the lag in
        *seconds* is kept (at 10 fps, 0.6 becomes 0.82). The velocity gain rises with the
        square root of the frame interval (at 10 fps, 0.05 becomes 0.087): fewer frames a
        second must each count more, but each carries as much detector jitter as before.
        Chosen by measurement (MOT15 subsampled to every 2nd and 3rd frame: the square root
        beat both a fixed per-frame gain and a fixed time constant at every rate; see
        docs/perf/tracker-framerate.md).
        """
        scale = frame_rate / GAIN_RATE
        a = self.position_gain
        position = a if a in (0.0, 1.0) else 1.0 / (1.0 + scale * (1.0 - a) / a)
        velocity = min(1.0, self.velocity_gain / scale**0.5)
        return position, velocity

    def max_age_frames(self, frame_rate: float) -> int:
        """``max_age`` in frames at ``frame_rate`` frames/s (rounded; at least 0)."""
        return max(0, int(round(self.max_age * frame_rate)))


@dataclass(frozen=True)
class RefineConfig:
    """Offline refinement of finished tracks (recorded video only: it needs the future)."""

    # Fill gaps of at most this many frames inside a track by linear interpolation.
    # Raise: bridges longer occlusions (more recall), but straight lines drift from
    # objects that turned, adding false positives.
    max_gap: int = 10
    # Tracks with fewer observed (not interpolated) boxes than this are dropped unless
    # they are confident. Raise: fewer false tracks, real short tracks lost too.
    min_length: int = 10
    # A short track is kept anyway when the mean score rank of its detections (share of
    # the detector's scores below them, see TrackerConfig) reaches this. Raise: fewer
    # short false tracks survive, and fewer short real ones.
    keep_score_rank: float = 0.3
    # Also report the tentative boxes a track had before it was confirmed (online, they
    # cannot be shown because confirmation is not known yet).
    backfill: bool = True
    # Centred moving average over this many observed boxes of a track (1 = off). Raise:
    # steadier, better-fitting boxes; too high: corners cut when the object turns.
    smooth_window: int = 5

    def __post_init__(self) -> None:
        check_option(self.max_gap >= 0, "--refine-max-gap", self.max_gap, "use 0 or more frames")
        check_option(self.min_length >= 1, "--refine-min-length", self.min_length, "use 1 or more")
        check_option(self.smooth_window >= 1, "--refine-smooth-window", self.smooth_window, "use 1 (off) or more")
        check_option(0.0 <= self.keep_score_rank <= 1.0, "--refine-keep-score-rank", self.keep_score_rank, "use 0..1")
