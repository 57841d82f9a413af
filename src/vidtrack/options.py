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
SOURCE_OPTIONS = ("every_frame", "stall_timeout", "max_retries", "rtsp_transport", "loop", "follow")
OVERLAY_OPTIONS = ("no_trails", "no_hud", "no_labels")
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


#: Keys of a Frigate NVR config (docs.frigate.video, "Full Reference Config") and what
#: vidtrack calls the nearest thing. Frigate's ``objects.filters`` keys are per-label scores
#: and areas; vidtrack's closest knobs differ in meaning, so the hint says so.
FRIGATE_KEYS = {
    "cameras": "vidtrack reads one camera per run: give its stream URL as the run's source and put "
    "that camera's options at the top level of the file",
    "min_score": "Frigate's per-object minimum score is vidtrack's 'conf' (detector confidence threshold)",
    "threshold": "Frigate's tracked-object score threshold is nearest to vidtrack's 'conf'; "
    "vidtrack has no separate per-track score threshold",
    "min_area": "vidtrack has no box-area filter; use 'classes' and 'conf', or a 'zone' to limit where objects count",
    "max_area": "vidtrack has no box-area filter; use 'classes' and 'conf', or a 'zone' to limit where objects count",
    "min_ratio": "vidtrack has no box-shape filter",
    "max_ratio": "vidtrack has no box-shape filter",
    "objects": "Frigate's 'objects: track:' list is vidtrack's 'classes' (e.g. classes: person,car)",
    "track": "Frigate's 'objects: track:' list is vidtrack's 'classes' (e.g. classes: person,car)",
    "filters": "vidtrack's detection filters are 'conf' and 'classes' at the top level",
    "detectors": "vidtrack's detector is chosen with 'model', 'backend' and 'device'",
    "detect": "vidtrack detects on every frame of the source; 'imgsz' sets the model's input size",
    "ffmpeg": "vidtrack opens the source itself; give the stream URL as the source ('rtsp_transport' for RTSP)",
    "record": "vidtrack writes the annotated video with 'output' (e.g. output: out.mp4)",
    "snapshots": "vidtrack has no snapshots; 'jsonl' or 'events' record each detection or event",
    "mqtt": "vidtrack does not publish to MQTT; 'events' writes crossing/zone events as JSON lines",
    "zones": "vidtrack's zones are 'zone' (a list of polygons, 'x,y x,y x,y:name')",
    "motion": "vidtrack has no motion detection; every frame goes to the detector",
    "birdseye": "vidtrack has no multi-camera view",
    "go2rtc": "vidtrack opens RTSP/HTTP streams itself; give the stream URL as the source",
}


def _typo_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) between ``a`` and ``b``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        previous2, previous = previous, row
    return previous[-1]


def did_you_mean(key: str, names: Iterable[str]) -> str | None:
    """The known name ``key`` is a typo of, or None.

    Only a typo counts: one edit (two for names of 10 or more letters), where an edit is a
    letter inserted, dropped, changed or two neighbours swapped. A name that merely shares a
    word with the key (``min_score`` and ``min_score_rank``, ``threshold`` and
    ``iou_threshold``, ``max_area`` and ``max_age``) means something else and is not offered.
    """
    key = normalise_key(key).lower()
    best: tuple[int, str] | None = None
    for name in sorted(names):
        allowed = 2 if min(len(key), len(name)) >= 10 else 1
        distance = _typo_distance(key, name)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, name)
    return None if best is None else best[1]


def check_known(options: Mapping[str, Any], known: Iterable[str] = RUN_OPTIONS, where: str = "option") -> None:
    """Raise :class:`OptionError` naming the first unknown key and, for a typo, the known one.

    A key of a Frigate NVR config (``cameras``, ``min_score``, ``threshold``, ``max_area``...)
    gets a hint that says so and names vidtrack's equivalent (:data:`FRIGATE_KEYS`).
    """
    names = set(known)
    # A Frigate file's telltale block first, so its hint speaks of the whole file.
    for key in sorted(options, key=lambda k: normalise_key(str(k)).lower() != "cameras"):
        if normalise_key(key) not in names:
            frigate = FRIGATE_KEYS.get(normalise_key(str(key)).lower())
            close = did_you_mean(str(key), names)
            if close is not None:
                hint = f"did you mean {close!r}?"
            elif frigate is not None:
                hint = f"this looks like a Frigate config: {frigate}"
            else:
                hint = "see 'vidtrack run --help' for the options"
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
            labels=not o.get("no_labels", False), trails=not o.get("no_trails", False), hud=not o.get("no_hud", False)
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
