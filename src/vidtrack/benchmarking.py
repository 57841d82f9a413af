"""Measure where the time goes, so a user can pick a model and image size for a machine.

``run_bench`` times each stage on real frames of a source (decode, preprocess, infer,
postprocess, track, draw, encode: medians per frame, one frame at a time), the model
alone (one request, then ``max_in_flight`` requests in parallel) and, when asked, the
real pipeline with its stages overlapped. It returns numbers; the CLI prints them.
A stage whose module cannot be used is reported in ``missing`` instead of failing.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vidtrack.config import DetectorConfig, OutputConfig
from vidtrack.request import RunRequest
from vidtrack.stats import frames_per_second

STAGES = ("decode", "preprocess", "infer", "postprocess", "track", "draw", "encode")
KEPT_FRAMES = 16  # decoded frames kept for the model-alone runs: enough variety, bounded memory


@dataclass
class BenchReport:
    """What ``run_bench`` measured. Rates are frames per second; stage times are median ms."""

    source: str
    model: str
    backend: str
    frames: int
    input_size: tuple[int, int] | None  # (w, h) of the source frames
    startup_s: float  # from loading the detector to the first detections (compile included)
    stage_ms: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # stage -> why it was not measured
    sequential_fps: float = 0.0  # every stage, one frame at a time (no overlap)
    model_fps: float = 0.0  # detect() alone, one call at a time
    model_fps_parallel: float = 0.0  # detect() from max_in_flight threads at once
    max_in_flight: int = 1
    pipeline_fps: float | None = None  # the real pipeline, stages overlapped, excluding start-up
    pipeline_note: str | None = None


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _model_throughput(detector: Any, frames: list[np.ndarray], calls: int, threads: int) -> float:
    """detect() calls per second with ``threads`` callers sharing ``calls`` calls."""
    lock = threading.Lock()
    remaining = [calls]

    def worker(offset: int) -> None:
        i = offset
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            detector.detect(frames[i % len(frames)])
            i += threads

    start = time.perf_counter()
    if threads == 1:
        worker(0)
    else:
        pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    return calls / (time.perf_counter() - start)


def run_bench(
    source: str,
    detector_config: DetectorConfig,
    frames: int = 120,
    model_calls: int | None = None,
    pipeline: bool = True,
    output: OutputConfig | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Benchmark ``source`` with the detector ``detector_config`` describes.

    ``frames`` bounds the per-stage run; ``model_calls`` (default ``frames``) the
    model-alone runs. ``pipeline`` also runs the whole source through the real pipeline
    (files only), writing a throw-away MP4 with ``output``'s x264 settings.
    """
    from vidtrack.detection import load_detector
    from vidtrack.sources import open_source

    say = on_progress or (lambda _msg: None)
    output = output or OutputConfig()
    src = open_source(source)
    info = src.info
    say("loading the model")
    t0 = time.perf_counter()
    detector = load_detector(detector_config)
    report = BenchReport(
        source=info.name,
        model=detector_config.model,
        backend=type(detector).__name__,
        frames=0,
        input_size=(info.width, info.height),
        startup_s=0.0,
        max_in_flight=int(detector.max_in_flight),
    )

    tracker, overlay, writer = None, None, None
    try:
        from vidtrack.tracking import IoUTracker

        tracker = IoUTracker()
    except Exception as exc:  # noqa: BLE001 - a stage still being written must not stop the bench
        report.missing["track"] = f"vidtrack.tracking unavailable ({type(exc).__name__}: {exc})"
    try:
        from vidtrack.overlay import HudInfo, Overlay

        overlay = Overlay()
    except Exception as exc:  # noqa: BLE001
        report.missing["draw"] = f"vidtrack.overlay unavailable ({type(exc).__name__}: {exc})"
    tmp = tempfile.TemporaryDirectory(prefix="vidtrack-bench-")
    try:
        from vidtrack.sinks.video import VideoWriter

        writer = VideoWriter(
            Path(tmp.name) / "stages.mp4", info.width, info.height, info.fps, crf=output.crf, preset=output.preset
        )
    except Exception as exc:  # noqa: BLE001
        report.missing["encode"] = f"vidtrack.sinks.video unavailable ({type(exc).__name__}: {exc})"

    from vidtrack.detection.base import TimedDetector

    timed = isinstance(detector, TimedDetector)
    if not timed:
        report.missing["preprocess"] = report.missing["postprocess"] = "inside the backend: counted in infer"
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    kept: list[np.ndarray] = []
    say(f"timing stages on {frames} frames")
    loop_start = None
    try:
        iterator = iter(src.frames())
        while report.frames < frames:
            t = time.perf_counter()
            frame = next(iterator, None)
            if frame is None:
                break
            per_stage["decode"].append((time.perf_counter() - t) * 1e3)
            image = frame.image
            if len(kept) < KEPT_FRAMES:
                kept.append(image)
            timings: dict[str, float] = {}
            t = time.perf_counter()
            if timed:
                detections = detector.detect_timed(image, timings)
            else:
                detections = detector.detect(image)
                timings["infer"] = (time.perf_counter() - t) * 1e3
            if report.frames == 0:
                report.startup_s = time.perf_counter() - t0
                loop_start = time.perf_counter()  # the first frame pays for compiling: not a frame time
            else:
                for stage, ms in timings.items():
                    per_stage[stage].append(ms)
            if tracker is not None:
                t = time.perf_counter()
                detections = tracker.update(detections)
                per_stage["track"].append((time.perf_counter() - t) * 1e3)
            annotated = image
            if overlay is not None:
                t = time.perf_counter()
                annotated = overlay.draw(image, detections, HudInfo(fps=0.0))
                per_stage["draw"].append((time.perf_counter() - t) * 1e3)
            if writer is not None:
                t = time.perf_counter()
                writer.write(annotated)
                per_stage["encode"].append((time.perf_counter() - t) * 1e3)
            report.frames += 1
        if writer is not None:
            t = time.perf_counter()
            writer.close()  # the encoder's buffered frames, spread over the frames written
            if per_stage["encode"]:
                per_stage["encode"] = [ms + (time.perf_counter() - t) * 1e3 / len(per_stage["encode"])
                                       for ms in per_stage["encode"]]
        if loop_start is not None and report.frames > 1:
            report.sequential_fps = frames_per_second(report.frames, time.perf_counter() - loop_start)
    finally:
        src.close()
        if writer is not None:
            writer.close()

    report.stage_ms = {s: _median(v) for s, v in per_stage.items() if v}
    if kept:
        calls = model_calls or max(frames, 30)
        say(f"model alone: {calls} calls, then {report.max_in_flight} in flight")
        _model_throughput(detector, kept, 3, 1)  # warm
        report.model_fps = _model_throughput(detector, kept, calls, 1)
        report.model_fps_parallel = (
            _model_throughput(detector, kept, calls, report.max_in_flight)
            if report.max_in_flight > 1
            else report.model_fps
        )
    if pipeline:
        _pipeline_rate(report, source, detector_config, output, Path(tmp.name), info.frame_count, say)
    tmp.cleanup()
    return report


def _pipeline_rate(
    report: BenchReport,
    source: str,
    detector_config: DetectorConfig,
    output: OutputConfig,
    workdir: Path,
    frame_count: int | None,
    say: Callable[[str], None],
) -> None:
    """Run the whole source through the real pipeline (stages overlapped) and keep its rate."""
    if not frame_count:
        report.pipeline_note = "skipped: the source has no known length (live or unknown)"
        return
    try:
        from vidtrack.runner import execute
    except Exception as exc:  # noqa: BLE001 - the pipeline may not be ready in a development tree
        report.pipeline_note = f"skipped: vidtrack.runner unavailable ({type(exc).__name__}: {exc})"
        return
    say(f"full pipeline on {frame_count} frames")
    out = OutputConfig(video=workdir / "pipeline.mp4", crf=output.crf, preset=output.preset)
    outcome = execute(RunRequest(sources=[source], detector=detector_config, output=out))
    lane = outcome.reports[0]
    report.pipeline_fps = lane.processing_fps
    report.pipeline_note = f"{lane.frames} frames, H.264 written, first frame after {lane.first_output_s or 0:.2f} s"
