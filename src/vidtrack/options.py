"""The run option table (:data:`OPTIONS`) and the one translation every front end shares.

``vidtrack run`` flags, ``--config`` files, ``vidtrack batch``, video jobs of ``vidtrack serve``
and the Python API (``vidtrack.track(source, **options)``) all describe a run with the same
names: the ``run`` command's parameter names in snake_case (``conf``, ``max_age``, ``output``,
``no_trails``...). :data:`OPTIONS` holds each option's type, range, default, help text and CLI
spelling, written once: ``cli/run_cmd.py`` builds the ``run`` command's parameters from it,
:func:`check_value` coerces and checks values from config files, HTTP fields and Python calls
by it, and :func:`request_from_options` turns a mapping of them into a validated request, so a
key means the same thing everywhere and an unknown key is reported the same way everywhere.

Adding a run option: one entry in :data:`OPTIONS` (its ``group`` says which part of the
request it sets; a new field of that part's config dataclass holds the value and owns the
default). An output sink's path option is declared by the sink itself instead
(:class:`vidtrack.sinks.base.Output`, registered in :data:`vidtrack.sinks.open.OPENERS`), and so
are a URL-scheme source kind's options (:class:`vidtrack.sources.base.Input`, registered in
:data:`vidtrack.sources.open.OPENERS`); they join this table from there.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

from vidtrack.analytics.config import AnalyticsConfig
from vidtrack.analytics.identity import LinkConfig
from vidtrack.analytics.lines import LineConfig
from vidtrack.analytics.redact import RedactConfig
from vidtrack.analytics.zones import ZoneConfig
from vidtrack.config import (
    DEFAULT_MODEL, MAX_IMGSZ, MODEL_ENV, DetectorConfig, OutputConfig, OverlayConfig, ScheduleConfig, SourceConfig,
)
from vidtrack.config import split_classes  # re-exported: the old import path
from vidtrack.errors import OptionError
from vidtrack.optionspec import (
    PANEL_ADV_IO, PANEL_ANALYTICS, PANEL_DETECT, PANEL_LIVE, PANEL_OUTPUT, PANEL_REDACT, PANEL_TRACK, Option,
)
from vidtrack.request import RunRequest
from vidtrack.sinks.open import output_options
from vidtrack.sources.open import input_options
from vidtrack.tracking.config import TrackerConfig, knob_help

__all__ = ["OPTIONS", "Option", "RUN_OPTIONS", "check_value", "json_schema", "request_from_options", "split_classes"]


def _default(config: type, name: str) -> Any:
    """The default of field ``name`` of the frozen config dataclass ``config``: the one place it is written."""
    for f in fields(config):
        if f.name == name:
            if f.default is not MISSING:
                return f.default
            if f.default_factory is not MISSING:  # pragma: no cover - no option reads a factory default
                return f.default_factory()
    raise KeyError(f"{config.__name__} has no field {name!r}")


def _tracker(name: str, kind: type, **range_: float) -> Option:
    """A tracker knob: default and help from :class:`TrackerConfig` (``knob()``), where ``vidtrack eval`` reads them too."""
    return Option(kind, "tracker", knob_help(name), _default(TrackerConfig, name), panel=PANEL_TRACK, **range_)  # type: ignore[arg-type]


_D, _S, _T, _O = DetectorConfig, SourceConfig, TrackerConfig, OutputConfig

#: Every run option by name (the ``run`` command's parameter names), in ``vidtrack run
#: --help``'s order: the one table that the CLI, config files, the HTTP API and the Python
#: API read. A default that belongs to a frozen config dataclass is read from its field
#: (``_default``), so the CLI, a config file, an HTTP job and ``vidtrack.track`` all get that
#: one value; tracker knobs read their help there too (``vidtrack eval`` offers the same flags).
OPTIONS: dict[str, Option] = {
    "output": Option(
        Path, "output", "Annotated video (.mp4 H.264, .mkv, .webm); for photos an image (.jpg, .png, .webp) or a "
        "folder (out/). With several sources, -0, -1... is added to the name.", flags=("--output", "-o")),
    "model": Option(str, "detector", f"Model file or exported folder (.pt, .onnx, OpenVINO dir). Default: ${MODEL_ENV} or {DEFAULT_MODEL}."),
    "conf": Option(float, "detector", "Minimum detection confidence (0-1). Raise: fewer false boxes, more misses.",
                   _default(_D, "conf"), low=0.0, high=1.0),
    "iou": Option(float, "detector", "NMS IoU (0-1). Lower merges more overlapping boxes.", _default(_D, "iou"),
                  low=0.0, high=1.0, panel=PANEL_DETECT),
    "imgsz": Option(int, "detector", "Inference size in pixels (multiple of 32). Larger finds small objects, slower.",
                    _default(_D, "imgsz"), low=32, high=MAX_IMGSZ, panel=PANEL_DETECT),
    "device": Option(str, "detector", "Inference device, e.g. cpu, 0 (CUDA), intel:gpu. Default: the runtime's.",
                     panel=PANEL_DETECT),
    "classes": Option(str, "detector", "Only these classes, by name or id: person,car or 0,2."),
    "max_det": Option(int, "detector", "Most detections per frame.", _default(_D, "max_det"), low=1, panel=PANEL_DETECT),
    "single": Option(bool, "detector", "Localization mode: keep only the most confident object per frame.",
                     _default(_D, "single"), panel=PANEL_DETECT),
    "backend": Option(str, "detector", "auto, ultralytics, openvino, onnx or rtdetr (a registered backend; torchvision:NAME "
                      "models pick theirs). auto runs OpenVINO exports directly and exports a .pt to OpenVINO once on CPU.",
                      _default(_D, "backend"), panel=PANEL_DETECT),
    "tiles": Option(str, "detector", "Sliced inference for small objects: auto (frames >= 2x the model input), off, or N "
                    "tiles along the long side. Each tile costs about one more model call.", _default(_D, "tiles"),
                    panel=PANEL_DETECT),
    "tile_region": Option(str, "detector", 'Tile only inside this polygon, "x,y x,y x,y ..." in pixels (or fractions <= 1 '
                          'of the frame). Repeatable. Keeps live streams fast.', repeatable=True, panel=PANEL_DETECT),
    "motion_gate": Option(str, "schedule", "Skip the detector where nothing moves: on, off, or auto (on for video). Still "
                          "objects keep their tracks, re-checked every 5 s.", _default(ScheduleConfig, "motion_gate"),
                          panel=PANEL_DETECT),
    "motion_mask": Option(str, "schedule", "Polygon x1,y1,x2,y2,x3,y3,... (pixels or fractions) where motion is ignored: "
                          "trees, clocks, burned-in time (repeatable).", repeatable=True, panel=PANEL_DETECT),
    "detect_every": Option(str, "schedule", "Run the detector on every N-th frame of moving scenes, or auto (by speed "
                           "relative to size: 1-6 on files, interpolated between; 1-3 live, predicted).",
                           _default(ScheduleConfig, "detect_every"), panel=PANEL_DETECT),
    "iou_threshold": _tracker("iou_threshold", float, low=0.0, high=1.0),
    "low_iou_threshold": _tracker("low_iou_threshold", float, low=0.0, high=1.0),
    "high_score_rank": _tracker("high_score_rank", float, low=0.0, high=1.0),
    "min_score_rank": _tracker("min_score_rank", float, low=0.0, high=1.0),
    "new_track_score_rank": _tracker("new_track_score_rank", float, low=0.0, high=1.0),
    "min_hits": _tracker("min_hits", int, low=1),
    "max_age": _tracker("max_age", float, low=0),
    "position_gain": _tracker("position_gain", float, low=0.0, high=1.0),
    "velocity_gain": _tracker("velocity_gain", float, low=0.0, high=1.0),
    "score_memory": _tracker("score_memory", int, low=1),
    "iou_buffer": _tracker("iou_buffer", float, low=0.0, high=1.0),
    "new_track_gate": _tracker("new_track_gate", float, low=0, high=5),
    "cmc": _tracker("cmc", str),
    # --raw-boxes is the CLI's name for smooth_boxes=False
    "raw_boxes": Option(bool, "tracker", "Report the detector's boxes instead of the tracks' filtered (steadier) boxes.",
                        not _default(_T, "smooth_boxes"), panel=PANEL_TRACK),
    "no_trails": Option(bool, "overlay", "Don't draw track trails.", not _default(OverlayConfig, "trails"), panel=PANEL_OUTPUT),
    "hud": Option(str, "overlay", "What the corner panel shows: clean (date/time when known, counts), debug (also "
                  "processing FPS, ms per stage, frame age), off; auto: debug in --show/--serve views without -o, else "
                  "clean.", _default(OverlayConfig, "hud_mode"), panel=PANEL_OUTPUT, metavar="MODE"),
    "no_hud": Option(bool, "overlay", "Don't draw the corner panel (same as --hud off).", not _default(OverlayConfig, "hud"),
                     panel=PANEL_OUTPUT),
    "no_labels": Option(bool, "overlay", "Don't draw '#id class confidence' labels.", not _default(OverlayConfig, "labels"),
                        panel=PANEL_OUTPUT),
    "jsonl": Option(Path, "output", "One JSON line per frame with its tracked detections."),
    "mot": Option(Path, "output", "MOTChallenge rows: frame,id,x,y,w,h,conf,-1,-1,-1.", panel=PANEL_OUTPUT),
    "summary": Option(Path, "output", "JSON summary at the end: frames, fps, tracks per class, tags."),
    "snapshots": Option(Path, "output", "Folder for snapshots: each track's best view (crop and whole frame, JPEG) and each "
                        "event's frame; events and the summary name the files. Redaction applies.", panel=PANEL_OUTPUT),
    "clips": Option(Path, "output", "Folder for event clips: an H.264 MP4 per review item, --pre s before its first event "
                    "to --post s after its last (overlapping events merge), with the source's audio.", panel=PANEL_OUTPUT),
    "pre": Option(float, "output", "Clips: seconds before the first event (held in memory: lower it for big frames).",
                  _default(_O, "pre"), low=0.0, high=60.0, panel=PANEL_ADV_IO),
    "post": Option(float, "output", "Clips: seconds after the last event.", _default(_O, "post"), low=0.0, panel=PANEL_ADV_IO),
    "clips_clean": Option(bool, "output", "Clips without boxes, labels and HUD (redaction still applies).",
                          _default(_O, "clips_clean"), panel=PANEL_ADV_IO),
    "heatmap": Option(Path, "output", "PNG of where tracked objects' feet were over the run, blended over a median "
                      "background frame.", panel=PANEL_OUTPUT),
    "heatmap_per_class": Option(bool, "output", "Also one heatmap per class, FILE-<class>.png.",
                                _default(_O, "heatmap_per_class"), panel=PANEL_ADV_IO),
    "webhook": Option(str, "output", "POST each event as JSON to this http(s) URL, from a background queue with retries "
                      "(never slows the run; drops are counted in the summary).", panel=PANEL_OUTPUT),
    "mqtt": Option(str, "output", "Publish each event as JSON to mqtt://\\[user:pass@]HOST:PORT/TOPIC (QoS 1, background "
                   "queue with retries; needs paho-mqtt: pip install 'vidtrack\\[notify]'). The password is never shown.",
                   panel=PANEL_OUTPUT),
    "crf": Option(int, "output", "H.264 quality, 0-51: lower is better and bigger.", _default(_O, "crf"), low=0, high=51,
                  panel=PANEL_ADV_IO),
    "preset": Option(str, "output", "x264 preset: faster presets encode quicker, files are bigger.", _default(_O, "preset"),
                     panel=PANEL_ADV_IO),
    "every_frame": Option(bool, "source", "Live sources: process every frame (may fall behind) instead of the newest.",
                          _default(_S, "every_frame"), panel=PANEL_ADV_IO),
    "stall_timeout": Option(float, "source", "Live: seconds without a new frame before reconnecting.",
                            _default(_S, "stall_timeout"), panel=PANEL_ADV_IO),
    "max_retries": Option(int, "source", "Live: reconnect attempts (default: unlimited).", _default(_S, "max_retries"),
                          low=0, panel=PANEL_ADV_IO),
    "rtsp_transport": Option(str, "source", "Live: how RTSP cameras send RTP: tcp (no lost packets, passes NAT) or udp "
                             "(for cameras that offer only UDP).", _default(_S, "rtsp_transport"), panel=PANEL_ADV_IO),
    "loop": Option(int, "source", "Files: play the source this many times (soak tests).", _default(_S, "loop"), low=1,
                   panel=PANEL_ADV_IO),
    "follow": Option(float, "source", "Files still being written: keep reading at the end until the file has not grown "
                     "for this many seconds (0: off).", _default(_S, "follow"), low=0, panel=PANEL_ADV_IO),
    "start_time": Option(str, "source", "Wall-clock time of the first frame, ISO 8601 (2026-12-06T14:30:00+01:00), or "
                         "auto: the file's creation_time tag, then its name (YYYYMMDD_HHMMSS, YYYY-MM-DD_HH-MM-SS, "
                         "ch01_YYYYMMDDHHMMSS; local time). Adds 'time' to JSONL, events and the summary. Live sources "
                         "always have it: the capture clock.", panel=PANEL_OUTPUT),
    "timestamp": Option(bool, "overlay", "Burn the date and time into the picture, CCTV style. Default: on when the time "
                        "is known (--start-time, or a live source).", _default(OverlayConfig, "timestamp"),
                        flags=("--timestamp/--no-timestamp",), panel=PANEL_OUTPUT),
    "show": Option(bool, "view", "Show a window (q or Esc quits).", False),
    "serve": Option(str, "view", "Serve a live web view at \\[HOST:]PORT (default host 127.0.0.1)."),
    "token": Option(str, "view", "Token every web-view request must carry; required off loopback.", panel=PANEL_LIVE),
    "line": Option(str, "analytics", "Counting line x1,y1,x2,y2[:name] in pixels, or fractions of the frame when every "
                   "value is in 0-1 (repeatable). The arrow from (x1,y1) to (x2,y2) sets the sides: 'in' is crossing from "
                   "its left to its right as seen on screen (for a line drawn left to right: moving down). Counted at the "
                   "box's anchor.", repeatable=True),
    "zone": Option(str, "analytics", "Zone polygon x1,y1,x2,y2,x3,y3,...[:name] in pixels or fractions (repeatable; "
                   "concave is fine). Reports occupancy, entries, exits and dwell time per visit.", repeatable=True),
    "anchor": Option(str, "analytics", "The box point that crosses lines and sits in zones: bottom-center (feet), center, "
                     "top-center, bottom-left, bottom-right.", _default(AnalyticsConfig, "anchor"), panel=PANEL_ANALYTICS),
    "count_mode": Option(str, "analytics", "once-per-object: each object counts at most once per direction (an id switch "
                         "continues the object, see --link-gap); every-crossing: every confirmed crossing counts.",
                         _default(LineConfig, "count_mode"), panel=PANEL_ANALYTICS),
    "line_margin": Option(float, "analytics", "Dead band around a line, in box heights: an anchor this close is 'on' the "
                          "line and changes nothing. Raise: jitter never counts; lower: short steps count sooner.",
                          _default(LineConfig, "margin"), panel=PANEL_ANALYTICS),
    "line_confirm": Option(int, "analytics", "Observations in a row past the line before a crossing counts. Raise: "
                           "flicker rejected more; lower: counts sooner.", _default(LineConfig, "confirm_frames"), low=1,
                           panel=PANEL_ANALYTICS),
    "link_gap": Option(float, "analytics", "Id-switch continuation: a track born within --link-distance of where a track "
                       "of the same class was lost at most this many seconds before continues it (counts once). 0 "
                       "switches it off. Raise: longer occlusions bridged; newcomers more often taken for someone who "
                       "left.", _default(LinkConfig, "max_gap_s"), panel=PANEL_ANALYTICS),
    "link_distance": Option(float, "analytics", "Reach of id-switch continuation, in box heights from the lost track's "
                            "last (or extrapolated) anchor. Raise: bigger jumps bridged; neighbours more often merged.",
                            _default(LinkConfig, "max_distance"), panel=PANEL_ANALYTICS),
    "zone_entry_frames": Option(int, "analytics", "Observations in a row inside a zone before an entry. Raise: one "
                                "jumping box is never an entry; entries decided later.",
                                _default(ZoneConfig, "entry_frames"), low=1, panel=PANEL_ANALYTICS),
    "zone_exit_grace": Option(float, "analytics", "Seconds unseen inside a zone before an exit. Raise: longer occlusions "
                              "are not exits; exits decided later.", _default(ZoneConfig, "exit_grace_s"),
                              panel=PANEL_ANALYTICS),
    "loiter": Option(float, "analytics", "Emit a loiter event once a visit to a zone lasts this many seconds.",
                     _default(ZoneConfig, "loiter_s"), panel=PANEL_ANALYTICS),
    "speed_zone": Option(str, "analytics", "Ground rectangle for speeds: its corners x1,y1,...,x4,y4 in the picture (in "
                         "order; pixels or fractions), then :WIDTH_M,LENGTH_M (x1,y1->x2,y2 is WIDTH_M metres, x2,y2->x3,y3 "
                         "LENGTH_M), then [:name]. Speeds in km/h go in JSONL, events and the summary (repeatable).",
                         repeatable=True, panel=PANEL_ANALYTICS),
    "speed_limit": Option(float, "analytics", "km/h: emit a 'speeding' event once per track and speed zone above it.",
                          _default(AnalyticsConfig, "speed_limit"), low=0.0, panel=PANEL_ANALYTICS),
    "speed_window": Option(float, "analytics", "Seconds of each track's path a speed is fitted over. Raise: steadier "
                           "speeds; lower: follows braking sooner.", _default(AnalyticsConfig, "speed_window"), low=0.0,
                           panel=PANEL_ANALYTICS),
    "events": Option(Path, "output", "Analytics events, one JSON line each: crossings, zone entries/exits, loiter."),
    "redact": Option(str, "analytics", "Redact objects of these classes (e.g. person) in the video, window and web view; "
                     "fails closed for --redact-hold frames.", panel=PANEL_REDACT),
    "redact_region": Option(str, "analytics", "A polygon x1,y1,x2,y2,x3,y3,... always redacted (repeatable).",
                            repeatable=True, panel=PANEL_REDACT),
    "redact_mode": Option(str, "analytics", "blur, pixelate or fill.", _default(RedactConfig, "mode"), panel=PANEL_ADV_IO),
    "redact_hold": Option(int, "analytics", "Frames a redacted object stays redacted (at its predicted, padded box) after "
                          "its last detection. Raise: safer through misses.", _default(RedactConfig, "hold_frames"), low=0,
                          panel=PANEL_ADV_IO),
    "redact_labels": Option(bool, "analytics", "Draw labels over redacted objects too.", _default(RedactConfig, "labels"),
                            panel=PANEL_ADV_IO),
}

#: The outputs that declare their own path option (``sinks/open.py``: an ``Output`` line in
#: ``OPENERS``) and the source kinds that declare options (``sources/open.py``: an ``Input``
#: line): their options join the table after the built-in ones.
OUTPUT_PLUGINS: tuple[str, ...] = tuple(output_options())
SOURCE_PLUGINS: tuple[str, ...] = tuple(input_options())
for _name, _option in {**output_options(), **input_options()}.items():
    if _name in OPTIONS:
        raise ValueError(f"a registered output or source kind declares {_name!r}, which vidtrack.options.OPTIONS already has")
    OPTIONS[_name] = _option


def _group(name: str) -> tuple[str, ...]:
    return tuple(n for n, o in OPTIONS.items() if o.group == name)


#: The options of each part of the run request, from :data:`OPTIONS`' ``group`` (tracker knobs
#: are named as in :class:`vidtrack.tracking.TrackerConfig`; ``raw_boxes`` inverts ``smooth_boxes``).
TRACKER_OPTIONS = _group("tracker")
DETECTOR_OPTIONS = _group("detector")
SOURCE_OPTIONS = _group("source")
OVERLAY_OPTIONS = _group("overlay")
OUTPUT_OPTIONS = _group("output")
#: Lines, zones and redaction (:class:`vidtrack.analytics.config.AnalyticsConfig`).
ANALYTICS_OPTIONS = _group("analytics")
VIEW_OPTIONS = _group("view")
#: When the detector runs (:class:`vidtrack.config.ScheduleConfig`).
SCHEDULE_OPTIONS = _group("schedule")

#: Every option name :func:`request_from_options` accepts.
RUN_OPTIONS: tuple[str, ...] = tuple(OPTIONS)

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


#: Largest magnitude of an integer option value from an untyped front end (32-bit signed):
#: every frame count, age and cap fits (issue 23).
MAX_INT_VALUE = 2**31 - 1


def flag(name: str) -> str:
    """The CLI spelling option errors are written in (``max_age`` -> ``--max-age``); the Python and
    HTTP front ends reword it (:func:`vidtrack.errors.in_terms_of`)."""
    return OPTIONS[name].flag_names(name)[0].split("/")[0] if name in OPTIONS else "--" + name.replace("_", "-")


def check_value(name: str, value: Any) -> Any:
    """A value given for run option ``name`` as its type, checked against the table: the one coercer.

    Every front end's values pass through here (:func:`request_from_options` calls it): text
    from an HTTP form becomes the option's type, a JSON, YAML/TOML or Python number is checked
    against it, numbers must be finite and inside the table's range. A repeatable option takes
    one value or a list; a list for a text option is joined with commas (``["person", "car"]``
    -> ``"person,car"``). ``None`` stays None (the default). Values that are already richer
    than text (a ``datetime`` for ``start_time``, parsed polygons) pass through to the config,
    which checks them. Errors are worded in the CLI's terms (``--conf 2 is out of range``).

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
        if isinstance(value, (str, Path, Mapping)) or not isinstance(value, Iterable):
            return [value]  # one item: its text, a {points, name} mapping, a parsed shape
        return list(value)
    kind, spelled = option.kind, flag(name)
    if isinstance(value, (list, tuple)):
        if kind is str:
            return ",".join(str(v) for v in value)
        raise OptionError(f"{spelled} is given {len(value)} times", "give it once")
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise OptionError(f"{spelled} {value!r} is not true or false", f"give {spelled} true or false")
    if kind in (int, float):
        number = _number(name, value, kind)
        if not math.isfinite(number):
            raise OptionError(f"{spelled} {value!r} is not a finite number", "give a plain number")
        if (option.low is not None and number < option.low) or (option.high is not None and number > option.high):
            span = f"between {option.low:g} and {option.high:g}" if option.low is not None and option.high is not None else (
                f"at least {option.low:g}" if option.low is not None else f"at most {option.high:g}")
            raise OptionError(f"{spelled} {value!r} is out of range", f"use a value {span}")
        if kind is int and abs(number) > MAX_INT_VALUE:  # 1e300 frames: a job that never reports anything
            raise OptionError(f"{spelled} {value!r} is out of range", f"use at most {MAX_INT_VALUE:,}")
        return number
    if kind is str:
        if isinstance(value, bool):  # YAML reads on/off/yes/no as booleans: hud: off, motion_gate: on
            return "on" if value else "off"
        if isinstance(value, (dict, float)):  # {"a": 1}, 2.5 or true is no text a flag would take
            raise OptionError(f"{spelled} {value!r} is not a text value", "give it as text, as on the command line")
        return str(value) if isinstance(value, (int, Path)) else value
    if kind is Path and not isinstance(value, (str, Path)):
        raise OptionError(f"{spelled} {value!r} is not a path", "give a file or folder name")
    return value


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", Path: "string"}


