"""``vidtrack run`` and ``vidtrack demo``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from vidtrack.cli.tracker_options import (
    TRACKER_DEFAULTS,
    CmcOption,
    HighScoreRankOption,
    IouBufferOption,
    NewTrackGateOption,
    IouThresholdOption,
    LowIouThresholdOption,
    MaxAgeOption,
    MinHitsOption,
    MinScoreRankOption,
    NewTrackScoreRankOption,
    PositionGainOption,
    RawBoxesOption,
    ScoreMemoryOption,
    VelocityGainOption,
)
from vidtrack.cli.analytics_options import (
    LINE_DEFAULTS,
    LINK_DEFAULTS,
    PANEL as PANEL_ANALYTICS,
    AnchorOption,
    CountModeOption,
    LineConfirmOption,
    LineMarginOption,
    LineOption,
    LinkDistanceOption,
    LinkGapOption,
)
from vidtrack.analytics.redact import RedactConfig
from vidtrack.analytics.speed import WINDOW_S as SPEED_WINDOW_S
from vidtrack.analytics.zones import ZoneConfig
from vidtrack.config import (
    DEFAULT_MODEL, MODEL_ENV, DetectorConfig, OutputConfig, OverlayConfig, ScheduleConfig, SourceConfig,
)
from vidtrack.errors import VidtrackError, mask_credentials
from vidtrack.request import RunRequest

if TYPE_CHECKING:
    from vidtrack.runner import RunOutcome

#: Everyday options have no panel (typer's "Options", shown first); the rest are grouped,
#: tuning knobs last under "Advanced: ...".
PANEL_EVERYDAY = None
PANEL_OUTPUT = "Outputs and overlay"
PANEL_LIVE = "Live sources and viewing"
PANEL_REDACT = "Redaction"
PANEL_DETECT = "Advanced: detector"
PANEL_ADV_IO = "Advanced: outputs, live sources, redaction"
PANEL_TRACK = "Advanced: tracker"
ZONE_DEFAULTS = ZoneConfig()
REDACT_DEFAULTS = RedactConfig()


#: Detector options that ``vidtrack bench`` offers too: help written once, here.
ImgszOption = Annotated[int, typer.Option(help="Inference size in pixels (multiple of 32). Larger finds small objects, slower.", rich_help_panel=PANEL_DETECT)]
BackendOption = Annotated[str, typer.Option(help="auto, ultralytics, openvino, onnx or rtdetr (a registered backend; torchvision:NAME models pick theirs). auto runs OpenVINO exports directly and exports a .pt to OpenVINO once on CPU.", rich_help_panel=PANEL_DETECT)]
DeviceOption = Annotated[Optional[str], typer.Option(help="Inference device, e.g. cpu, 0 (CUDA), intel:gpu. Default: the runtime's.", rich_help_panel=PANEL_DETECT)]


def run_command(
    ctx: typer.Context,
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Video file, image/folder/glob, webcam index (0) or stream URL (rtsp/http/udp/tcp). Several run side by side.",
            show_default=False,
            metavar="SOURCE",
        ),
    ],
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Annotated video (.mp4 H.264, .mkv, .webm); for photos an image (.jpg, .png, .webp) or a folder (out/). With several sources, -0, -1... is added to the name.", rich_help_panel=PANEL_EVERYDAY),
    ] = None,
    model: Annotated[
        Optional[str],
        typer.Option(help=f"Model file or exported folder (.pt, .onnx, OpenVINO dir). Default: ${MODEL_ENV} or {DEFAULT_MODEL}.", rich_help_panel=PANEL_EVERYDAY, show_default=False),
    ] = None,
    conf: Annotated[float, typer.Option(help="Minimum detection confidence (0-1). Raise: fewer false boxes, more misses.", rich_help_panel=PANEL_EVERYDAY)] = DetectorConfig.conf,
    iou: Annotated[float, typer.Option(help="NMS IoU (0-1). Lower merges more overlapping boxes.", rich_help_panel=PANEL_DETECT)] = DetectorConfig.iou,
    imgsz: ImgszOption = DetectorConfig.imgsz,
    device: DeviceOption = None,
    classes: Annotated[Optional[str], typer.Option(help="Only these classes, by name or id: person,car or 0,2.", rich_help_panel=PANEL_EVERYDAY)] = None,
    max_det: Annotated[int, typer.Option(help="Most detections per frame.", rich_help_panel=PANEL_DETECT)] = DetectorConfig.max_det,
    single: Annotated[bool, typer.Option("--single", help="Localization mode: keep only the most confident object per frame.", rich_help_panel=PANEL_DETECT)] = False,
    backend: BackendOption = DetectorConfig.backend,
    tiles: Annotated[str, typer.Option(help="Sliced inference for small objects: auto (frames >= 2x the model input), off, or N tiles along the long side. Each tile costs about one more model call.", rich_help_panel=PANEL_DETECT)] = DetectorConfig.tiles,
    tile_region: Annotated[Optional[list[str]], typer.Option(help='Tile only inside this polygon, "x,y x,y x,y ..." in pixels (or fractions <= 1 of the frame). Repeatable. Keeps live streams fast.', rich_help_panel=PANEL_DETECT, show_default=False)] = None,
    motion_gate: Annotated[str, typer.Option(help="Skip the detector where nothing moves: on, off, or auto (on for video). Still objects keep their tracks, re-checked every 5 s.", rich_help_panel=PANEL_DETECT)] = ScheduleConfig.motion_gate,
    motion_mask: Annotated[Optional[list[str]], typer.Option("--motion-mask", help="Polygon x1,y1,x2,y2,x3,y3,... (pixels or fractions) where motion is ignored: trees, clocks, burned-in time (repeatable).", rich_help_panel=PANEL_DETECT, show_default=False)] = None,
    detect_every: Annotated[str, typer.Option(help="Run the detector on every N-th frame of moving scenes, or auto (1-4 by speed, size, lines). Files: tracks interpolated between; live: predicted.", rich_help_panel=PANEL_DETECT)] = ScheduleConfig.detect_every,
    iou_threshold: IouThresholdOption = TRACKER_DEFAULTS.iou_threshold,
    low_iou_threshold: LowIouThresholdOption = TRACKER_DEFAULTS.low_iou_threshold,
    high_score_rank: HighScoreRankOption = TRACKER_DEFAULTS.high_score_rank,
    min_score_rank: MinScoreRankOption = TRACKER_DEFAULTS.min_score_rank,
    new_track_score_rank: NewTrackScoreRankOption = TRACKER_DEFAULTS.new_track_score_rank,
    min_hits: MinHitsOption = TRACKER_DEFAULTS.min_hits,
    max_age: MaxAgeOption = TRACKER_DEFAULTS.max_age,
    position_gain: PositionGainOption = TRACKER_DEFAULTS.position_gain,
    velocity_gain: VelocityGainOption = TRACKER_DEFAULTS.velocity_gain,
    score_memory: ScoreMemoryOption = TRACKER_DEFAULTS.score_memory,
    iou_buffer: IouBufferOption = TRACKER_DEFAULTS.iou_buffer,
    new_track_gate: NewTrackGateOption = TRACKER_DEFAULTS.new_track_gate,
    cmc: CmcOption = TRACKER_DEFAULTS.cmc,
    raw_boxes: RawBoxesOption = False,
    no_trails: Annotated[bool, typer.Option("--no-trails", help="Don't draw track trails.", rich_help_panel=PANEL_OUTPUT)] = False,
    hud: Annotated[str, typer.Option("--hud", help="What the corner panel shows: clean (date/time when known, counts), debug (also processing FPS, ms per stage, frame age), off; auto: debug in --show/--serve views without -o, else clean.", rich_help_panel=PANEL_OUTPUT, metavar="auto|clean|debug|off")] = OverlayConfig.hud_mode,
    no_hud: Annotated[bool, typer.Option("--no-hud", help="Don't draw the corner panel (same as --hud off).", rich_help_panel=PANEL_OUTPUT)] = False,
    no_labels: Annotated[bool, typer.Option("--no-labels", help="Don't draw '#id class confidence' labels.", rich_help_panel=PANEL_OUTPUT)] = False,
    jsonl: Annotated[Optional[Path], typer.Option(help="One JSON line per frame with its tracked detections.", rich_help_panel=PANEL_EVERYDAY)] = None,
    mot: Annotated[Optional[Path], typer.Option(help="MOTChallenge rows: frame,id,x,y,w,h,conf,-1,-1,-1.", rich_help_panel=PANEL_OUTPUT)] = None,
    summary: Annotated[Optional[Path], typer.Option(help="JSON summary at the end: frames, fps, tracks per class, tags.", rich_help_panel=PANEL_EVERYDAY)] = None,
    snapshots: Annotated[Optional[Path], typer.Option(help="Folder for snapshots: each track's best view (crop and whole frame, JPEG) and each event's frame; events and the summary name the files. Redaction applies.", rich_help_panel=PANEL_OUTPUT, show_default=False)] = None,
    clips: Annotated[Optional[Path], typer.Option(help="Folder for event clips: an H.264 MP4 per review item, --pre s before its first event to --post s after its last (overlapping events merge), with the source's audio.", rich_help_panel=PANEL_OUTPUT, show_default=False)] = None,
    pre: Annotated[float, typer.Option(help="Clips: seconds before the first event (held in memory: lower it for big frames).", rich_help_panel=PANEL_ADV_IO)] = OutputConfig.pre,
    post: Annotated[float, typer.Option(help="Clips: seconds after the last event.", rich_help_panel=PANEL_ADV_IO)] = OutputConfig.post,
    clips_clean: Annotated[bool, typer.Option("--clips-clean", help="Clips without boxes, labels and HUD (redaction still applies).", rich_help_panel=PANEL_ADV_IO)] = False,
    heatmap: Annotated[Optional[Path], typer.Option(help="PNG of where tracked objects' feet were over the run, blended over a median background frame.", rich_help_panel=PANEL_OUTPUT, show_default=False)] = None,
    heatmap_per_class: Annotated[bool, typer.Option("--heatmap-per-class", help="Also one heatmap per class, FILE-<class>.png.", rich_help_panel=PANEL_ADV_IO)] = False,
    webhook: Annotated[Optional[str], typer.Option(help="POST each event as JSON to this http(s) URL, from a background queue with retries (never slows the run; drops are counted in the summary).", rich_help_panel=PANEL_OUTPUT, show_default=False)] = None,
    mqtt: Annotated[Optional[str], typer.Option(help="Publish each event as JSON to mqtt://\\[user:pass@]HOST:PORT/TOPIC (QoS 1, background queue with retries; needs paho-mqtt: pip install 'vidtrack\\[notify]'). The password is never shown.", rich_help_panel=PANEL_OUTPUT, show_default=False)] = None,
    crf: Annotated[int, typer.Option(help="H.264 quality, 0-51: lower is better and bigger.", rich_help_panel=PANEL_ADV_IO)] = OutputConfig.crf,
    preset: Annotated[str, typer.Option(help="x264 preset: faster presets encode quicker, files are bigger.", rich_help_panel=PANEL_ADV_IO)] = OutputConfig.preset,
    every_frame: Annotated[bool, typer.Option("--every-frame", help="Live sources: process every frame (may fall behind) instead of the newest.", rich_help_panel=PANEL_ADV_IO)] = False,
    stall_timeout: Annotated[float, typer.Option(help="Live: seconds without a new frame before reconnecting.", rich_help_panel=PANEL_ADV_IO)] = SourceConfig.stall_timeout,
    max_retries: Annotated[Optional[int], typer.Option(help="Live: reconnect attempts (default: unlimited).", rich_help_panel=PANEL_ADV_IO)] = None,
    rtsp_transport: Annotated[str, typer.Option(help="Live: how RTSP cameras send RTP: tcp (no lost packets, passes NAT) or udp (for cameras that offer only UDP).", rich_help_panel=PANEL_ADV_IO)] = SourceConfig.rtsp_transport,
    loop: Annotated[int, typer.Option(help="Files: play the source this many times (soak tests).", rich_help_panel=PANEL_ADV_IO)] = SourceConfig.loop,
    follow: Annotated[float, typer.Option(help="Files still being written: keep reading at the end until the file has not grown for this many seconds (0: off).", rich_help_panel=PANEL_ADV_IO)] = SourceConfig.follow,
    start_time: Annotated[Optional[str], typer.Option(help="Wall-clock time of the first frame, ISO 8601 (2026-12-06T14:30:00+01:00), or auto: the file's creation_time tag, then its name (YYYYMMDD_HHMMSS, YYYY-MM-DD_HH-MM-SS, ch01_YYYYMMDDHHMMSS; local time). Adds 'time' to JSONL, events and the summary. Live sources use the capture clock.", rich_help_panel=PANEL_OUTPUT, show_default=False)] = None,
    timestamp: Annotated[Optional[bool], typer.Option("--timestamp/--no-timestamp", help="Burn the date and time into the picture, CCTV style. Default: on when the time is known (--start-time).", rich_help_panel=PANEL_OUTPUT, show_default=False)] = None,
    show: Annotated[bool, typer.Option("--show", help="Show a window (q or Esc quits).", rich_help_panel=PANEL_EVERYDAY)] = False,
    serve: Annotated[Optional[str], typer.Option(help="Serve a live web view at \\[HOST:]PORT (default host 127.0.0.1).", rich_help_panel=PANEL_EVERYDAY)] = None,
    token: Annotated[Optional[str], typer.Option(help="Token every web-view request must carry; required off loopback.", rich_help_panel=PANEL_LIVE)] = None,
    line: LineOption = None,
    zone: Annotated[
        Optional[list[str]],
        typer.Option(
            "--zone",
            help="Zone polygon x1,y1,x2,y2,x3,y3,...[:name] in pixels or fractions (repeatable; concave is fine). "
            "Reports occupancy, entries, exits and dwell time per visit.",
            rich_help_panel=PANEL_EVERYDAY,
            show_default=False,
        ),
    ] = None,
    anchor: AnchorOption = "bottom-center",
    count_mode: CountModeOption = LINE_DEFAULTS.count_mode,
    line_margin: LineMarginOption = LINE_DEFAULTS.margin,
    line_confirm: LineConfirmOption = LINE_DEFAULTS.confirm_frames,
    link_gap: LinkGapOption = LINK_DEFAULTS.max_gap_s,
    link_distance: LinkDistanceOption = LINK_DEFAULTS.max_distance,
    zone_entry_frames: Annotated[int, typer.Option(help="Observations in a row inside a zone before an entry. Raise: one jumping box is never an entry; entries decided later.", rich_help_panel=PANEL_ANALYTICS)] = ZONE_DEFAULTS.entry_frames,
    zone_exit_grace: Annotated[float, typer.Option(help="Seconds unseen inside a zone before an exit. Raise: longer occlusions are not exits; exits decided later.", rich_help_panel=PANEL_ANALYTICS)] = ZONE_DEFAULTS.exit_grace_s,
    loiter: Annotated[Optional[float], typer.Option(help="Emit a loiter event once a visit to a zone lasts this many seconds.", rich_help_panel=PANEL_ANALYTICS, show_default=False)] = None,
    speed_zone: Annotated[Optional[list[str]], typer.Option("--speed-zone", help="Ground rectangle for speeds: its corners x1,y1,...,x4,y4 in the picture (in order; pixels or fractions), then :WIDTH_M,LENGTH_M (x1,y1->x2,y2 is WIDTH_M metres, x2,y2->x3,y3 LENGTH_M), then [:name]. Speeds in km/h go in JSONL, events and the summary (repeatable).", rich_help_panel=PANEL_ANALYTICS, show_default=False)] = None,
    speed_limit: Annotated[Optional[float], typer.Option(help="km/h: emit a 'speeding' event once per track and speed zone above it.", rich_help_panel=PANEL_ANALYTICS, show_default=False)] = None,
    speed_window: Annotated[float, typer.Option(help="Seconds of each track's path a speed is fitted over. Raise: steadier speeds; lower: follows braking sooner.", rich_help_panel=PANEL_ANALYTICS)] = SPEED_WINDOW_S,
    events: Annotated[Optional[Path], typer.Option(help="Analytics events, one JSON line each: crossings, zone entries/exits, loiter.", rich_help_panel=PANEL_EVERYDAY)] = None,
    redact: Annotated[Optional[str], typer.Option(help="Redact objects of these classes (e.g. person) in the video, window and web view; fails closed for --redact-hold frames.", rich_help_panel=PANEL_REDACT, show_default=False)] = None,
    redact_region: Annotated[Optional[list[str]], typer.Option("--redact-region", help="A polygon x1,y1,x2,y2,x3,y3,... always redacted (repeatable).", rich_help_panel=PANEL_REDACT, show_default=False)] = None,
    redact_mode: Annotated[str, typer.Option(help="blur, pixelate or fill.", rich_help_panel=PANEL_ADV_IO)] = REDACT_DEFAULTS.mode,
    redact_hold: Annotated[int, typer.Option(help="Frames a redacted object stays redacted (at its predicted, padded box) after its last detection. Raise: safer through misses.", rich_help_panel=PANEL_ADV_IO)] = REDACT_DEFAULTS.hold_frames,
    redact_labels: Annotated[bool, typer.Option("--redact-labels", help="Draw labels over redacted objects too.", rich_help_panel=PANEL_ADV_IO)] = False,
    config: Annotated[Optional[Path], typer.Option("--config", help="YAML or TOML file of run options (any option above, named as its flag: line, zone, max-age...); options given here override it.", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary table.")] = False,
) -> None:
    """Detect and track objects in videos, images, webcams or streams; write annotated video, photos and data.

    Without -o, --jsonl or --show nothing is saved. Tuning knobs: --help-all.
    """
    options = {k: v for k, v in locals().items() if k not in ("sources", "quiet", "ctx", "config")}
    from vidtrack.options import request_from_options

    from_file: dict = {}
    try:
        if config is not None:
            from vidtrack.config_file import load_config_file, merge_options

            from_file = load_config_file(config)
            options = merge_options(from_file, options, _given(ctx), source=config)
        request = request_from_options(sources, options)
    except VidtrackError as exc:
        from vidtrack.cli.common import fail
        from vidtrack.errors import OptionError

        if from_file and isinstance(exc, OptionError):
            from vidtrack.config_file import blame_file

            exc = blame_file(exc, from_file, _given(ctx), config)
        raise fail(exc)
    _execute(request, quiet)


def _given(ctx: typer.Context) -> set[str]:
    """Parameters set on the command line (or by an environment variable), not left at their defaults."""
    try:
        from typer._click.core import ParameterSource  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - typer releases that use click itself
        from click.core import ParameterSource

    given = set()
    for name in ctx.params:
        source = ctx.get_parameter_source(name)
        if source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
            given.add(name)
    return given


def _execute(request: "RunRequest", quiet: bool) -> None:
    from vidtrack.runner import execute
    from vidtrack.web.view import WebView
    from vidtrack.cli.common import fail
    from vidtrack.cli.report import ProgressReporter

    _log_to_stderr(quiet)
    reporter = ProgressReporter(enabled=not quiet)
    try:
        outcome = execute(
            request, on_start=reporter.start, on_frame=reporter.frame, install_signals=True, web_view=WebView,
            keep_viewers=request.serve is not None,
        )
    except VidtrackError as exc:
        reporter.stop()
        raise fail(exc)
    reporter.stop()
    try:
        _finish(outcome, request, quiet, reporter.live)
    finally:
        outcome.close_viewers()


def _finish(outcome: "RunOutcome", request: "RunRequest", quiet: bool, live: bool = False) -> None:
    """Warnings, the end-of-run table, the hint; then, with ``--serve``, the page stays up until Ctrl-C."""
    from vidtrack.cli.common import fail
    from vidtrack.cli.report import print_summary

    for warning in outcome.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if not quiet:
        print_summary(outcome, live=live)
        if not request.output.paths() and not request.show and request.serve is None:
            typer.echo(_nothing_saved_hint(request, outcome), err=True)
    if outcome.open_viewers and outcome.error is None:
        _serve_until_interrupted(outcome.viewer_url)
    if outcome.error is not None:
        raise fail(outcome.error, 2 if isinstance(outcome.error, VidtrackError) else 1)


def _serve_until_interrupted(url: str | None) -> None:
    """Keep the web view up (its page shows the final state, 'ended') until Ctrl-C or SIGTERM."""
    import signal
    import threading

    typer.echo(f"the sources ended; the web view stays up at {url} with the final state: Ctrl-C quits", err=True)
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _nothing_saved_hint(request: "RunRequest", outcome: object) -> str:
    """One line after a run that wrote nothing: what was done and how to keep it."""
    from vidtrack.sources.base import IMAGE_SUFFIXES

    frames = sum(int(data.get("frames") or 0) for data in getattr(outcome, "summaries", []))
    photo = all(Path(s).suffix.lower() in IMAGE_SUFFIXES or Path(s).is_dir() for s in request.sources)
    keep = "-o out.jpg (annotated photo; a folder for several)" if photo else "-o out.mp4 (annotated video)"
    return (
        f"note: tracked {frames} frame(s) and saved nothing: add {keep}, --jsonl tracks.jsonl (data) "
        "or --show (a window)"
    )


class _MaskingFormatter(logging.Formatter):
    """Log lines with ``user:password@`` masked, whatever module or library wrote them."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_credentials(super().format(record))


