"""Run options as frozen dataclasses, validated once when built.

The CLI builds these from its flags; library users build them directly. Every value is
checked here so that the stages can trust what they get.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from vidtrack.errors import OptionError, check_option
from vidtrack.geometry import Points, parse_polygon, specs

#: ``--cmc`` values (camera motion compensation, :mod:`vidtrack.motion`): ``auto`` turns itself
#: on while the picture moves, ``on`` estimates every frame, ``off`` never (no OpenCV work).
CMC_MODES = ("auto", "on", "off")

#: The model used when neither ``--model`` nor ``VIDTRACK_MODEL`` says otherwise.
#: Ultralytics downloads it on first use on a machine with internet access.
DEFAULT_MODEL = "yolo11n.pt"
MODEL_ENV = "VIDTRACK_MODEL"


def default_model() -> str:
    """The model named by ``VIDTRACK_MODEL``, else Ultralytics' ``yolo11n.pt``."""
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL


#: The backends vidtrack ships (detection/registry.py); plug-ins may add more.
BUILTIN_BACKENDS = ("ultralytics", "openvino", "openvino-export", "onnx", "rtdetr", "torchvision")

#: Largest ``--imgsz``: 4096 covers a 4K UHD frame (3840 wide) at full resolution; above
#: it the model only sees an upscaled picture, and YOLO11n's activations alone pass 10 GB
#: (OpenVINO's compile at 100000 fails with std::bad_alloc).
MAX_IMGSZ = 4096


def parse_tiles(value: str | int | None) -> str:
    """Normalise a ``--tiles`` value to ``"off"``, ``"auto"`` or a decimal ``"N"`` (2-16).

    Raises:
        OptionError: anything else (one line with the fix).
    """
    text = "off" if value is None else str(value).strip().lower()
    if text in ("off", "auto"):
        return text
    if text in ("0", "1", "no", "false", "none"):
        return "off"
    if text.isdigit() and 2 <= int(text) <= 16:
        return str(int(text))
    raise OptionError(f"--tiles {value!r} is not auto, off or a number of tiles 2-16", "use e.g. --tiles auto or --tiles 3")


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


def _check_range(value: float, lo: float, hi: float, flag: str) -> None:
    check_option(lo <= value <= hi, flag, value, f"use a value between {lo} and {hi}")


