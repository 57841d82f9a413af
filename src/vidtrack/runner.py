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

from vidtrack.config import ScheduleConfig
from vidtrack.errors import OptionError
from vidtrack.frames import FrameResult, SourceInfo
from vidtrack.paths import write_json_atomic
from vidtrack.pipeline import Lane, LaneReport, Pipeline
from vidtrack.request import RunRequest  # re-exported: the old import path
from vidtrack.tracking import TrackerConfig

if TYPE_CHECKING:
    from vidtrack.detection import Detector
    from vidtrack.sources import Source
    from vidtrack.viewers import Viewer

#: Builds the ``--serve`` viewer from ``[HOST:]PORT`` and ``token=``: :class:`vidtrack.web.view.WebView`.
WebViewFactory = Callable[..., "Viewer"]


@dataclass
class RunOutcome:
    """What a run produced, for the CLI to report."""

    reports: list[LaneReport]
    summaries: list[dict[str, Any]]
    outputs: list[Path]
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None
    viewer_url: str | None = None
    #: Viewers left open by ``execute(..., keep_viewers=True)``: the caller closes them
    #: (:meth:`close_viewers`) once the user has seen the final state.
    open_viewers: list[Any] = field(default_factory=list)
    #: Folders of files the run wrote (``--snapshots``, ``--clips``; one per source), for the CLI to name.
    folders: list[Path] = field(default_factory=list)

    def close_viewers(self) -> None:
        """Close the viewers ``execute`` left open (idempotent)."""
        while self.open_viewers:
            self.open_viewers.pop().close()


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
    from vidtrack.sinks import SummaryBuilder, open_sinks

    count = len(request.sources)
    paths = {field: output_for(path, index, count) for field, path in request.output.files().items()}
    sinks, files = open_sinks(paths, info, request.output, analytics)
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
    web_view: "WebViewFactory | None" = None,
    gate: Callable[[int, FrameResult], bool] | None = None,
    keep_viewers: bool = False,
) -> RunOutcome:
    """Check inputs, build the stages, run them, finalise outputs. Raises VidtrackError early.

    ``detector``: an already loaded detector to use instead of loading ``request.detector``
    (a server shares one model between jobs; see ``detection.with_options``).
    ``cancel``: setting this event from another thread stops the run as Ctrl-C would
    (in-flight frames finish, every output is closed).
    ``web_view``: builds the ``--serve`` viewer (``vidtrack.web.view.WebView``); the entry
    points that offer ``--serve`` hand it in, so this layer never imports the web layer.
    ``gate``: called with each finished frame before it is written; returning False drops
    it unwritten (see :class:`~vidtrack.pipeline.Pipeline`).
    ``keep_viewers``: when the sources end by themselves (not stopped), leave the web view
    up showing the final state (``outcome.open_viewers``; the caller closes them).
    """
    drawing_import = _import_in_background("supervision")  # ~1 s of imports, overlapped with model loading
    _one_opencv_thread()
    sources = _check_and_open(request)
    run = _assemble(request, sources, detector, web_view, drawing_import)
    pipeline = Pipeline(run.detector, run.lanes, on_frame=on_frame, gate=gate)
    viewer_url = _attach_viewers(run.viewers, pipeline, sources)
    if on_start is not None:
        on_start([s.info for s in sources], viewer_url)
    kept: list["Viewer"] = []
    reports = _run_pipeline(pipeline, run.viewers, install_signals, cancel, kept if keep_viewers else None)
    outcome = _finish(request, sources, run, reports)
    outcome.viewer_url = viewer_url
    outcome.open_viewers = kept
    return outcome


@dataclass
class _Assembly:
    """A run's stages before it starts: the detector, one lane per source, the shared viewers."""

    detector: "Detector"
    lanes: list[Lane]
    viewers: list["Viewer"]
    summaries: list[Any]  # each lane's SummaryBuilder
    files_of_lane: list[list[Path]]  # the files each lane's sinks write
    warnings: list[str] = field(default_factory=list)  # found while assembling (no start time found...)


