"""Tracker and offline-refinement settings as frozen dataclasses, validated once.

Every field says what raising it does. The defaults are one principled set used by
``vidtrack run`` and ``vidtrack eval`` alike; they are not tuned per sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

from vidtrack.errors import OptionError


def _check(ok: bool, flag: str, value: object, fix: str) -> None:
    if not ok:
        raise OptionError(f"{flag} {value} is out of range", fix)


@dataclass(frozen=True)
class TrackerConfig:
    """Online IoU tracker settings.

    Association is IoU between each detection and where the track's box is predicted to
    be (constant velocity, alpha-beta filtered). Detections are split by confidence: confident ones are
    matched first and may start tracks; weak ones may only extend existing tracks, with a
    stricter overlap test (ByteTrack's idea: a weak box overlapping a live track is
    usually a real, partly occluded object, a weak box anywhere else usually is not).
    """

    # Minimum IoU between a confident detection and a track's predicted box to match them.
    # Raise: fewer wrong matches between neighbours, but fast or jittery objects lose their
    # track (more id switches after misses). Lower: the opposite.
    iou_threshold: float = 0.3
    # Minimum IoU for a weak detection (confidence below high_confidence) to extend a track.
    # Raise: weak false positives latch onto tracks less often; lower: more partly
    # occluded objects keep their track.
    low_iou_threshold: float = 0.5
    # Detections at or above this confidence are "confident": they are matched first.
    # Raise: more detections have to pass the stricter low_iou_threshold (fewer false
    # matches, more missed ones).
    high_confidence: float = 0.7
    # Detections below this confidence are ignored entirely. Raise: fewer false matches,
    # fewer boxes kept through occlusions.
    min_confidence: float = 0.1
    # A new track needs a detection at least this confident. Raise: fewer spurious tracks
    # (higher precision), real objects are picked up later or not at all (lower recall).
    new_track_confidence: float = 0.9
    # Consecutive matched frames before a track is confirmed and reported with an id.
    # Raise: fewer short false tracks, every object appears this many frames late.
    min_hits: int = 3
    # Frames a confirmed track survives without a match (it is not reported meanwhile),
    # so it can pick its object up again after an occlusion. Raise: ids survive longer
    # occlusions, but a lost track may steal a newcomer nearby. Tentative tracks die on
    # their first miss.
    max_age: int = 30
    # Share of the prediction error a new observation corrects in the track's box (0..1).
    # Raise: the box follows the detector closely (jitter included); lower: steadier
    # boxes that lag behind sudden changes.
    position_gain: float = 0.6
    # Share of the prediction error (per frame) that corrects the track's velocity.
    # Raise: reacts faster to turns and speed changes, but detector jitter becomes motion
    # and coasting tracks drift; lower: smoother, slower-reacting prediction.
    velocity_gain: float = 0.05
    # Report each track's filtered box instead of the raw detection box. Steadier boxes
    # that usually fit the object better; turn off to get the detector's boxes unchanged
    # (the raw box is always reachable through ``data["det_index"]``).
    smooth_boxes: bool = True

    def __post_init__(self) -> None:
        for flag, value in (
            ("--iou-threshold", self.iou_threshold),
            ("--low-iou-threshold", self.low_iou_threshold),
            ("--high-confidence", self.high_confidence),
            ("--min-confidence", self.min_confidence),
            ("--new-track-confidence", self.new_track_confidence),
            ("--position-gain", self.position_gain),
            ("--velocity-gain", self.velocity_gain),
        ):
            _check(0.0 <= value <= 1.0, flag, value, "use a value between 0 and 1")
        _check(self.iou_threshold > 0, "--iou-threshold", self.iou_threshold, "use a value above 0, e.g. 0.3")
        _check(self.low_iou_threshold > 0, "--low-iou-threshold", self.low_iou_threshold, "use e.g. 0.5")
        _check(self.min_hits >= 1, "--min-hits", self.min_hits, "use 1 or more (1 reports tracks at once)")
        _check(self.max_age >= 0, "--max-age", self.max_age, "use 0 or more frames")


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
    # A short track is kept anyway when its mean confidence reaches this value.
    keep_confidence: float = 0.9
    # Also report the tentative boxes a track had before it was confirmed (online, they
    # cannot be shown because confirmation is not known yet).
    backfill: bool = True
    # Centred moving average over this many observed boxes of a track (1 = off). Raise:
    # steadier, better-fitting boxes; too high: corners cut when the object turns.
    smooth_window: int = 5

    def __post_init__(self) -> None:
        _check(self.max_gap >= 0, "--refine-max-gap", self.max_gap, "use 0 or more frames")
        _check(self.min_length >= 1, "--refine-min-length", self.min_length, "use 1 or more")
        _check(self.smooth_window >= 1, "--refine-smooth-window", self.smooth_window, "use 1 (off) or more")
        _check(0.0 <= self.keep_confidence <= 1.0, "--refine-keep-confidence", self.keep_confidence, "use 0..1")
