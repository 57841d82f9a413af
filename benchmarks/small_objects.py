"""Small objects: vidtrack's tiled inference against plain YOLO sizes, SAHI and supervision's InferenceSlicer (issue 13).

Everything runs in this one process, with the same model (the shared YOLO11n INT8 OpenVINO
export) for every method, and prints three tables:

1. **coco128** (COCO AP at conf 0.001, pycocotools, YOLO labels): vidtrack at 640 and 1280,
   vidtrack ``--tiles N`` (default 2), SAHI (320 px slices, overlap 0.2, full-frame pass,
   its defaults) and InferenceSlicer (320/64 px slices + the full frame, NMS 0.5); ms/image
   and the ratio to vidtrack 640. Targets: tiled AP_small >= 0.27, AP >= 0.49, <= 5x time.
2. **the crowded 4K frame** (people_street_1080p's first frame tiled 4x4, resized to
   3840x2160; conf 0.25, vidtrack with --max-det 1000): persons found, nested pairs (a person box more than 60% inside
   another), seconds, for ``--tiles auto`` and ``--tiles 10``; target (``--tiles 10``)
   >= 300 persons, <= 10 nested pairs, <= half the InferenceSlicer time.
3. **live pipeline**: ``vidtrack run people_street_1080p.mp4`` untiled and with a
   ``--tile-region`` over the frame's top-left quarter (detect + track, no video written):
   processing fps (the run summary's); target tiled >= half untiled.

It also writes ``docs/small_objects_4k.jpg``: the 4K frame untiled (left) and tiled (right),
drawn by vidtrack's overlay.

Needs the benchmark extra: ``pip install 'vidtrack[bench]'`` (SAHI; supervision and
pycocotools come with vidtrack[eval]).

Usage: ``python benchmarks/small_objects.py [--tiles 2] [--limit N] [--skip-anchors] [--skip-live]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "assets"
MODEL = SHARED / "models" / "yolo11n_int8_openvino_model"
COCO_IMAGES = SHARED / "coco128" / "images" / "train2017"
COCO_LABELS = SHARED / "coco128" / "labels" / "train2017"
STREET = SHARED / "videos" / "people_street_1080p.mp4"
PICTURE = ROOT / "docs" / "small_objects_4k.jpg"
NESTED = 0.6  # a person box more than this share inside another person box is "nested"


def crowded_4k_frame() -> np.ndarray:
    """people_street_1080p's first frame tiled 4x4 (7680x4320) and resized to 3840x2160, BGR."""
    import av
    import cv2

    with av.open(str(STREET)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="bgr24")
    return cv2.resize(np.tile(frame, (4, 4, 1)), (3840, 2160), interpolation=cv2.INTER_AREA)


def nested_pairs(xyxy: np.ndarray) -> int:
    """Ordered pairs (a, b) of boxes with more than ``NESTED`` of a's area inside b."""
    from vidtrack.detection.tiling import _pairwise_iou_ioa

    if len(xyxy) < 2:
        return 0
    _, ioa = _pairwise_iou_ioa(xyxy, xyxy)
    np.fill_diagonal(ioa, 0.0)
    return int((ioa > NESTED).sum())


# -- the methods: each maps a BGR image to (xyxy, confidence, class_id) ------------------


def vidtrack_method(conf: float, **options: Any) -> Callable[[np.ndarray], tuple]:
    from vidtrack.config import DetectorConfig
    from vidtrack.detection import load_detector

    detector = load_detector(DetectorConfig(model=str(MODEL), conf=conf, **options))

    def run(image: np.ndarray) -> tuple:
        d = detector.detect(image)
        return d.xyxy, d.confidence, d.class_id

    run.detector = detector  # type: ignore[attr-defined]
    return run


def sahi_method(conf: float) -> Callable[[np.ndarray], tuple]:
    from sahi import AutoDetectionModel
    from sahi.predict import get_sliced_prediction

    model = AutoDetectionModel.from_pretrained(
        model_type="ultralytics", model_path=str(MODEL), confidence_threshold=conf, device="cpu"
    )

    def run(image: np.ndarray) -> tuple:
        result = get_sliced_prediction(
            np.ascontiguousarray(image[:, :, ::-1]), model, slice_height=320, slice_width=320,
            overlap_height_ratio=0.2, overlap_width_ratio=0.2, perform_standard_pred=True, verbose=0,
        )
        preds = result.object_prediction_list
        xyxy = np.array([p.bbox.to_xyxy() for p in preds], np.float64).reshape(-1, 4)
        return xyxy, np.array([p.score.value for p in preds]), np.array([p.category.id for p in preds], int)

    return run