def _check_and_open(request: RunRequest) -> list["Source"]:
    """Check every output path, open every source, and check lines/zones against them (nothing written yet)."""
    from vidtrack.sinks import check_outputs

    count = len(request.sources)
    targets = [output_for(path, i, count) for path in request.output.paths() for i in range(count)]
    stills_targets = _still_targets(request)  # -o photo.jpg / -o folder/: checked once sources are open
    local_inputs = [spec for spec in request.sources if _is_local_file(spec)]
    check_outputs([t for t in targets if t is not None and t not in stills_targets], local_inputs)
    _check_notifiers(request)
    sources = _open_sources(request)
    try:
        _check_still_outputs(request, sources)
        _check_analytics(request, sources)
    except BaseException:
        for source in sources:
            source.close()
        raise
    return sources


def _assemble(
    request: RunRequest, sources: list["Source"], detector: "Detector | None", web_view: "WebViewFactory | None",
    drawing_import: threading.Thread,
) -> _Assembly:
    """Load the model, then build each source's lane (tracker, analytics, sinks, overlay) and the viewers.

    On any failure every sink, viewer and source opened so far is closed before it propagates.
    """
    from vidtrack.analytics.stage import AnalyticsStage
    from vidtrack.detection import load_detector
    from vidtrack.overlay import Overlay

    viewers: list["Viewer"] = []
    lanes: list[Lane] = []
    summaries: list[Any] = []
    files_of_lane: list[list[Path]] = []
    try:
        if detector is None:
            detector = load_detector(request.detector)
        for size in {(s.info.height, s.info.width) for s in sources if s.info.width > 0}:
            detector.warmup(size)  # compile for the sources' frame sizes before frames arrive
        drawing_import.join()
        drawing = (
            request.output.video is not None or request.show or request.serve is not None or _needs_pictures(request)
        )
        stages = [
            AnalyticsStage.build(request.analytics, s.info, detector.class_names, drawing)
            for s in sources
        ]
        viewers = _make_viewers(request, web_view)
        clocks, clock_warnings = wall_clocks(request, sources)
        for stage, clock in zip(stages, clocks):
            if stage is not None:
                stage.clock = clock
        for i, source in enumerate(sources):
            sinks, summary, lane_files = _lane_sinks(request, i, source.info, stages[i])
            summaries.append(summary)
            files_of_lane.append(lane_files)
            drawing = (
                request.output.video is not None or bool(viewers) or request.annotate
                or (request.output.clips is not None and not request.output.clips_clean)
            )
            stages_of_lane = tracking_stages(source.info, request.tracker, request.schedule)
            if stages_of_lane.get("schedule") is not None and not drawing and hasattr(source, "lazy_color"):
                # Frames the detector skips are seen by the motion gate only (or by nobody, when
                # strided): keep them unconverted; a detector worker converts the ones it detects.
                source.lazy_color = True
            lanes.append(
                Lane(
                    source=source,
                    **stages_of_lane,
                    sinks=sinks,
                    # The auto HUD shows timings in a live view, but never burns them into a file.
                    overlay=Overlay(request.overlay, live=bool(viewers) and request.output.video is None)
                    if drawing else None,
                    viewers=viewers,
                    analytics=stages[i],
                    clock=clocks[i],
                    capture_clock=source.info.is_live,  # a live frame's time is known: when it was captured
                    keep_clean=(
                        request.output.snapshots is not None or request.output.heatmap is not None
                        or (request.output.clips is not None and request.output.clips_clean)
                    ),
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
    return _Assembly(detector, lanes, viewers, summaries, files_of_lane, clock_warnings)


def _attach_viewers(viewers: list["Viewer"], pipeline: Pipeline, sources: list["Source"]) -> str | None:
    """Connect the viewers to the run (quitting stops it; each source announced); the web view's URL."""
    for viewer in viewers:
        viewer.on_quit = pipeline.stop  # q/Esc in the window ends the run cleanly
        for i, source in enumerate(sources):
            viewer.add_source(i, source.info.name, status=lambda s=source: s.status)
    return next((v.url for v in viewers if v.url), None)


def _run_pipeline(
    pipeline: Pipeline, viewers: list["Viewer"], install_signals: bool, cancel: threading.Event | None,
    keep: list["Viewer"] | None = None,
) -> list[LaneReport]:
    """Run to the end (or Ctrl-C/SIGTERM, or ``cancel``); the viewers are closed afterwards.

    ``keep``: when given and the sources ended by themselves, the web viewers (those with a
    URL) are appended to it instead of being closed, so their page shows the final state.
    """
    restore = _install_signal_handlers(pipeline) if install_signals else None
    finished = threading.Event()
    watcher: threading.Thread | None = None
    if cancel is not None:
        watcher = threading.Thread(target=_stop_on, args=(cancel, finished, pipeline), name="run-cancel", daemon=True)
        watcher.start()
    kept: list["Viewer"] = []
    try:
        reports = pipeline.run()
        if keep is not None and not any(r.stopped for r in reports):
            kept = [v for v in viewers if v.url and v.error is None]
            keep.extend(kept)
        return reports
    finally:
        finished.set()
        if watcher is not None:
            # The watcher holds the pipeline (and so the detector's native objects). Left to end
            # on its own, it may drop the last reference as the interpreter exits: a daemon thread
            # then frees OpenVINO objects whose destructor re-takes the GIL and is killed mid
            # C++ frame ("terminate called without an active exception", exit 134). Joined here,
            # the pipeline is freed by the caller's thread.
            watcher.join()
        if restore is not None:
            restore()
        for viewer in viewers:
            if viewer not in kept:
                viewer.close()


def _finish(request: RunRequest, sources: list["Source"], run: _Assembly, reports: list[LaneReport]) -> RunOutcome:
    """Collect warnings, finish each lane's summary (sinks/summary.py), drop the files of lanes
    that failed before their first frame, and write the ``--summary`` files."""
    from vidtrack.sinks import finish_summary

    files = [path for lane_files in run.files_of_lane for path in lane_files]
    outcome = RunOutcome(reports=reports, summaries=[], outputs=files, warnings=list(run.warnings))
    for lane in run.lanes:
        for sink in lane.sinks:
            outcome.warnings.extend(sink.warnings)
    for viewer in run.viewers:  # a viewer that failed mid-run (no display...): the run went on without it
        if viewer.error is not None:
            outcome.warnings.append(str(viewer.error))
    failed_empty: set[int] = set()
    for i, (report, summary, source) in enumerate(zip(reports, run.summaries, sources)):
        _review_summary(request, i, summary, run.lanes[i])
        if run.lanes[i].motion is not None:
            summary.update(camera_motion=run.lanes[i].motion.report())
        data, warnings = finish_summary(summary, source, report, run.lanes[i].analytics)
        if report.error is not None and report.frames == 0:  # nothing usable was written: leave nothing behind
            failed_empty.add(i)
            for path in run.files_of_lane[i]:
                path.unlink(missing_ok=True)
        outcome.summaries.append(data)
        outcome.warnings.extend(warnings)
        if report.error is not None and outcome.error is None:
            outcome.error = report.error
    if request.output.summary is not None:
        for i, data in enumerate(outcome.summaries):
            if i in failed_empty:
                continue
            target = output_for(request.output.summary, i, len(request.sources))
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
    for i in range(len(reports)):
        for folder in (request.output.snapshots, request.output.clips):
            target = output_for(folder, i, len(request.sources))
            if target is not None and i not in failed_empty and target.is_dir():
                outcome.folders.append(target)
    return outcome


def _still_targets(request: RunRequest) -> list[Path]:
    """The ``-o`` paths (one per source) that name an image file or a folder, not a video."""
    from vidtrack.sinks.images import is_folder_output, is_image_output

    count = len(request.sources)
    targets = [output_for(request.output.video, i, count) for i in range(count)]
    return [t for t in targets if t is not None and (is_image_output(t) or is_folder_output(t))]


def _check_still_outputs(request: RunRequest, sources: list["Source"]) -> None:
    """An image or folder ``-o`` needs photos in: say what to give instead (one line, exit 2).

    Raises:
        OutputError: a video into an image file or a folder; several photos into one image
            file; an output folder that cannot be written.
    """
    from vidtrack.errors import OutputError
    from vidtrack.sinks import check_writable
    from vidtrack.sinks.images import is_image_output

    count = len(sources)
    stills_targets = _still_targets(request)
    for i, source in enumerate(sources):
        target = output_for(request.output.video, i, count)
        if target is None or target not in stills_targets:
            continue
        stem = Path(source.info.name).stem or "out"
        if is_image_output(target):
            if not source.info.stills:
                raise OutputError(
                    f"output {target} is an image but {source.info.name} is a video",
                    f"write a video, e.g. -o {target.with_suffix('.mp4')}",
                )
            photos = len(source.info.still_names) or 1
            if photos > 1:
                raise OutputError(
                    f"{photos} photos cannot go into one image {target}",
                    f"give a folder for the annotated photos, e.g. -o {target.with_suffix('')}/",
                )
            check_writable(target)
        else:
            if not source.info.stills:
                kind = "is a folder" if target.is_dir() else "has no extension (a folder name)"
                raise OutputError(
                    f"output {target} {kind}",
                    f"give a video file name, e.g. -o {target / (stem + '.mp4')}",
                )
            check_writable(target / "probe.jpg" if target.is_dir() else target)
def _review_summary(request: RunRequest, index: int, summary: Any, lane: Lane) -> None:
    """Add the review outputs' parts to a lane's summary: where its wall-clock start came from, the
    parts of sinks that report one (snapshots, clips, heatmap, notifications), and where its files are."""
    if lane.clock is not None:
        summary.update(start_time_source=lane.clock.source)
    parts: dict[str, dict[str, Any]] = {}
    for sink in lane.sinks:
        key = getattr(sink, "SUMMARY_KEY", None)
        if key is not None:
            parts.setdefault(key, {}).update(sink.summary())
    summary.update(**parts)
    if parts and request.output.summary is not None:  # review outputs: say where the run's files are
        summary.update(files=_review_files(request, index, len(request.sources)))


def _review_files(request: RunRequest, index: int, count: int) -> dict[str, str]:
    """The lane's video, events, JSONL, snapshot and clip folders and heatmap, relative to its summary's folder.

    ``vidtrack serve --review`` finds a run's files through them, wherever the folder is moved.
    """
    import os

    out = request.output
    summary = output_for(out.summary, index, count)
    assert summary is not None
    files = {}
    kinds = (("video", out.video), ("events", out.events), ("jsonl", out.jsonl), ("snapshots", out.snapshots),
             ("clips", out.clips), ("heatmap", out.heatmap))
    for kind, path in kinds:
        target = output_for(path, index, count)
        if target is not None:
            files[kind] = os.path.relpath(os.path.abspath(target), os.path.abspath(summary.parent))
    return files


def _check_notifiers(request: RunRequest) -> None:
    """``--webhook`` and ``--mqtt`` URLs (and paho-mqtt's presence) before anything starts; OptionError if bad."""
    if request.output.webhook is not None:
        from vidtrack.sinks.webhook import check_webhook_url

        check_webhook_url(request.output.webhook)
    if request.output.mqtt is not None:
        from vidtrack.sinks.mqtt import MqttTarget, check_paho

        MqttTarget.parse(request.output.mqtt)
        check_paho()


def _needs_pictures(request: RunRequest) -> bool:
    """Whether a sink writes pictures besides the video (snapshots, heatmap, clips): redaction must then run."""
    out = request.output
    return out.snapshots is not None or out.heatmap is not None or out.clips is not None


def wall_clocks(request: RunRequest, sources: list["Source"]) -> tuple[list[Any], list[str]]:
    """Each source's :class:`~vidtrack.wallclock.WallClock` (None: no wall-clock time) and warnings.

    No ``--start-time``: None for every file (outputs unchanged). A time: that time for every file.
    ``auto``: the container's ``creation_time``, else a date in the file name (see
    :mod:`vidtrack.wallclock`), else None with a warning. Live sources get None here: the
    pipeline makes their clock from the capture clock at their first frame.
    """
    from vidtrack.sources.files import creation_time
    from vidtrack.wallclock import AUTO, WallClock, start_from_creation_time, start_from_name

    wanted = request.source.start_time
    clocks: list[Any] = []
    warnings: list[str] = []
    for source in sources:
        info = source.info
        if wanted is None or info.is_live:
            clocks.append(None)
            continue
        if wanted != AUTO:
            clocks.append(WallClock(wanted, "option"))  # type: ignore[arg-type]
            continue
        found = None
        if info.media_path is not None:
            when = start_from_creation_time(creation_time(info.media_path))
            if when is not None:
                found = WallClock(when, "creation_time")
        if found is None:
            named = start_from_name(info.media_path.name if info.media_path is not None else info.name)
            if named is not None:
                found = WallClock(named[0], f"file name {named[1]}")
        if found is None:
            warnings.append(
                f"{info.name}: --start-time auto found no creation_time tag and no date in the file name, "
                "so frames have no wall-clock time; give --start-time 2026-12-06T14:30:00+01:00"
            )
        clocks.append(found)
    return clocks, warnings


def _is_local_file(spec: str) -> bool:
    """True when ``spec`` is a file on disk; an unusable path is False (opening it says why)."""
    if not isinstance(spec, str):  # frames passed from Python (sources/memory.py)
        return False
    try:
        return Path(spec).is_file()
    except OSError:
        return False


def tracking_stages(info: SourceInfo, config: TrackerConfig, schedule: ScheduleConfig | None = None) -> dict[str, Any]:
    """The ``tracker`` and ``lookahead`` of a lane, by the kind of source (README: *What is reported, by kind of source*).

    * stills (photos): every detection above ``--conf`` is reported, each its own object
      (:class:`StillsTracker`); nothing is held back.
    * recorded video: the IoU tracker, and a look-ahead of ``min_hits - 1`` frames so a
      confirmed track is reported from its first frame.
    * live sources: the IoU tracker, no look-ahead: a track is reported once confirmed
      (latency first).
    * a recording known to end before a track could be confirmed (``info.frame_count`` <
      ``min_hits``: a 1-frame MP4, a 2-frame GIF) is tracked with a confirmation window of
      its own length: a track seen in every one of its frames is an object (a 1-frame
      video reports every detection, as a photo does).

    With ``schedule`` (``--motion-gate``, ``--detect-every``) on video, the lane also gets its
    :class:`~vidtrack.detection.schedule.DetectSchedule`; a file's look-ahead then spans
    ``min_hits - 1`` detections (``(min_hits - 1) * stride`` frames).
    """
    from dataclasses import replace

    from vidtrack.tracking import IoUTracker
    from vidtrack.tracking.lookahead import LookAhead
    from vidtrack.tracking.stills import StillsTracker

    if info.stills:
        return {"tracker": StillsTracker(), "lookahead": LookAhead(0), "motion": None}
    if not info.is_live and info.frame_count is not None and 0 < info.frame_count < config.min_hits:
        config = replace(config, min_hits=info.frame_count)
    built = make_schedule(schedule, info) if schedule is not None else None
    stride = built.max_stride if built is not None else 1
    window = 0 if info.is_live else (config.min_hits - 1) * stride
    rate = float(info.fps) if info.fps else None
    # --detect-every N: live, the tracker sees every N-th frame while things move; files feed it
    # every frame (the skipped ones on each track's path, tracking.stride.bridge).
    if rate is not None and built is not None and not built.auto and built.max_stride > 1 and info.is_live:
        rate /= built.max_stride
    motion = None
    if config.cmc != "off":
        from vidtrack.motion import CameraMotion

        motion = CameraMotion(config.cmc)
    # Hindsight (tracking.hindsight) needs a look-ahead to report into, and consecutive detected
    # frames (a schedule feeds the tracker interpolated or held ones).
    tracker = IoUTracker(config, frame_rate=rate, hindsight=window > 0 and built is None)
    return {"tracker": tracker, "lookahead": LookAhead(window), "motion": motion,
            "schedule": built}


def make_schedule(config: ScheduleConfig, info: SourceInfo) -> Any:
    """The lane's :class:`DetectSchedule`, or None when every frame is detected."""
    from vidtrack.detection.schedule import DetectSchedule

    gate = None
    if config.gated(info.stills):
        from vidtrack.detection.motion import MotionGate

        specs = config.motion_mask
        gate = MotionGate(lambda w, h: [spec.points(w, h) for spec in specs])
    built = DetectSchedule(gate, config.max_stride_for(info.is_live), config.recheck_s, auto=config.detect_every == "auto")
    return built if built.active else None


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


def _make_viewers(request: RunRequest, web_view: "WebViewFactory | None" = None) -> list["Viewer"]:
    """The run's live viewers: the web view (``--serve``, built by ``web_view``) and the window (``--show``).

    Raises:
        OptionError: ``--serve`` with no web view handed in (a front end without one).
    """
    viewers: list["Viewer"] = []
    if request.serve is not None:
        if web_view is None:
            raise OptionError("--serve is not available here", "use 'vidtrack run --serve PORT' or vidtrack.track(..., serve=PORT)")
        viewers.append(web_view(request.serve, token=request.token))
    if request.show:
        from vidtrack.viewers.window import WindowView

        viewers.append(WindowView())
    return viewers


def _stop_on(cancel: threading.Event, finished: threading.Event, pipeline: Pipeline) -> None:
    """Stop ``pipeline`` when ``cancel`` is set, unless the run finishes first."""
    while not finished.is_set():
        if cancel.wait(0.05):  # the run joins this thread when it ends: at most 50 ms
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