@dataclass(frozen=True)
class DetectorConfig:
    """What to detect and how.

    ``classes`` holds class names or ids as the user gave them; the detector resolves
    them against the model's class list once it is loaded.
    """

    model: str = field(default_factory=default_model)
    conf: float = 0.25  # raise: fewer false positives, more missed objects
    iou: float = 0.7  # NMS IoU; lower merges more overlapping boxes
    imgsz: int = 640
    device: str | None = None  # None: the runtime's default (CPU here)
    classes: tuple[str, ...] | None = None
    max_det: int = 300
    single: bool = False  # localization mode: keep only the most confident box per frame
    backend: str = "auto"  # auto, or a registered backend (detection/registry.py): openvino, onnx, ultralytics, rtdetr, torchvision
    # Sliced inference for small objects (detection/tiling.py): "off", "auto" (tile frames at
    # least twice the model input) or "N" tiles along the long side. More tiles: smaller
    # objects found, each tile costs about one more model call per frame.
    tiles: str = "off"
    # Polygons (x,y points; pixels, or fractions of the frame when all <= 1) to tile instead of
    # the whole frame: only where small objects are expected, so live streams keep their rate.
    tile_regions: tuple[Points, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiles", parse_tiles(self.tiles))
        object.__setattr__(self, "tile_regions", tuple(parse_polygon(p) for p in self.tile_regions))
        _check_range(self.conf, 0.0, 1.0, "--conf")
        _check_range(self.iou, 0.0, 1.0, "--iou")
        if self.imgsz < 32 or self.imgsz % 32:
            raise OptionError(f"--imgsz {self.imgsz} is not a positive multiple of 32", "use e.g. 320, 640 or 1280")
        if self.imgsz > MAX_IMGSZ:
            raise OptionError(
                f"--imgsz {self.imgsz} is larger than {MAX_IMGSZ}",
                f"use at most {MAX_IMGSZ} (a 4K frame at full size); 640 or 1280 suit most videos",
            )
        if self.max_det < 1:
            raise OptionError(f"--max-det {self.max_det} must be at least 1", "use e.g. 300")
        if not re.fullmatch(r"[a-z][a-z0-9_.-]*", self.backend):  # the registry knows the names (detection/registry.py)
            raise OptionError(f"--backend {self.backend!r} is unknown", f"use auto or a backend name: {', '.join(BUILTIN_BACKENDS)}")


@dataclass(frozen=True)
class SourceConfig:
    """How sources are read."""

    every_frame: bool = False  # live sources: process every frame instead of only the newest
    stall_timeout: float = 5.0  # live: seconds without a new frame before reconnecting
    max_retries: int | None = None  # live: reconnect attempts; None = unlimited
    # live RTSP: "tcp" (RTP interleaved on the RTSP connection: no smeared frames from lost
    # packets, passes NAT/firewalls) or "udp" (for cameras that answer 461 to TCP).
    rtsp_transport: str = "tcp"
    loop: int = 1  # files: play the source this many times (soak tests, benchmarks)
    # files still being written (a recorder appending): keep reading at the end until the file
    # has not grown for this many seconds; 0 reads to the end as it is when reached
    follow: float = 0.0
    # Wall-clock time of the first frame of files: an aware datetime, "auto" (container tag,
    # then file name; see vidtrack.wallclock) or None (no wall-clock time: outputs unchanged).
    # Live sources use the capture clock whenever it is set.
    start_time: "datetime | str | None" = None
    # Values of the options that registered source kinds declare (sources/open.py: Input
    # entries), by option name: (("pattern_step", 3),). Read them with extra().
    more: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        from vidtrack.wallclock import parse_start_time

        more = self.more.items() if isinstance(self.more, dict) else self.more
        object.__setattr__(self, "more", tuple((str(name), value) for name, value in more))
        object.__setattr__(self, "start_time", parse_start_time(self.start_time))
        if self.stall_timeout <= 0:
            raise OptionError(f"--stall-timeout {self.stall_timeout} must be positive", "use e.g. 5")
        if self.rtsp_transport not in ("tcp", "udp"):
            raise OptionError(f"--rtsp-transport {self.rtsp_transport!r} is not tcp or udp", "use --rtsp-transport tcp or udp")
        if self.max_retries is not None and self.max_retries < 0:
            raise OptionError(f"--max-retries {self.max_retries} must be >= 0", "omit it for unlimited retries")
        if self.loop < 1:
            raise OptionError(f"--loop {self.loop} must be at least 1", "use 1 to play the source once")
        if self.follow < 0:
            raise OptionError(f"--follow {self.follow} is negative", "give seconds without growth, e.g. --follow 10")

    def extra(self, name: str, default: Any = None) -> Any:
        """The value of a registered source kind's option ``name`` (``default`` when not given)."""
        return dict(self.more).get(name, default)


#: HUD modes (``--hud``): ``auto`` is ``debug`` in live views (``--show``/``--serve``) and
#: ``clean`` otherwise; ``clean`` shows what a viewer of an exported video needs (the time of
#: the frame when known, the counts); ``debug`` adds processing FPS, per-stage ms and frame age.
HUD_MODES = ("auto", "clean", "debug", "off")


@dataclass(frozen=True)
class OverlayConfig:
    """What is drawn on each frame."""

    boxes: bool = True
    labels: bool = True
    trails: bool = True
    hud: bool = True
    # Burn the frame's wall-clock time into the picture, CCTV style. None: on when the time is
    # known (--start-time), so nothing changes without it.
    timestamp: bool | None = None
    trail_length: int = 30  # frames of history per trail
    # auto: developer timings (FPS, ms per stage, frame age) in live views only; clean: time and
    # counts (what an exported video needs); debug: timings everywhere; off: no HUD.
    hud_mode: str = "auto"

    def __post_init__(self) -> None:
        if self.hud_mode not in HUD_MODES:
            raise OptionError(f"--hud {self.hud_mode!r} is unknown", f"use one of {', '.join(HUD_MODES)}")


#: x264 presets, fastest first: each step slower encodes smaller files at the same quality.
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


#: ``-o`` extensions written as video, and as a still image (see :mod:`vidtrack.sinks.images`).
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class OutputConfig:
    """Where results go. Any of them may be None."""

    video: Path | None = None
    jsonl: Path | None = None
    mot: Path | None = None
    summary: Path | None = None
    events: Path | None = None  # analytics events, one JSON line each
    snapshots: Path | None = None  # folder: best view of each track, picture of each event (JPEG)
    clips: Path | None = None  # folder: an H.264 MP4 per review item (events merged when their windows overlap)
    pre: float = 3.0  # clips: seconds before an item's first event
    post: float = 5.0  # clips: seconds after its last event
    clips_clean: bool = False  # clips without boxes and labels (still redacted)
    heatmap: Path | None = None  # PNG: where tracked objects' feet were, over a median background
    heatmap_per_class: bool = False  # also one PNG per class (FILE-person.png...)
    webhook: str | None = None  # http(s) URL: each event is POSTed as JSON (background, retried)
    mqtt: str | None = None  # mqtt://[user:pass@]HOST:PORT/TOPIC: each event published (background, retried)
    # Paths of the outputs registered with their own option (sinks/open.py: Output entries),
    # by option name: (("track_csv", Path("t.csv")),). The built-in outputs have fields above.
    more: tuple[tuple[str, Path], ...] = ()
    # x264 quality: lower is better and bigger (+6 about doubles the size; 18 is visually lossless).
    crf: int = 30
    # x264 speed/size: ultrafast keeps 1080p encoding real-time on two cores (~2x cheaper than
    # veryfast); "--preset veryfast --crf 28" gives ~2.5x smaller files for ~25% less throughput.
    preset: str = "ultrafast"

    def __post_init__(self) -> None:
        more = self.more.items() if isinstance(self.more, dict) else self.more
        object.__setattr__(self, "more", tuple((str(name), Path(path)) for name, path in more))
        _check_range(self.crf, 0, 51, "--crf")
        if self.preset not in X264_PRESETS:
            raise OptionError(f"--preset {self.preset!r} is unknown", f"use one of {', '.join(X264_PRESETS)}")
        self._check_clips()
        # -o: a video (.mp4...), a still image for a photo (.jpg/.png/.webp), or a folder
        # (no extension) for a folder of photos; the runner checks which fits the source.
        if self.video is not None and self.video.suffix.lower() not in VIDEO_SUFFIXES + IMAGE_SUFFIXES + ("",):
            raise OptionError(
                f"output {self.video} has an unsupported extension",
                "use .mp4, .mkv, .webm or .mov for video, .jpg, .png or .webp for a photo, or a folder for photos",
            )

    def _check_clips(self) -> None:
        if self.pre < 0 or self.post < 0:
            raise OptionError(f"--pre {self.pre} / --post {self.post} must not be negative", "give seconds, e.g. --pre 3 --post 5")
        if self.pre > 60:
            raise OptionError(f"--pre {self.pre} holds too many frames in memory", "use at most 60 seconds")

    def paths(self) -> list[Path]:
        """Every output path given, the summary included (folders such as ``snapshots`` are not paths here)."""
        fixed = (self.video, self.jsonl, self.mot, self.summary, self.events, self.heatmap)
        return [p for p in fixed + tuple(path for _, path in self.more) if p is not None]

    def files(self) -> dict[str, Path | None]:
        """The outputs written by a sink during the run, by field name (the summary is written after it)."""
        return {
            "video": self.video, "jsonl": self.jsonl, "mot": self.mot, "events": self.events, "heatmap": self.heatmap,
            "snapshots": self.snapshots, "clips": self.clips,  # folders
            **dict(self.more),
        }

#: ``--detect-every auto``: the longest stride on files, frames (tracks interpolated between
#: detections; longer strides save little more and hold more frames back for interpolation).
AUTO_MAX_STRIDE = 6
#: ... on live sources, where tracks between detections are predicted (extrapolated) instead.
AUTO_MAX_STRIDE_LIVE = 3


@dataclass(frozen=True)
class ScheduleConfig:
    """When the detector runs (see ``detection/schedule.py``): motion gating and strided detection.

    ``motion_gate``: ``on`` skips the detector on frames where nothing moves (tracks are held
    stationary, re-checked by a full detection every ``recheck_s`` seconds); ``off`` never
    skips; ``auto`` is ``on`` for video (files and live) and ``off`` for photos.
    ``detect_every``: ``"N"`` runs the detector on every N-th frame of moving scenes (tracks
    interpolated between, on files; predicted, on live sources); ``"auto"`` picks 1 to
    :data:`AUTO_MAX_STRIDE` (files; :data:`AUTO_MAX_STRIDE_LIVE` live) from the objects' speed
    relative to their size (and, live, their distance to lines/zones).
    ``motion_mask``: polygons (the ``--zone`` syntax, pixels or fractions) where motion is ignored.
    """

    motion_gate: str = "off"  # on: skip the detector where nothing moves; stationary objects held
    detect_every: str = "1"  # N or auto: higher is faster, boxes between detections interpolated
    motion_mask: tuple | None = None  # analytics.geometry.Spec polygons (None: none); motion there is ignored
    recheck_s: float = 5.0  # gated: seconds between full detections of a still scene

    def __post_init__(self) -> None:
        gate = str(self.motion_gate).strip().lower()
        if gate not in ("auto", "on", "off"):
            raise OptionError(f"--motion-gate {self.motion_gate!r} is unknown", "use auto, on or off")
        object.__setattr__(self, "motion_gate", gate)
        every = str(self.detect_every).strip().lower()
        if every != "auto":
            try:
                ok = int(every) >= 1
            except ValueError:
                ok = False
            if not ok:
                raise OptionError(f"--detect-every {self.detect_every!r} is not a whole number >= 1 or auto", "use e.g. 1, 3 or auto")
            every = str(int(every))
        object.__setattr__(self, "detect_every", every)
        object.__setattr__(self, "motion_mask", specs(self.motion_mask or None, "--motion-mask", 3))
        if not self.recheck_s > 0:
            raise OptionError(f"recheck {self.recheck_s} must be positive", "use e.g. 2 seconds")

    @property
    def max_stride(self) -> int:
        """The longest gap between two detected frames of a moving scene (files)."""
        return AUTO_MAX_STRIDE if self.detect_every == "auto" else int(self.detect_every)

    def max_stride_for(self, live: bool) -> int:
        """:attr:`max_stride` for a source: ``auto`` strides shorter on live sources (predicted, not interpolated)."""
        return AUTO_MAX_STRIDE_LIVE if live and self.detect_every == "auto" else self.max_stride

    def gated(self, stills: bool) -> bool:
        """Whether the motion gate runs for a source (``auto``: every video, no photos)."""
        return self.motion_gate == "on" or (self.motion_gate == "auto" and not stills)