def slicer_method(conf: float) -> Callable[[np.ndarray], tuple]:
    import supervision as sv
    from ultralytics import YOLO

    model = YOLO(str(MODEL), task="detect")

    def predict(image: np.ndarray) -> "sv.Detections":
        return sv.Detections.from_ultralytics(model.predict(image, conf=conf, verbose=False)[0])

    slicer = sv.InferenceSlicer(callback=predict, slice_wh=(320, 320), overlap_wh=(64, 64), iou_threshold=0.5)

    def run(image: np.ndarray) -> tuple:
        merged = sv.Detections.merge([slicer(image), predict(image)]).with_nms(threshold=0.5)
        return merged.xyxy, merged.confidence, merged.class_id

    return run


# -- the three measurements ------------------------------------------------------------


def coco_table(methods: dict[str, Callable], limit: int | None) -> list[dict[str, Any]]:
    import cv2

    from vidtrack.detection.coco_eval import Objects, coco_scores, read_yolo_labels

    files = sorted(COCO_IMAGES.glob("*.jpg"))[:limit]
    images = [cv2.imread(str(f)) for f in files]
    truth = [read_yolo_labels(COCO_LABELS / f"{f.stem}.txt", im.shape[:2]) for f, im in zip(files, images)]
    sizes = [im.shape[:2] for im in images]
    rows = []
    for name, method in methods.items():
        method(images[0])  # warm-up (compiles)
        found, seconds = [], 0.0
        for image in images:
            t0 = time.perf_counter()
            xyxy, conf, cls = method(image)
            seconds += time.perf_counter() - t0
            found.append(Objects(np.asarray(xyxy, float), np.asarray(cls), np.asarray(conf)))
        scores = coco_scores(truth, found, sizes)
        rows.append({"method": name, "scores": scores, "ms": 1000 * seconds / len(images)})
        print(f"  {name}: {scores.line()} {rows[-1]['ms']:.0f} ms/image", flush=True)
    return rows


def crowd_table(methods: dict[str, Callable], image: np.ndarray, reps: int) -> list[dict[str, Any]]:
    rows = []
    for name, method in methods.items():
        method(image)  # warm-up
        times, result = [], None
        for _ in range(reps):
            t0 = time.perf_counter()
            result = method(image)
            times.append(time.perf_counter() - t0)
        xyxy, _, cls = result
        persons = np.asarray(xyxy)[np.asarray(cls) == 0]
        rows.append({"method": name, "persons": len(persons), "nested": nested_pairs(persons), "s": statistics.median(times)})
        print(f"  {name}: {rows[-1]['persons']} persons, {rows[-1]['nested']} nested pairs, {rows[-1]['s']:.2f} s", flush=True)
    return rows


def live_fps(extra: dict[str, Any]) -> float:
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    request = request_from_options([str(STREET)], {"model": str(MODEL), **extra})
    outcome = execute(request)
    return float(outcome.summaries[0]["processing_fps"])