def json_schema(name: str) -> dict[str, Any]:
    """Run option ``name`` as a JSON Schema property (the HTTP API's ``/docs``): type, range,
    default and description from the table, as ``vidtrack run --help`` shows them."""
    option = OPTIONS[name]
    schema: dict[str, Any] = {"type": _JSON_TYPES.get(option.kind, "string")}
    if option.low is not None:
        schema["minimum"] = option.low
    if option.high is not None:
        schema["maximum"] = option.high
    if option.repeatable:
        schema = {"type": "array", "items": schema}
    if option.default is not None:
        schema["default"] = option.default
    schema["description"] = option.help.replace("\\[", "[")  # no rich markup escapes outside the terminal
    return schema


def _number(name: str, value: Any, kind: type) -> Any:
    """``value`` as an int or float; text is parsed, numbers are checked (a bool is not a number)."""
    problem = OptionError(
        f"{flag(name)} {value!r} is not {'a whole number' if kind is int else 'a number'}",
        "see 'vidtrack run --help' for its values",
    )
    if isinstance(value, bool):
        raise problem
    if isinstance(value, str):
        try:
            return kind(value.strip())
        except ValueError:
            raise problem from None
    if isinstance(value, numbers.Real):  # int, float, numpy scalars
        if kind is int and not isinstance(value, numbers.Integral):
            if not float(value).is_integer():
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
    "detect": "vidtrack's 'detect_every' (N or auto) sets how often the detector runs; 'imgsz' sets the model's input size",
    "ffmpeg": "vidtrack opens the source itself; give the stream URL as the source ('rtsp_transport' for RTSP)",
    "record": "vidtrack writes the annotated video with 'output' (e.g. output: out.mp4) and event clips with 'clips' (a folder; 'pre'/'post' seconds)",
    "snapshots": "vidtrack's 'snapshots' is a folder for each track's best view and each event's frame",
    "mqtt": "vidtrack's 'mqtt' is one URL, mqtt://[user:password@]host:port/topic, that events are published to",
    "zones": "vidtrack's zones are 'zone' (a list of polygons, 'x,y x,y x,y:name')",
    "motion": "vidtrack's motion gating is 'motion_gate' (auto|on|off), with 'motion_mask' polygons to ignore",
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

    Every value is coerced and checked by :func:`check_value` first (the table's type and
    range), then by the config dataclass that holds it (the finer rules).

    Args:
        sources: source specs as ``vidtrack run`` takes them (paths, URLs, webcam indexes).
        options: option name → value, names as in :data:`RUN_OPTIONS` (dashes allowed);
            missing names take their defaults, ``None`` values count as missing.

    Raises:
        OptionError: an unknown option name or a bad value (one line with the fix).
    """
    check_known(options)
    o = {normalise_key(k): check_value(k, v) for k, v in options.items() if v is not None}
    o = {k: v for k, v in o.items() if v is not None}
    detector = {k: o[k] for k in DETECTOR_OPTIONS if k in o}
    if "classes" in detector:
        detector["classes"] = split_classes(detector["classes"])
    if "tile_region" in detector:  # repeatable: a list of polygons
        detector["tile_regions"] = tuple(detector.pop("tile_region"))
    tracker = {k: o[k] for k in TRACKER_OPTIONS if k in o and k != "raw_boxes"}
    if "raw_boxes" in o:
        tracker["smooth_boxes"] = not bool(o["raw_boxes"])
    output = {k: o[k] for k in ("crf", "preset", "pre", "post") if k in o}
    return RunRequest(
        sources=[str(s) for s in sources],
        detector=DetectorConfig(**detector),
        tracker=TrackerConfig(**tracker),
        source=SourceConfig(
            **{k: o[k] for k in SOURCE_OPTIONS if k in o and k not in SOURCE_PLUGINS},
            more=tuple((name, o[name]) for name in SOURCE_PLUGINS if name in o),
        ),
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
            more=tuple((name, Path(o[name])) for name in OUTPUT_PLUGINS if o.get(name) not in (None, "")),
            **output,
        ),
        analytics=AnalyticsConfig.from_options(**{k: o[k] for k in ANALYTICS_OPTIONS if k in o}),
        schedule=ScheduleConfig(**{k: o[k] for k in SCHEDULE_OPTIONS if k in o}),
        show=bool(o.get("show", False)),
        serve=None if o.get("serve") is None else str(o["serve"]),
        token=o.get("token"),
    )
