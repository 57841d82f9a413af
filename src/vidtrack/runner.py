"""Builds a run from options and executes it: the glue between the CLI and the pipeline.

Order matters for "nothing lost": everything that can fail on user input (sources,
output paths, model, viewer options) is checked before any output file is created.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from vidtrack.analytics.config import AnalyticsConfig
from vidtrack.config import DetectorConfig, OutputConfig, OverlayConfig, SourceConfig
from vidtrack.frames import FrameResult, SourceInfo
from vidtrack.paths import write_json_atomic
from vidtrack.pipeline import Lane, LaneReport, Pipeline
from vidtrack.tracking import TrackerConfig

if TYPE_CHECKING:
    from vidtrack.detection import Detector
    from vidtrack.sources import Source
    from vidtrack.viewers import Viewer


@dataclass(frozen=True)
class RunRequest:
    """Everything ``vidtrack run`` was asked to do."""

    sources: list[Any]  # specs as `run` takes them, or sources.memory.MemoryInput (Python API)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    overlay: OverlayConfig = field(default_factory=OverlayConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    analytics: AnalyticsConfig = field(default_factory=AnalyticsConfig)  # lines, zones, redaction
    show: bool = False
    serve: str | None = None  # [HOST:]PORT of the web view
    token: str | None = None
    annotate: bool = False  # draw every frame even with no video output or viewer (Python API)


@dataclass
class RunOutcome:
    """What a run produced, for the CLI to report."""

    reports: list[LaneReport]
    summaries: list[dict[str, Any]]
    outputs: list[Path]
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None
    viewer_url: str | None = None


def output_for(path: Path | None, index: int, count: int) -> Path | None:
    """With several sources, each output gets its source number: out.mp4 -> out-0.mp4."""
    if path is None or count == 1:
        return path
    return path.with_name(f"{path.stem}-{index}{path.suffix}")


#: With several sources, how long a camera may take to deliver its first frame before the
#: run starts without it (it keeps connecting in the background and joins when it can).
#: Opens run in parallel, so one hung camera costs the others at most this long.
PARALLEL_CONNECT_S = 1.5


def _open_sources(request: RunRequest) -> list["Source"]:
    """Open every source, in parallel when there are several; close them all if one fails."""
    from concurrent.futures import ThreadPoolExecutor

    from vidtrack.sources import open_source

    if len(request.sources) == 1:
        return [open_source(request.sources[0], request.source, source_id=0)]
    with ThreadPoolExecutor(max_workers=len(request.sources), thread_name_prefix="open") as pool:
        futures = [
            pool.submit(open_source, spec, request.source, i, PARALLEL_CONNECT_S)
            for i, spec in enumerate(request.sources)
        ]
    opened = [f.result() for f in futures if f.exception() is None]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        for source in opened:
            source.close()
        raise errors[0]  # type: ignore[misc]
    return opened


def _lane_sinks(
    request: RunRequest, index: int, info: SourceInfo, analytics: Any = None
) -> tuple[list[Any], Any, list[Path]]:
    """The per-source sinks, the summary builder among them, and the files they write."""
    from vidtrack.sinks import EventsSink, JsonlSink, MotSink, SummaryBuilder, open_video_sink

    out = request.output
    count = len(request.sources)
    sinks: list[Any] = []
    files: list[Path] = []
    video = output_for(out.video, index, count)
    if video is not None:
        sinks.append(open_video_sink(video, info, out))
        files.append(video)
    jsonl = output_for(out.jsonl, index, count)
    if jsonl is not None:
        sinks.append(JsonlSink(jsonl))
        files.append(jsonl)
    mot = output_for(out.mot, index, count)
    if mot is not None:
        sinks.append(MotSink(mot))
        files.append(mot)
    events = output_for(out.events, index, count)
    if events is not None:
        sinks.append(EventsSink(events, analytics.finish if analytics is not None else None))
        files.append(events)
    summary = SummaryBuilder(info.fps, use_timestamps=info.is_live)
    sinks.append(summary)
    return sinks, summary, files


def _check_analytics(request: RunRequest, sources: list["Source"]) -> None:
    """Lines, zones and regions against each source's frame size (before the model loads)."""
    from vidtrack.analytics.geometry import Polygon

    config = request.analytics
    for source in sources:
        if source.info.width > 0 and source.info.height > 0:
            config.geometry(source.info.width, source.info.height)
            for spec in config.redact.regions:
                Polygon(spec.points(source.info.width, source.info.height), f"--redact-region {spec.text!r}")