def save_picture(image: np.ndarray, untiled: Any, tiled: Any) -> None:
    """Left: untiled, right: tiled; boxes and the HUD drawn by vidtrack's overlay, 1600x450 JPEG."""
    import cv2

    from vidtrack.config import OverlayConfig
    from vidtrack.overlay import HudInfo, Overlay

    halves = []
    for detector in (untiled, tiled):
        d = detector.detect(image)
        d = d[d.class_id == 0]
        d.tracker_id = np.arange(1, len(d) + 1)
        overlay = Overlay(OverlayConfig(labels=False, trails=False))
        hud = HudInfo(counts={"person": len(d)}, tiles=d.metadata.get("tiles"))
        drawn = overlay.draw(image, d, hud)
        halves.append(cv2.resize(drawn, (800, 450), interpolation=cv2.INTER_AREA))
    PICTURE.parent.mkdir(exist_ok=True)
    cv2.imwrite(str(PICTURE), np.hstack(halves), [cv2.IMWRITE_JPEG_QUALITY, 75])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", default="2", help="vidtrack's --tiles on coco128 (default 2)")
    parser.add_argument("--crowd-tiles", default="10", help="vidtrack's --tiles on the 4K frame, beside auto (default 10)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N coco128 images (quick runs)")
    parser.add_argument("--reps", type=int, default=3, help="timed runs on the 4K frame (median)")
    parser.add_argument("--skip-anchors", action="store_true", help="no SAHI / InferenceSlicer")
    parser.add_argument("--skip-live", action="store_true", help="no live-pipeline runs")
    parser.add_argument("--no-picture", action="store_true", help="don't write docs/small_objects_4k.jpg")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))

    print(f"model {MODEL.name}; coco128 {args.limit or 128} images at conf 0.001", flush=True)
    methods: dict[str, Callable] = {
        "vidtrack 640": vidtrack_method(0.001),
        "vidtrack 1280": vidtrack_method(0.001, imgsz=1280),
        f"vidtrack --tiles {args.tiles}": vidtrack_method(0.001, tiles=args.tiles),
    }
    if not args.skip_anchors:
        methods["SAHI 320/0.2 + full"] = sahi_method(0.001)
        methods["InferenceSlicer 320/64 + full, NMS 0.5"] = slicer_method(0.001)
    coco = coco_table(methods, args.limit)
    del methods

    print("crowded 4K frame (3840x2160) at conf 0.25", flush=True)
    image = crowded_4k_frame()
    # --max-det 1000: a frame with 300+ people needs more than the default 300 boxes (the
    # anchors cap each slice, not the frame)
    crowd_methods: dict[str, Callable] = {
        "vidtrack 640": vidtrack_method(0.25, max_det=1000),
        "vidtrack 1280": vidtrack_method(0.25, imgsz=1280, max_det=1000),
        "vidtrack --tiles auto": vidtrack_method(0.25, tiles="auto", max_det=1000),
        f"vidtrack --tiles {args.crowd_tiles}": vidtrack_method(0.25, tiles=args.crowd_tiles, max_det=1000),
    }
    if not args.skip_anchors:
        crowd_methods["SAHI 320/0.2 + full"] = sahi_method(0.25)
        crowd_methods["InferenceSlicer 320/64 + full, NMS 0.5"] = slicer_method(0.25)
    crowd = crowd_table(crowd_methods, image, args.reps)
    if not args.no_picture:
        save_picture(image, crowd_methods["vidtrack 640"].detector, crowd_methods[f"vidtrack --tiles {args.crowd_tiles}"].detector)
    del crowd_methods

    live: dict[str, float] = {}
    if not args.skip_live:
        print("live pipeline on people_street_1080p.mp4 (detect + track, no video)", flush=True)
        region = "0,0 0.5,0 0.5,0.5 0,0.5"
        for name, extra in (("untiled", {}), ("--tile-region top-left quarter", {"tile_region": [region]}),
                            ("untiled again", {})):
            live[name] = live_fps(extra)
            print(f"  {name}: {live[name]:.1f} fps", flush=True)

    base = coco[0]["ms"]
    print("\n| method (same model) | AP | AP50 | AP_small | AP_medium | AP_large | ms/image | x 640 time |")
    print("|---|---|---|---|---|---|---|---|")
    for row in coco:
        s = row["scores"]
        print(f"| {row['method']} | {s.ap:.3f} | {s.ap50:.3f} | {s.ap_small:.3f} | {s.ap_medium:.3f} | {s.ap_large:.3f} "
              f"| {row['ms']:.0f} | {row['ms'] / base:.1f}x |")
    slicer_s = next((r["s"] for r in crowd if r["method"].startswith("InferenceSlicer")), None)
    print("\n| crowded 4K frame | persons | nested pairs | seconds | x InferenceSlicer time |")
    print("|---|---|---|---|---|")
    for row in crowd:
        ratio = f"{row['s'] / slicer_s:.2f}x" if slicer_s else "-"
        print(f"| {row['method']} | {row['persons']} | {row['nested']} | {row['s']:.2f} | {ratio} |")
    if live:
        untiled = statistics.mean([live["untiled"], live["untiled again"]])
        tiled = live["--tile-region top-left quarter"]
        print(f"\nlive: untiled {untiled:.1f} fps (mean of two runs), --tile-region quarter {tiled:.1f} fps, "
              f"ratio {tiled / untiled:.2f} (target >= 0.5)")
    tiled_row = coco[2]["scores"]
    print(f"\ntargets: AP_small {tiled_row.ap_small:.3f} >= 0.27, AP {tiled_row.ap:.3f} >= 0.49, "
          f"time {coco[2]['ms'] / base:.1f}x <= 5x", end="")
    crowd_tiled = crowd[3]
    print(f"; 4K persons {crowd_tiled['persons']} >= 300, nested {crowd_tiled['nested']} <= 10"
          + (f", time {crowd_tiled['s'] / slicer_s:.2f}x <= 0.5x" if slicer_s else ""))


if __name__ == "__main__":
    main()
