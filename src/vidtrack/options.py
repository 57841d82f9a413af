"""Named run options → :class:`~vidtrack.request.RunRequest`: the one translation every front end shares.

``vidtrack run`` flags, ``--config`` files, ``vidtrack batch``, video jobs of ``vidtrack serve``
and the Python API (``vidtrack.track(source, **options)``) all describe a run with the same
names: the ``run`` command's parameter names in snake_case (``conf``, ``max_age``, ``output``,
``no_trails``...). This module turns such a mapping into a validated request, so a key means
the same thing everywhere and an unknown key is reported the same way everywhere.

Adding a run option: add it to :data:`OPTIONS` (its type and range) and its group tuple, give
it a parameter in ``cli/run_cmd.py`` (a test pins that signature to the table), and map it
in :func:`request_from_options` if its group does not already.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from vidtrack.config import split_classes  # re-exported: the old import path
from vidtrack.errors import OptionError
from vidtrack.request import RunRequest

@dataclass(frozen=True)
class Option:
    """One run option's value: its type, whether it repeats, and its range (inclusive, None: open).

    ``kind`` is the type of one value (``bool``, ``int``, ``float``, ``str`` or ``Path``);
    a ``repeatable`` option takes a list of them (``--line``, ``--zone``...). Defaults and
    the finer checks live with the frozen configs that hold the value (``config.py``,
    ``tracking/config.py``, ``analytics/config.py``); the ``run`` command's signature is pinned
    to this table by ``tests/test_options_table.py``.
    """

    kind: type
    repeatable: bool = False
    low: float | None = None
    high: float | None = None


_F, _I, _B, _S, _P = Option(float), Option(int), Option(bool), Option(str), Option(Path)
_LIST = Option(str, repeatable=True)
_UNIT = Option(float, low=0.0, high=1.0)

#: Every run option by name (the ``run`` command's parameter names): the one table that the
#: CLI, config files, the HTTP API and the Python API read.
OPTIONS: dict[str, Option] = {
    # detector
    "model": _S, "conf": _UNIT, "iou": _UNIT, "imgsz": Option(int, low=32, high=4096), "device": _S, "classes": _S,
    "max_det": Option(int, low=1), "single": _B, "backend": _S, "tiles": _S, "tile_region": _LIST,
    # tracker
    "iou_threshold": _UNIT, "low_iou_threshold": _UNIT, "high_score_rank": _F, "min_score_rank": _F,
    "new_track_score_rank": _F, "min_hits": Option(int, low=1), "max_age": Option(float, low=0), "position_gain": _F,
    "velocity_gain": _F, "score_memory": Option(int, low=1), "raw_boxes": _B, "iou_buffer": _UNIT,
    "new_track_gate": Option(float, low=0, high=5), "cmc": _S,
    # sources
    "every_frame": _B, "stall_timeout": _F, "max_retries": Option(int, low=0), "rtsp_transport": _S,
    "loop": Option(int, low=1), "follow": Option(float, low=0),
    # overlay
    "no_trails": _B, "no_hud": _B, "no_labels": _B, "hud": _S,
    # outputs
    "output": _P, "jsonl": _P, "mot": _P, "summary": _P, "events": _P, "crf": Option(int, low=0, high=51),
    "preset": _S,
    # viewing
    "show": _B, "serve": _S, "token": _S,
    # lines, zones and redaction
    "line": _LIST, "zone": _LIST, "anchor": _S, "count_mode": _S, "line_margin": _F, "line_confirm": Option(int, low=1),
    "link_gap": _F, "link_distance": _F, "zone_entry_frames": Option(int, low=1), "zone_exit_grace": _F, "loiter": _F,
    "redact": _S, "redact_region": _LIST, "redact_mode": _S, "redact_hold": Option(int, low=0), "redact_labels": _B,
    # review: wall-clock time, snapshots, clips, heatmap, notifications, speed (issue 22)
    "start_time": _S, "timestamp": _B, "snapshots": _P, "clips": _P, "pre": Option(float, low=0.0, high=60.0),
    "post": Option(float, low=0.0), "clips_clean": _B, "heatmap": _P, "heatmap_per_class": _B, "webhook": _S,
    "mqtt": _S, "speed_zone": _LIST, "speed_limit": Option(float, low=0.0), "speed_window": Option(float, low=0.0),
    # when the detector runs
    "motion_gate": _S, "motion_mask": _LIST, "detect_every": _S,
}

#: Tracker knobs, named as in :class:`vidtrack.tracking.TrackerConfig` (``raw_boxes`` inverts
#: ``smooth_boxes``).
TRACKER_OPTIONS = (
    "iou_threshold", "low_iou_threshold", "high_score_rank", "min_score_rank", "new_track_score_rank",
    "min_hits", "max_age", "position_gain", "velocity_gain", "score_memory", "raw_boxes",
    "iou_buffer", "new_track_gate", "cmc",
)
DETECTOR_OPTIONS = (
    "model", "conf", "iou", "imgsz", "device", "classes", "max_det", "single", "backend", "tiles", "tile_region",
)
SOURCE_OPTIONS = ("every_frame", "stall_timeout", "max_retries", "rtsp_transport", "loop", "start_time", "follow")
OVERLAY_OPTIONS = ("no_trails", "no_hud", "no_labels", "timestamp", "hud")
OUTPUT_OPTIONS = (
    "output", "jsonl", "mot", "summary", "events", "crf", "preset", "snapshots", "webhook", "mqtt", "heatmap",
    "heatmap_per_class", "clips", "pre", "post", "clips_clean",
)
#: Lines, zones and redaction (:class:`vidtrack.analytics.config.AnalyticsConfig`).
ANALYTICS_OPTIONS = (
    "line", "zone", "anchor", "count_mode", "line_margin", "line_confirm", "link_gap", "link_distance",
    "zone_entry_frames", "zone_exit_grace", "loiter", "redact", "redact_region", "redact_mode", "redact_hold",
    "redact_labels", "speed_zone", "speed_limit", "speed_window",
)
VIEW_OPTIONS = ("show", "serve", "token")
#: When the detector runs (:class:`vidtrack.config.ScheduleConfig`).
SCHEDULE_OPTIONS = ("motion_gate", "motion_mask", "detect_every")

#: Every option name :func:`request_from_options` accepts.
RUN_OPTIONS: tuple[str, ...] = tuple(OPTIONS)

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


#: Largest magnitude of an integer option value from an untyped front end (32-bit signed):
#: every frame count, age and cap fits (issue 23).
MAX_INT_VALUE = 2**31 - 1


def check_value(name: str, value: Any) -> Any:
    """A value sent for run option ``name`` (text from a form, or a JSON value) as its type, checked.

    The one coercer of every front end that receives untyped values (the HTTP API's form
    fields and JSON job options): text becomes the option's type, a JSON number is checked
    against it, numbers must be finite and inside the table's range. A repeatable option
    takes one value or a list; a list for a text option is joined with commas
    (``["person", "car"]`` -> ``"person,car"``). ``None`` stays None (the default).

    Raises:
        OptionError: an unknown name, a value that is not of the option's type, a
            non-finite number, or a number outside the option's range.
    """
    check_known({name: value})
    name = normalise_key(name)
    option = OPTIONS[name]
    if value is None:
        return None
    if option.repeatable:
        return [value] if isinstance(value, str) else list(value)
    kind = option.kind
    if isinstance(value, (list, tuple)):
        if kind is str:
            return ",".join(str(v) for v in value)
        raise OptionError(f"option {name} is given {len(value)} times", "give it once")
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise OptionError(f"option {name}={value!r} is not true or false", f"send {name}=true or {name}=false")
    if kind in (int, float):
        number = _number(name, value, kind)
        if not math.isfinite(number):
            raise OptionError(f"option {name}={value!r} is not a finite number", "send a plain number")
        if (option.low is not None and number < option.low) or (option.high is not None and number > option.high):
            span = f"between {option.low:g} and {option.high:g}" if option.low is not None and option.high is not None else (
                f"at least {option.low:g}" if option.low is not None else f"at most {option.high:g}")
            raise OptionError(f"option {name}={value!r} is out of range", f"use a value {span}")
        if kind is int and abs(number) > MAX_INT_VALUE:  # 1e300 frames: a job that never reports anything
            raise OptionError(f"option {name}={value!r} is out of range", f"use at most {MAX_INT_VALUE:,}")
        return number
    if kind is str:
        if isinstance(value, (dict, float)):  # {"a": 1} or 2.5 is no text a flag would take
            raise OptionError(f"option {name}={value!r} is not a text value", "send it as text, as on the command line")
        return value if isinstance(value, str) else str(value)
    return value


def _number(name: str, value: Any, kind: type) -> Any:
    """``value`` as an int or float; text is parsed, JSON numbers are checked (a bool is not a number)."""
    problem = OptionError(f"option {name}={value!r} is not a {kind.__name__}", "see 'vidtrack run --help' for its values")
    if isinstance(value, bool):
        raise problem
    if isinstance(value, str):
        try:
            return kind(value.strip())
        except ValueError:
            raise problem from None
    if isinstance(value, (int, float)):
        if kind is int and isinstance(value, float):
            if not value.is_integer():
                raise problem
            return int(value)
        return kind(value)
    raise problem


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


def request_from_options(sources: Iterable[str], options: Mapping[str, Any]) -> RunRequest:
    """Build and validate a run request.

    Args:
        sources: source specs as ``vidtrack run`` takes them (paths, URLs, webcam indexes).
        options: option name → value, names as in :data:`RUN_OPTIONS` (dashes allowed);
            missing names take their defaults, ``None`` values count as missing.

    Raises:
        OptionError: an unknown option name or a bad value (one line with the fix).
    """
    from vidtrack.analytics.config import AnalyticsConfig
    from vidtrack.config import DetectorConfig, OutputConfig, OverlayConfig, ScheduleConfig, SourceConfig
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
    output = {k: o[k] for k in ("crf", "preset", "pre", "post") if k in o}
    return RunRequest(
        sources=[str(s) for s in sources],
        detector=DetectorConfig(**detector),
        tracker=TrackerConfig(**tracker),
        source=SourceConfig(**{k: o[k] for k in SOURCE_OPTIONS if k in o}),
        overlay=OverlayConfig(
            labels=not o.get("no_labels", False), trails=not o.get("no_trails", False), hud=not o.get("no_hud", False),
            **({"hud_mode": str(o["hud"])} if "hud" in o else {}),
            timestamp=None if o.get("timestamp") is None else bool(o["timestamp"]),
        ),
        output=OutputConfig(
            video=_path(o.get("output")), jsonl=_path(o.get("jsonl")), mot=_path(o.get("mot")),
            summary=_path(o.get("summary")), events=_path(o.get("events")), snapshots=_path(o.get("snapshots")),
            webhook=o.get("webhook"), mqtt=o.get("mqtt"),
            clips=_path(o.get("clips")), clips_clean=bool(o.get("clips_clean", False)),
            heatmap=_path(o.get("heatmap")), heatmap_per_class=bool(o.get("heatmap_per_class", False)),
            **output,
        ),
        analytics=AnalyticsConfig.from_options(**{k: o[k] for k in ANALYTICS_OPTIONS if k in o}),
        schedule=ScheduleConfig(**{k: o[k] for k in SCHEDULE_OPTIONS if k in o}),
        show=bool(o.get("show", False)),
        serve=None if o.get("serve") is None else str(o["serve"]),
        token=o.get("token"),
    )