def execute(
    request: RunRequest,
    on_start: Callable[[list[SourceInfo], str | None], None] | None = None,
    on_frame: Callable[[int, FrameResult], None] | None = None,
    install_signals: bool = False,
    detector: "Detector | None" = None,
    cancel: threading.Event | None = None,
) -> RunOutcome:
    """Check inputs, build the stages, run them, finalise outputs. Raises VidtrackError early.

    ``detector``: an already loaded detector to use instead of loading ``request.detector``
    (a server shares one model between jobs; see ``detection.with_options``).
    ``cancel``: setting this event from another thread stops the run as Ctrl-C would
    (in-flight frames finish, every output is closed).
    """
    from vidtrack.analytics.stage import AnalyticsStage
    from vidtrack.detection import load_detector
    from vidtrack.overlay import Overlay
    from vidtrack.sinks import check_outputs
    drawing_import = _import_in_background("supervision")  # ~1 s of imports, overlapped with model loading
    _one_opencv_thread()
    count = len(request.sources)
    targets = [output_for(path, i, count) for path in request.output.paths() for i in range(count)]
    local_inputs = [spec for spec in request.sources if _is_local_file(spec)]
    check_outputs([t for t in targets if t is not None], local_inputs)
    sources = _open_sources(request)
    try:
        _check_analytics(request, sources)
    except BaseException:
        for source in sources:
            source.close()
        raise
    viewers: list["Viewer"] = []
    lanes: list[Lane] = []
    summaries: list[Any] = []
    files: list[Path] = []
    files_of_lane: list[list[Path]] = []
    try:
        if detector is None:
            detector = load_detector(request.detector)
        for size in {(s.info.height, s.info.width) for s in sources if s.info.width > 0}:
            detector.warmup(size)  # compile for the sources' frame sizes before frames arrive
        drawing_import.join()
        drawing = request.output.video is not None or request.show or request.serve is not None
        stages = [
            AnalyticsStage.build(request.analytics, s.info, detector.class_names, drawing)
            for s in sources
        ]
        viewers = _make_viewers(request)
        for i, source in enumerate(sources):
            sinks, summary, lane_files = _lane_sinks(request, i, source.info, stages[i])
            summaries.append(summary)
            files.extend(lane_files)
            files_of_lane.append(lane_files)
            drawing = request.output.video is not None or bool(viewers) or request.annotate
            lanes.append(
                Lane(
                    source=source,
                    **tracking_stages(source.info, request.tracker),
                    sinks=sinks,
                    overlay=Overlay(request.overlay) if drawing else None,
                    viewers=viewers,
                    analytics=stages[i],
                )
            )
    except BaseException:
        for lane in lanes:
            for sink in lane.sinks:
                sink.close()
        for viewer in viewers:
            viewer.close()
        for source in sources:
            source.close()
        raise

    pipeline = Pipeline(detector, lanes, on_frame=on_frame)
    for viewer in viewers:
        viewer.on_quit = pipeline.stop  # q/Esc in the window ends the run cleanly
        for i, source in enumerate(sources):
            viewer.add_source(i, source.info.name, status=lambda s=source: s.status)
    viewer_url = next((v.url for v in viewers if v.url), None)
    if on_start is not None:
        on_start([s.info for s in sources], viewer_url)
    restore = _install_signal_handlers(pipeline) if install_signals else None
    finished = threading.Event()
    if cancel is not None:
        threading.Thread(target=_stop_on, args=(cancel, finished, pipeline), name="run-cancel", daemon=True).start()
    try:
        reports = pipeline.run()
    finally:
        finished.set()
        if restore is not None:
            restore()
        for viewer in viewers:
            viewer.close()

    outcome = RunOutcome(reports=reports, summaries=[], outputs=files)
    for lane in lanes:
        for sink in lane.sinks:
            outcome.warnings.extend(sink.warnings)
    for viewer in viewers:  # a viewer that failed mid-run (no display...): the run went on without it
        if viewer.error is not None:
            outcome.warnings.append(str(viewer.error))
    outcome.viewer_url = viewer_url
    failed_empty: set[int] = set()
    for i, (report, summary, source) in enumerate(zip(reports, summaries, sources)):
        summary.update(source=source.info.name, **_report_fields(report))
        stage = lanes[i].analytics
        if stage is not None:
            stage.finish()
            summary.update(**stage.summary())
        if report.error is not None:
            summary.update(complete=False, error=str(report.error))
            if report.frames == 0:  # nothing usable was written: leave nothing behind
                failed_empty.add(i)
                for path in files_of_lane[i]:
                    path.unlink(missing_ok=True)
        size_changes = source.size_changes
        if size_changes:
            summary.update(size_changes=[
                {"frame": index, "t": round(t, 3), "width": width, "height": height}
                for index, t, width, height in size_changes
            ])
            first = size_changes[0]
            outcome.warnings.append(
                f"{source.info.name}: the picture changes size {len(size_changes)} time(s), first to "
                f"{first[2]}x{first[3]} at frame {first[0]} ({first[1]:.3f} s); each frame was processed at its "
                "own size, boxes are in its coordinates, and tracks restart at each change"
            )
        outcome.summaries.append(summary.build())
        if source.error is not None and not report.stopped:  # e.g. a stream given up mid-run
            outcome.warnings.append(f"{source.info.name} ended early: {source.error.one_line()}")
            summary_fields = outcome.summaries[-1]
            summary_fields["source_error"] = source.error.one_line()
        if getattr(source, "growing", False) and not report.stopped:  # a recorder still appending
            outcome.summaries[-1]["complete"] = False
            outcome.warnings.append(
                f"{source.info.name} was still being written (it grew to {source.grown_to} bytes while it was read): "  # type: ignore[attr-defined]
                "processed up to where the writer was; run with --follow SECONDS to keep reading until it stops growing"
            )
        if getattr(source, "deinterlaced", False):  # interlaced input, deinterlaced before detection
            outcome.summaries[-1]["deinterlaced"] = True
        hdr = getattr(source, "hdr", None)  # HDR input tone-mapped to SDR (sources/files.py)
        if hdr:
            outcome.summaries[-1]["colour"] = f"{hdr} tone-mapped to SDR BT.709"
            outcome.warnings.append(
                f"{source.info.name} is HDR ({hdr}): frames were tone-mapped to SDR BT.709 for detection and the "
                "video output; colours and brightness differ from an HDR display"
            )
        damage = getattr(source, "damage", None)  # runs of frames lost mid-file (sources/files.py)
        if damage:
            outcome.summaries[-1]["damaged"] = list(damage)
            messages = source.damage_messages()  # type: ignore[attr-defined]
            outcome.warnings.extend(messages[:5])
            if len(messages) > 5:
                outcome.warnings.append(f"{source.info.name}: {len(messages) - 5} more damaged places (see 'damaged' in the summary)")
        if source.truncated and not report.stopped:
            outcome.warnings.append(
                f"{source.info.name}: {report.frames} frames decoded, the header said {source.info.frame_count}"
                " (truncated file or wrong header); every decodable frame was processed"
            )
        if report.error is not None and outcome.error is None:
            outcome.error = report.error
    summary_path = request.output.summary
    if summary_path is not None:
        for i, data in enumerate(outcome.summaries):
            if i in failed_empty:
                continue
            target = output_for(summary_path, i, count)
            assert target is not None
            try:
                write_json_atomic(target, data)
            except OSError as exc:  # a full disk: reported as the run's error, never raised from here
                from vidtrack.errors import OutputError, os_error_reason

                if outcome.error is None:
                    outcome.error = OutputError(
                        f"writing {target} failed ({os_error_reason(exc)})", "free disk space (or choose another disk) and run again"
                    )
                continue
            files.append(target)
    outcome.outputs = files  # every planned file: the CLI says which were not written and why
    return outcome


