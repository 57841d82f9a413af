"""``vidtrack eval-detect``: COCO AP of the detector (tiled or not) on YOLO-labelled images."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vidtrack.cli.option_params import annotated
from vidtrack.config import DEFAULT_MODEL, MODEL_ENV
from vidtrack.errors import VidtrackError
from vidtrack.options import OPTIONS

# Detector options as ``vidtrack run`` has them: flags, help and defaults from the option table.
_Iou, _Imgsz, _MaxDet = annotated("iou"), annotated("imgsz"), annotated("max_det")
_Backend, _Tiles, _TileRegion = annotated("backend"), annotated("tiles"), annotated("tile_region")


def eval_detect_command(
    images: Annotated[str, typer.Argument(help="Folder or glob of images.", show_default=False)],
    labels: Annotated[Path, typer.Argument(help="Folder of YOLO label files: <image stem>.txt with 'class cx cy w h' (normalised).", show_default=False)],
    model: Annotated[Optional[str], typer.Option(help=f"Model file or exported folder. Default: ${MODEL_ENV} or {DEFAULT_MODEL}.", show_default=False)] = None,
    conf: Annotated[float, typer.Option(help="Minimum confidence kept. AP needs the low-confidence tail: keep it low.")] = 0.001,
    # the run options' flags, help and defaults (vidtrack.options.OPTIONS)
    iou: _Iou = OPTIONS["iou"].default,
    imgsz: _Imgsz = OPTIONS["imgsz"].default,
    max_det: _MaxDet = OPTIONS["max_det"].default,
    backend: _Backend = OPTIONS["backend"].default,
    tiles: _Tiles = OPTIONS["tiles"].default,
    tile_region: _TileRegion = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the result line.")] = False,
) -> None:
    """Score the detector on labelled images: COCO AP, AP50, AP_small/medium/large (last line)."""
    from vidtrack.cli.common import fail
    from vidtrack.config import DetectorConfig
    from vidtrack.detection import load_detector
    from vidtrack.detection.coco_eval import evaluate_detector, list_eval_images

    try:
        config = DetectorConfig(
            **({"model": model} if model else {}), conf=conf, iou=iou, imgsz=imgsz, max_det=max_det,
            backend=backend, tiles=tiles, tile_regions=tuple(tile_region or ()),
        )
        files = list_eval_images(images)
        if not labels.is_dir():
            raise fail(f"no label folder at {labels}: pass the folder that holds the YOLO .txt label files")
        detector = load_detector(config)
        scores = evaluate_detector(detector, files, labels)
    except VidtrackError as exc:
        raise fail(exc)
    if not quiet:
        ms = 1000.0 * scores.seconds / max(1, scores.images)
        typer.echo(f"{scores.images} images, tiles {config.tiles}, detector {ms:.1f} ms/image")
    typer.echo(scores.line())
