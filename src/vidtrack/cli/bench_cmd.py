"""``vidtrack bench SOURCE``: where the time goes on this machine, per stage and overall."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from vidtrack.cli.run_cmd import BackendOption, DeviceOption, ImgszOption
from vidtrack.config import DEFAULT_MODEL, MODEL_ENV, DetectorConfig, OutputConfig


def bench_command(
    source: Annotated[str, typer.Argument(help="Video file (or image folder) to time the stages on.", show_default=False)],
    model: Annotated[
        Optional[str],
        typer.Option(help=f"Model file or exported folder. Default: ${MODEL_ENV} or {DEFAULT_MODEL}.", show_default=False),
    ] = None,
    imgsz: ImgszOption = DetectorConfig.imgsz,
    backend: BackendOption = DetectorConfig.backend,
    device: DeviceOption = None,
    frames: Annotated[int, typer.Option(min=2, help="Frames timed stage by stage (and model-alone calls).")] = 120,
    pipeline: Annotated[bool, typer.Option("--pipeline/--no-pipeline", help="Also run the whole file through the real, overlapped pipeline.")] = True,
    crf: Annotated[int, typer.Option(help="x264 quality used for the encode stage.")] = OutputConfig.crf,
    preset: Annotated[str, typer.Option(help="x264 preset used for the encode stage.")] = OutputConfig.preset,
) -> None:
    """Time decode, preprocess, infer, postprocess, track, draw and encode; print frames/s end to end and for the model alone."""
    from rich.console import Console
    from rich.table import Table

    from vidtrack.benchmarking import STAGES, run_bench
    from vidtrack.config import DetectorConfig, OutputConfig, default_model

    console = Console(stderr=False)
    detector_config = DetectorConfig(model=model or default_model(), imgsz=imgsz, backend=backend, device=device)
    output = OutputConfig(crf=crf, preset=preset)
    with console.status("benchmarking") as status:
        report = run_bench(
            source, detector_config, frames=frames, pipeline=pipeline, output=output,
            on_progress=lambda msg: status.update(msg),
        )

    width, height = report.input_size or (0, 0)
    console.print(f"[bold]{report.source}[/] {width}x{height}, {report.frames} frames; "
                  f"model {report.model} ({report.backend}, imgsz {imgsz})")
    table = Table("stage", "ms/frame (median)", "note")
    for stage in STAGES:
        if stage in report.stage_ms:
            table.add_row(stage, f"{report.stage_ms[stage]:.1f}", report.missing.get(stage, ""))
        else:
            table.add_row(stage, "-", report.missing.get(stage, "not measured"))
    console.print(table)
    total = sum(report.stage_ms.values())
    console.print(f"sum of stages:         {total:.1f} ms/frame")
    console.print(f"sequential, all stages: {report.sequential_fps:.1f} frames/s (one frame at a time)")
    if report.pipeline_fps is not None:
        console.print(f"end to end (pipeline):  {report.pipeline_fps:.1f} frames/s, stages overlapped ({report.pipeline_note})")
    elif report.pipeline_note:
        console.print(f"end to end (pipeline):  {report.pipeline_note}")
    console.print(f"model alone:            {report.model_fps:.1f} frames/s one at a time, "
                  f"{report.model_fps_parallel:.1f} frames/s with {report.max_in_flight} in flight")
    console.print(f"start-up:               {report.startup_s:.2f} s from loading the model to the first detections")
