"""The end-of-run summary: what was seen, for how long, and how fast it was processed."""

from __future__ import annotations

import time
from array import array
from collections import defaultdict
from datetime import datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from vidtrack.labels import class_names, confidence_tags
from vidtrack.wallclock import iso

if TYPE_CHECKING:
    from vidtrack.analytics.stage import AnalyticsStage
    from vidtrack.frames import FrameResult, LaneReport
    from vidtrack.sources.base import Source


#: The end-of-run table warns when at least this share of a class's detections (and
#: :data:`DROPPED_WARN_MIN` of them) never became part of a reported track.
DROPPED_WARN_SHARE = 0.25
DROPPED_WARN_MIN = 20


def dropped_detections(
    detected: dict[str, int], reported: dict[str, int], repeated: dict[str, int] | None = None
) -> dict[str, dict[str, float]]:
    """Per class: detections that never became part of a reported track, ``{"count", "share"}``.

    ``detected`` counts every box the detector gave the tracker, ``reported`` the boxes of
    confirmed tracks (look-ahead included); share = count / detected, 0-1, 3 decimals.
    They are dropped because they started no track (score rank below
    ``--new-track-score-rank``), their track was never confirmed (``--min-hits``) or no
    track matched them (fast movers: ``--iou-buffer``, ``--iou-threshold``).
    ``repeated`` counts boxes that repeat a stronger box of a confusable class on the same
    object (a truck box on a tracked car, :func:`vidtrack.tracking.classes.repeated_boxes`):
    the object is tracked, so they are not in ``count``; a class with any has ``"repeats"``.
    """
    repeated = repeated or {}
    out: dict[str, dict[str, float]] = {}
    for cls, n in sorted(detected.items()):
        repeats = repeated.get(cls, 0)
        dropped = max(0, n - reported.get(cls, 0) - repeats)
        out[cls] = {"count": dropped, "share": round(dropped / n, 3) if n else 0.0}
        if repeats:
            out[cls]["repeats"] = repeats
    return out


def dropped_hint(summary: dict[str, Any]) -> str | None:
    """One line for the end-of-run table when a large share of a class's detections was dropped, else None.

    Only classes that also have reported tracks are named: there the tracker lost objects it
    did follow (fast movers, low frame rates), which the knobs fix. A class with no track at all
    (a potted plant boxed at low confidence in every frame) is usually a false or weak
    detection; its count stays in the summary's ``dropped_detections`` without a warning.
    """
    tracked = summary.get("tracks")
    worst = [
        (cls, d) for cls, d in summary.get("dropped_detections", {}).items()
        if d["share"] >= DROPPED_WARN_SHARE and d["count"] >= DROPPED_WARN_MIN
        and (tracked is None or tracked.get(cls, 0) > 0)
    ]
    if not worst:
        return None
    parts = ", ".join(f"{cls} {100 * d['share']:.0f}% ({d['count']})" for cls, d in worst)
    return (
        f"{summary.get('source', '')}: detections in no reported track: {parts}. If they are real objects, "
        "lower --new-track-score-rank or --min-hits (fast movers: raise --iou-buffer or --new-track-gate); if they are false "
        "boxes, raise --conf."
    )


