"""Do static-shape OpenVINO compiles still pay for their numeric divergence from Ultralytics? (issue 8)

Ultralytics runs an exported dynamic-shape model as it is (one dynamic-shape compile). The
direct OpenVINO backend can instead compile a static model for each of the first input
shapes it meets (``static_shapes``). On some CPUs (AMD EPYC with AVX-512, VNNI and BF16)
the two compiles give INT8 results that differ slightly, so the boxes stop matching
Ultralytics'. This script measures, in one run on this machine:

- model-alone throughput with ``static_shapes=0`` (dynamic, Ultralytics' numerics) and
  ``static_shapes=2``, frames/s with two requests in flight on pre-decoded 1080p frames,
  interleaved repetitions, medians, and their ratio;
- agreement with ``YOLO(model).predict`` on coco128 for both: images whose box count
  differs, and the largest confidence difference of IoU-matched boxes.

Usage: ``python benchmarks/static_shapes.py [--model PATH] [--frames 150] [--reps 5]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "assets"
sys.path.insert(0, str(ROOT / "src"))

from vidtrack.config import DetectorConfig  # noqa: E402
from vidtrack.detection.openvino import OpenVINODetector  # noqa: E402


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    model = next((l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("model name")), "?")
    flags = set(next((l for l in text.splitlines() if l.startswith("flags")), "").split())
    wanted = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8") if f in flags]
    return f"{model} [{' '.join(wanted)}]"


def frames(clip: Path, count: int) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(clip))
    out = []
    while len(out) < count:
        ok, image = cap.read()
        if not ok:
            break
        out.append(image)
    cap.release()
    return out


def throughput(detector: OpenVINODetector, images: list[np.ndarray]) -> float:
    """Frames/s with ``max_in_flight`` frames in flight, as the pipeline runs the detector."""
    with ThreadPoolExecutor(detector.max_in_flight) as pool:
        start = time.perf_counter()
        list(pool.map(detector.detect, images))
        return len(images) / (time.perf_counter() - start)


def agreement(detector: OpenVINODetector, yolo, images: list[tuple[str, np.ndarray]]) -> tuple[int, float]:
    """(images whose box count differs from Ultralytics', max |Δconf| of boxes matched by IoU)."""
    from vidtrack.tracking.iou import greedy_match

    differ, worst = 0, 0.0
    for _, image in images:
        ours = detector.detect(image)
        theirs = yolo.predict(image, verbose=False)[0].boxes
        xyxy, conf = theirs.xyxy.cpu().numpy(), theirs.conf.cpu().numpy()
        differ += int(len(ours) != len(xyxy))
        pairs = greedy_match(ours.xyxy, xyxy, 0.5)
        if len(pairs):
            worst = max(worst, float(np.abs(ours.confidence[pairs[:, 0]] - conf[pairs[:, 1]]).max()))
    return differ, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.environ.get("VIDTRACK_MODEL") or str(SHARED / "models" / "yolo11n_int8_openvino_model"))
    parser.add_argument("--clip", default=str(SHARED / "videos" / "people_street_1080p.mp4"))
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    import cv2

    images = frames(Path(args.clip), args.frames)
    config = DetectorConfig(model=args.model)
    detectors = {n: OpenVINODetector(config, static_shapes=n) for n in (0, 2)}
    for detector in detectors.values():
        detector.warmup(images[0].shape[:2])
        throughput(detector, images[:10])
    fps: dict[int, list[float]] = {n: [] for n in detectors}
    for _ in range(args.reps):  # interleaved, so drift in machine load hits both alike
        for n, detector in detectors.items():
            fps[n].append(throughput(detector, images))

    from ultralytics import YOLO

    yolo = YOLO(args.model, task="detect")
    coco = sorted((SHARED / "coco128" / "images" / "train2017").glob("*.jpg"))
    photos = [(p.name, cv2.imread(str(p))) for p in coco]
    print(f"cpu: {cpu_flags()}")
    print(f"model: {args.model}; {len(images)} frames of {Path(args.clip).name}, {args.reps} interleaved reps")
    print(f"{'compile':<22}{'median fps':>12}{'runs':>32}{'images differing':>18}{'max dconf':>11}")
    for n, detector in detectors.items():
        differ, worst = agreement(detector, yolo, photos)
        runs = "/".join(f"{v:.1f}" for v in fps[n])
        label = "dynamic (static 0)" if n == 0 else f"static shapes {n}"
        print(f"{label:<22}{statistics.median(fps[n]):>12.1f}{runs:>32}{differ:>12} of {len(photos):<4}{worst:>10.3f}")
    ratio = statistics.median(fps[2]) / statistics.median(fps[0])
    print(f"static / dynamic throughput: {ratio:.3f}x")


if __name__ == "__main__":
    main()
