"""Speed per frame of each detector family vidtrack loads, measured through its registry.

The families of the seed (YOLO; SSD; R-CNN) plus RetinaNet and RT-DETR, all run by
``vidtrack.detection.load_detector`` on one 640x480 frame (Ultralytics' bus.jpg, resized) on
the CPU. The torchvision and RT-DETR models get *random* weights (this machine is offline:
torchvision's and Ultralytics' COCO weights cannot be downloaded), which do not change the
architectures' cost, except for the per-box post-processing of boxes above the score floor
(random weights give many low-score boxes; --conf 0.25 drops most of them before it).
YOLO11n is the shared INT8 OpenVINO export; it is the baseline of the ratios.

    PYTHONPATH=src python benchmarks/detector_families.py [--repeats 5] [--only ssd] [--torch-threads 1]

Prints, per family: load seconds, median ms per frame over ``--repeats`` frames after one
warm-up frame, and that median's ratio to YOLO11n's measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
YOLO = os.environ.get("VIDTRACK_MODEL") or str(ROOT.parent / "shared/assets/models/yolo11n_int8_openvino_model")

FAMILIES = [  # (family, model spec or torchvision architecture, note)
    ("YOLO", "yolo11n (INT8 OpenVINO)", YOLO),
    ("SSD", "ssdlite320_mobilenet_v3_large", "torchvision"),
    ("SSD", "ssd300_vgg16", "torchvision"),
    ("R-CNN", "fasterrcnn_mobilenet_v3_large_fpn", "torchvision"),
    ("R-CNN", "fasterrcnn_resnet50_fpn_v2", "torchvision"),
    ("RetinaNet", "retinanet_resnet50_fpn_v2", "torchvision"),
    ("RT-DETR", "rtdetr-l", "rtdetr"),
]


def frame() -> np.ndarray:
    """Ultralytics' bus.jpg at 640x480 (BGR)."""
    import cv2

    from vidtrack.demo import packaged_image

    return cv2.resize(cv2.imread(str(packaged_image())), (640, 480), interpolation=cv2.INTER_AREA)


def model_spec(name: str, kind: str, folder: Path) -> str:
    """The ``--model`` value for one row, saving random weights first where needed."""
    import torch

    from vidtrack.config import DetectorConfig

    if kind == "torchvision":
        from vidtrack.detection.torchvision import build_model

        torch.manual_seed(0)
        path = folder / f"{name}.pth"
        torch.save(build_model(name, DetectorConfig()).state_dict(), path)
        return f"torchvision:{name}:{path}"
    if kind == "rtdetr":
        import ultralytics

        path = folder / f"{name}-random.pt"
        ultralytics.RTDETR(f"{name}.yaml").save(path)
        return str(path)
    return kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="", help="only rows whose name contains this")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch.set_num_threads for the torch families (0: torch's default, one per core). "
                        "On a machine shared with other busy processes, 1 avoids OpenMP threads spinning against them")
    args = parser.parse_args()
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)

    from vidtrack.config import DetectorConfig
    from vidtrack.detection import load_detector

    image = frame()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for family, name, kind in FAMILIES:
            if args.only and args.only not in name and family != "YOLO":
                continue
            spec = model_spec(name, kind, Path(tmp))
            start = time.perf_counter()
            detector = load_detector(DetectorConfig(model=spec, device="cpu"))
            load_s = time.perf_counter() - start
            detector.warmup(image.shape[:2])
            detector.detect(image)
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                detector.detect(image)
                times.append((time.perf_counter() - t0) * 1000)
            rows.append((family, name, load_s, statistics.median(times), type(detector).__name__))
            print(f"{family:9s} {name:34s} load {load_s:6.1f} s  median {rows[-1][3]:8.1f} ms/frame", flush=True)
            del detector
    base = rows[0][3]
    print("\n| family | model | backend | ms/frame (median) | vs YOLO11n |")
    print("|---|---|---|---:|---:|")
    for family, name, _load, ms, backend in rows:
        print(f"| {family} | {name} | {backend} | {ms:.0f} | {ms / base:.1f}x |")


if __name__ == "__main__":
    main()
