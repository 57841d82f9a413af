"""Named run options → :class:`~vidtrack.runner.RunRequest`: the one translation every front end shares.

``vidtrack run`` flags, ``--config`` files, ``vidtrack batch``, video jobs of ``vidtrack serve``
and the Python API (``vidtrack.track(source, **options)``) all describe a run with the same
names: the ``run`` command's parameter names in snake_case (``conf``, ``max_age``, ``output``,
``no_trails``...). This module turns such a mapping into a validated request, so a key means
the same thing everywhere and an unknown key is reported the same way everywhere.

Adding a run option: add its parameter to ``cli/run_cmd.py`` and map it here, in
:func:`request_from_options` (and nowhere else).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from vidtrack.errors import OptionError

if TYPE_CHECKING:
    from vidtrack.runner import RunRequest

#: Tracker knobs, named as in :class:`vidtrack.tracking.TrackerConfig` (``raw_boxes`` inverts
#: ``smooth_boxes``).
TRACKER_OPTIONS = (
    "iou_threshold", "low_iou_threshold", "high_score_rank", "min_score_rank", "new_track_score_rank",
    "min_hits", "max_age", "position_gain", "velocity_gain", "score_memory", "raw_boxes",
)
DETECTOR_OPTIONS = (
    "model", "conf", "iou", "imgsz", "device", "classes", "max_det", "single", "backend", "tiles", "tile_region",
)
SOURCE_OPTIONS = ("every_frame", "stall_timeout", "max_retries", "rtsp_transport", "loop")
OVERLAY_OPTIONS = ("no_trails", "no_hud", "no_labels", "hud")
OUTPUT_OPTIONS = ("output", "jsonl", "mot", "summary", "events", "crf", "preset")
#: Lines, zones and redaction (:class:`vidtrack.analytics.config.AnalyticsConfig`).
ANALYTICS_OPTIONS = (
    "line", "zone", "anchor", "count_mode", "line_margin", "line_confirm", "link_gap", "link_distance",
    "zone_entry_frames", "zone_exit_grace", "loiter", "redact", "redact_region", "redact_mode", "redact_hold",
    "redact_labels",
)
VIEW_OPTIONS = ("show", "serve", "token")

#: Every option name :func:`request_from_options` accepts.
RUN_OPTIONS: tuple[str, ...] = (
    DETECTOR_OPTIONS + TRACKER_OPTIONS + SOURCE_OPTIONS + OVERLAY_OPTIONS + OUTPUT_OPTIONS + VIEW_OPTIONS
    + ANALYTICS_OPTIONS
)


def split_classes(value: str | Iterable[Any] | None) -> tuple[str, ...] | None:
    """``"person, car"`` or ``["person", 2]`` → ``("person", "car")``/``("person", "2")``; None keeps all.

    Raises:
        OptionError: the value names no class at all (``--classes ""``), which would
            otherwise silently mean "every class".
    """
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    items = tuple(part.strip() for part in parts if part.strip())
    if not items:
        raise OptionError("--classes names no class", "give names or ids such as person,car or 0,2, or omit it for all")
    return items


def normalise_key(key: str) -> str:
    """``"max-age"`` and ``"max_age"`` are the same option (config files may use either)."""
    return key.strip().replace("-", "_")


def check_known(options: Mapping[str, Any], known: Iterable[str] = RUN_OPTIONS, where: str = "option") -> None:
    """Raise :class:`OptionError` naming the first unknown key and the closest known one."""
    import difflib

    names = set(known)
    for key in options:
        if normalise_key(key) not in names:
            close = difflib.get_close_matches(normalise_key(key), sorted(names), n=1)
            hint = f"did you mean {close[0]!r}?" if close else "see 'vidtrack run --help' for the options"
            raise OptionError(f"unknown {where} {key!r}", hint)


def _path(value: Any) -> Path | None:
    return None if value in (None, "") else Path(value)


def request_from_options(sources: Iterable[str], options: Mapping[str, Any]) -> "RunRequest":
    """Build and validate a run request.

    Args:
        sources: source specs as ``vidtrack run`` takes them (paths, URLs, webcam indexes).
        options: option name → value, names as in :data:`RUN_OPTIONS` (dashes allowed);
            missing names take their defaults, ``None`` values count as missing.

    Raises:
        OptionError: an unknown option name or a bad value (one line with the fix).
    """
    from vidtrack.analytics.config import AnalyticsConfig
    from vidtrack.config import DetectorConfig, OutputConfig, OverlayConfig, SourceConfig
    from vidtrack.runner import RunRequest
    from vidtrack.tracking import TrackerConfig

    check_known(options)
    o = {normalise_key(k): v for k, v in options.items() if v is not None}
    detector = {k: o[k] for k in DETECTOR_OPTIONS if k in o}
    if "classes" in detector:
        detector["classes"] = split_classes(detector["classes"])
    if "tile_region" in detector:  # repeatable: one polygon string, or a list of polygons
        regions = detector.pop("tile_region")
        detector["tile_regions"] = tuple([regions] if isinstance(regions, str) else regions)
    tracker = {k: o[k] for k in TRACKER_OPTIONS if k in o and k != "raw_boxes"}
    if "raw_boxes" in o:
        tracker["smooth_boxes"] = not bool(o["raw_boxes"])
    output = {k: o[k] for k in ("crf", "preset") if k in o}
    return RunRequest(
        sources=[str(s) for s in sources],
        detector=DetectorConfig(**detector),
        tracker=TrackerConfig(**tracker),
        source=SourceConfig(**{k: o[k] for k in SOURCE_OPTIONS if k in o}),
        overlay=OverlayConfig(
            labels=not o.get("no_labels", False), trails=not o.get("no_trails", False), hud=not o.get("no_hud", False),
            **({"hud_mode": str(o["hud"])} if "hud" in o else {}),
        ),
        output=OutputConfig(
            video=_path(o.get("output")), jsonl=_path(o.get("jsonl")), mot=_path(o.get("mot")),
            summary=_path(o.get("summary")), events=_path(o.get("events")), **output,
        ),
        analytics=AnalyticsConfig.from_options(**{k: o[k] for k in ANALYTICS_OPTIONS if k in o}),
        show=bool(o.get("show", False)),
        serve=None if o.get("serve") is None else str(o["serve"]),
        token=o.get("token"),
    )