def _is_local_file(spec: str) -> bool:
    """True when ``spec`` is a file on disk; an unusable path is False (opening it says why)."""
    if not isinstance(spec, str):  # frames passed from Python (sources/memory.py)
        return False
    try:
        return Path(spec).is_file()
    except OSError:
        return False


def tracking_stages(info: SourceInfo, config: TrackerConfig) -> dict[str, Any]:
    """The ``tracker`` and ``lookahead`` of a lane, by the kind of source (README: *What is reported, by kind of source*).

    * stills (photos): every detection above ``--conf`` is reported, each its own object
      (:class:`StillsTracker`); nothing is held back.
    * recorded video: the IoU tracker, and a look-ahead of ``min_hits - 1`` frames so a
      confirmed track is reported from its first frame.
    * live sources: the IoU tracker, no look-ahead: a track is reported once confirmed
      (latency first).
    """
    from vidtrack.tracking import IoUTracker
    from vidtrack.tracking.lookahead import LookAhead
    from vidtrack.tracking.stills import StillsTracker

    if info.stills:
        return {"tracker": StillsTracker(), "lookahead": LookAhead(0)}
    window = 0 if info.is_live else config.min_hits - 1
    return {"tracker": IoUTracker(config), "lookahead": LookAhead(window)}


def _report_fields(report: LaneReport) -> dict[str, Any]:
    return {
        "processing_fps": round(report.processing_fps, 2),
        "wall_s": round(report.wall_s, 3),
        "first_output_s": None if report.first_output_s is None else round(report.first_output_s, 3),
        "timings_ms": report.stage_ms,
        "stopped_early": report.stopped,
        "source_state": None if report.status is None else str(report.status),
    }