class SummaryBuilder:
    """Accumulates per-frame results into one JSON-ready document, :meth:`build`.

    Memory is constant in the run length except for frame ages (4 bytes a frame, kept so
    p50/p95 are exact). ``update(**fields)`` adds or overrides top-level fields (e.g. the
    source name, stream state, the pipeline's own fps). The runner writes the result
    (``--summary``, atomically) and shows it in the end-of-run table.
    """

    warnings: tuple[str, ...] = ()  # nothing to report

    def __init__(
        self,
        fps: Fraction | None,
        *,
        use_timestamps: bool = False,  # live: duration from capture times, not frames / fps
    ) -> None:
        self.fps = Fraction(fps) if fps else None
        self.use_timestamps = use_timestamps
        self.frames = 0
        self._first_pts: float | None = None
        self._first_time: datetime | None = None  # wall-clock time of the first frame, when known
        self._last_pts: float | None = None
        self._last_duration: float | None = None
        # Per track id: summed confidence per class it was reported as (a tracker may let
        # classes a detector confuses, car/truck, continue one track); counted under the top one.
        self._track_votes: dict[int, dict[str, float]] = {}
        self._detections: dict[str, int] = defaultdict(int)
        self._detected: dict[str, int] = defaultdict(int)
        self._repeated: dict[str, int] = defaultdict(int)
        self._best: dict[str, float] = {}
        self._timing_sum: dict[str, float] = defaultdict(float)
        self._timing_n: dict[str, int] = defaultdict(int)
        self._ages = array("f")
        self._fields: dict[str, Any] = {}

    def write(self, result: "FrameResult") -> None:
        """Count one finished frame: time span, detections and track votes per class, stage timings, frame age.

        Frame age is ``result.frame_age_ms`` or, when not set, capture time to now (milliseconds).
        Writes no file; never raises for a well-formed result.
        """
        now = time.monotonic()
        frame = result.frame
        self.frames += 1
        if self._first_pts is None:
            self._first_pts = frame.pts
            self._first_time = frame.time
        self._last_pts = frame.pts
        self._last_duration = frame.duration
        det = result.detections
        if len(det):
            classes = class_names(det)
            conf = det.confidence if det.confidence is not None else np.ones(len(det))
            track = det.tracker_id
            for i, cls in enumerate(classes):
                self._detections[cls] += 1
                c = float(conf[i])
                if c > self._best.get(cls, -1.0):
                    self._best[cls] = c
                if track is not None and track[i] >= 0:
                    votes = self._track_votes.setdefault(int(track[i]), {})
                    votes[cls] = votes.get(cls, 0.0) + (c if c == c else 1.0)
        for cls, n in result.detected.items():
            self._detected[cls] += n
        for cls, n in result.repeated.items():
            self._repeated[cls] += n
        for stage, ms in result.timings_ms.items():
            self._timing_sum[stage] += float(ms)
            self._timing_n[stage] += 1
        age = result.frame_age_ms  # when not given, measured here, as the result arrives
        if age is None and frame.captured > 0:
            age = (now - frame.captured) * 1000.0
        if age is not None:
            self._ages.append(float(age))

    def _tracks_per_class(self) -> dict[str, int]:
        """Reported tracks per class, each track once, under the class with the highest
        summed confidence over its rows (ties: the class it was first reported as)."""
        counts: dict[str, int] = defaultdict(int)
        for votes in self._track_votes.values():
            counts[max(votes, key=votes.__getitem__)] += 1
        return dict(sorted(counts.items()))

    def update(self, **fields: Any) -> None:
        """Add or override top-level fields of the summary."""
        self._fields.update(fields)

    @property
    def duration(self) -> float:
        """Seconds of video covered.

        Files: from the first frame's time to the end of the last frame (its time plus its
        duration), so a variable-rate file reports its real length; for a constant-rate file
        this is frames / fps. Live: the capture-time span plus one frame.
        """
        if self.frames == 0:
            return 0.0
        if self._last_duration is not None and not self.use_timestamps:
            return float(self._last_pts - self._first_pts) + self._last_duration  # type: ignore[operator]
        if self.use_timestamps or self.fps is None:
            span = float(self._last_pts - self._first_pts)  # type: ignore[operator]
            step = 1 / float(self.fps) if self.fps else (span / (self.frames - 1) if self.frames > 1 else 0.0)
            return span + step
        return self.frames / float(self.fps)

    def build(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict."""
        summary: dict[str, Any] = {
            "frames": self.frames,
            "duration": round(self.duration, 3),
            "fps": round(float(self.fps), 3) if self.fps else None,
            "fps_exact": f"{self.fps.numerator}/{self.fps.denominator}" if self.fps else None,
            "tracks": self._tracks_per_class(),
            "detections": dict(sorted(self._detections.items())),
            "tags": confidence_tags(self._best),
            "timings_ms": {
                stage: round(self._timing_sum[stage] / n, 2) for stage, n in self._timing_n.items() if n
            },
        }
        if self._first_time is not None:  # wall-clock span (--start-time): first frame to end of the last
            summary["start_time"] = iso(self._first_time)
            summary["end_time"] = iso(self._first_time + timedelta(seconds=self.duration))
        if self._detected:
            summary["dropped_detections"] = dropped_detections(self._detected, self._detections, self._repeated)
        if len(self._ages):
            ages = np.frombuffer(self._ages, dtype=np.float32)
            summary["frame_age_ms"] = {
                "p50": round(float(np.percentile(ages, 50)), 1),
                "p95": round(float(np.percentile(ages, 95)), 1),
                "max": round(float(ages.max()), 1),
            }
        summary.update(self._fields)
        return summary

    def close(self) -> None:
        """Nothing to finalise: the runner writes :meth:`build`'s result (``--summary``) after the run."""


def report_fields(report: "LaneReport") -> dict[str, Any]:
    """The pipeline's figures for one lane, as the summary shows them (rounded)."""
    return {
        "processing_fps": round(report.processing_fps, 2),
        "wall_s": round(report.wall_s, 3),
        "first_output_s": None if report.first_output_s is None else round(report.first_output_s, 3),
        "timings_ms": report.stage_ms,
        "stopped_early": report.stopped,
        "source_state": None if report.status is None else str(report.status),
        **_schedule_fields(report),
    }


def _schedule_fields(report: "LaneReport") -> dict[str, Any]:
    """What the detector skipped (``--motion-gate``/``--detect-every``); nothing on full-rate runs."""
    counts = report.schedule
    if counts is None:
        return {}
    return {
        "detector": {
            "frames_detected": counts.detected,
            "frames_gated": counts.gated,  # nothing moved: tracks held
            "frames_strided": counts.strided,  # between detections: tracks interpolated or predicted
            "detections_per_s": round(counts.detected / report.wall_s, 2) if report.wall_s > 0 else None,
        }
    }


def finish_summary(
    summary: SummaryBuilder, source: "Source", report: "LaneReport", analytics: "AnalyticsStage | None" = None
) -> tuple[dict[str, Any], list[str]]:
    """One lane's finished summary (JSON-ready) and what the user must be told about it.

    Adds to what the builder counted per frame: the source's name, the pipeline's figures
    (:func:`report_fields`), the analytics' lines and zones (finishing them: pending
    crossings count, open visits exit), an error that ended the lane, where the picture
    changed size, and why a source ended early. The warnings are one line each.
    """
    warnings: list[str] = []
    summary.update(source=source.info.name, **report_fields(report))
    if analytics is not None:
        analytics.finish()
        summary.update(**analytics.summary())
    if report.error is not None:
        summary.update(complete=False, error=str(report.error))
    size_changes = source.size_changes
    if size_changes:
        summary.update(size_changes=[
            {"frame": index, "t": round(t, 3), "width": width, "height": height}
            for index, t, width, height in size_changes
        ])
        first = size_changes[0]
        warnings.append(
            f"{source.info.name}: the picture changes size {len(size_changes)} time(s), first to "
            f"{first[2]}x{first[3]} at frame {first[0]} ({first[1]:.3f} s); each frame was processed at its "
            "own size, boxes are in its coordinates, and tracks restart at each change"
        )
    data = summary.build()
    if source.error is not None and not report.stopped:  # e.g. a stream given up mid-run
        warnings.append(f"{source.info.name} ended early: {source.error.one_line()}")
        data["source_error"] = source.error.one_line()
    warnings.extend(_file_notes(data, source, report))
    if source.truncated and not report.stopped:
        warnings.append(
            f"{source.info.name}: {report.frames} frames decoded, the header said {source.info.frame_count}"
            " (truncated file or wrong header); every decodable frame was processed"
        )
    return data, warnings


def _file_notes(data: dict[str, Any], source: "Source", report: "LaneReport") -> list[str]:
    """What a video file's reader noticed (sources/files.py): a file still being written,
    deinterlacing, HDR tone-mapping, damaged places. Adds the summary fields; returns warnings."""
    warnings: list[str] = []
    name = source.info.name
    if getattr(source, "growing", False) and not report.stopped:  # a recorder still appending
        data["complete"] = False
        warnings.append(
            f"{name} was still being written (it grew to {getattr(source, 'grown_to', 0)} bytes while it was read): "
            "processed up to where the writer was; run with --follow SECONDS to keep reading until it stops growing"
        )
    if getattr(source, "deinterlaced", False):  # interlaced input, deinterlaced before detection
        data["deinterlaced"] = True
    hdr = getattr(source, "hdr", None)
    if hdr:
        data["colour"] = f"{hdr} tone-mapped to SDR BT.709"
        warnings.append(
            f"{name} is HDR ({hdr}): frames were tone-mapped to SDR BT.709 for detection and the video output; "
            "colours and brightness differ from an HDR display"
        )
    damage = getattr(source, "damage", None)  # runs of frames lost or damaged mid-file
    if damage:
        data["damaged"] = list(damage)
        messages = source.damage_messages()  # type: ignore[attr-defined]
        warnings.extend(messages[:5])
        if len(messages) > 5:
            warnings.append(f"{name}: {len(messages) - 5} more damaged places (see 'damaged' in the summary)")
    return warnings