def _log_to_stderr(quiet: bool) -> None:
    """Live-source events (connected, stalled, reconnecting) go to stderr as they happen."""
    import logging

    logger = logging.getLogger("vidtrack")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_MaskingFormatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def demo_command(
    model: Annotated[
        Optional[str],
        typer.Option(help=f"Model to use. Default: ${MODEL_ENV} or {DEFAULT_MODEL}.", show_default=False),
    ] = None,
    folder: Annotated[Path, typer.Option(help="Where the sample clip and the result go.")] = Path("sample_videos"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary table.")] = False,
) -> None:
    """Make a sample clip (a virtual camera over an image shipped with Ultralytics) and track it."""
    from vidtrack.cli.common import fail
    from vidtrack.demo import ensure_demo_clip

    try:
        clip = ensure_demo_clip(folder)
        request = RunRequest(
            sources=[str(clip)],
            detector=DetectorConfig(**({"model": model} if model else {})),
            output=OutputConfig(
                video=folder / "demo_annotated.mp4", jsonl=folder / "demo.jsonl", summary=folder / "demo_summary.json"
            ),
        )
    except VidtrackError as exc:
        raise fail(exc)
    if not quiet:
        typer.echo(f"sample clip: {clip}")
    _execute(request, quiet)
    if not quiet:
        typer.echo(f"annotated video: {folder / 'demo_annotated.mp4'}")