def _one_opencv_thread() -> None:
    """Keep OpenCV's own thread pool to one thread.

    The pipeline already runs decode, inference, drawing and encoding side by side, and
    the inference runtime uses every core; OpenCV threads on top only oversubscribe the
    CPU. Back-to-back on 2 cores, detection + tracking of a 1080p clip went from 29.1 and
    29.7 to 32.6 and 31.6 frames/s; with video written the difference was within noise.
    """
    import cv2

    cv2.setNumThreads(1)


def _import_in_background(module: str) -> threading.Thread:
    """Start importing ``module`` on another thread; join() it before relying on it."""
    import importlib

    def load() -> None:
        try:
            importlib.import_module(module)
        except ImportError:  # the real import later reports it properly
            pass

    thread = threading.Thread(target=load, name=f"import-{module}", daemon=True)
    thread.start()
    return thread


def _make_viewers(request: RunRequest) -> list["Viewer"]:
    viewers: list["Viewer"] = []
    if request.serve is not None:
        from vidtrack.viewers.web import WebView

        viewers.append(WebView(request.serve, token=request.token))
    if request.show:
        from vidtrack.viewers.window import WindowView

        viewers.append(WindowView())
    return viewers


def _stop_on(cancel: threading.Event, finished: threading.Event, pipeline: Pipeline) -> None:
    """Stop ``pipeline`` when ``cancel`` is set, unless the run finishes first."""
    while not finished.is_set():
        if cancel.wait(0.2):
            pipeline.stop()
            return


def _install_signal_handlers(pipeline: Pipeline) -> Callable[[], None] | None:
    """Ctrl-C / SIGTERM stop the pipeline cleanly; a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handle(signum: int, _frame: object) -> None:
        if pipeline.stopping:
            raise KeyboardInterrupt
        pipeline.stop()

    for sig in previous:
        signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
