"""File decoding throughput: vidtrack's PyAV file source vs an OpenCV VideoCapture read loop.

The file source decodes with PyAV (so each frame keeps its own timestamp, size and rotation);
OpenCV's FFmpeg capture is what it replaced. Both give BGR ``uint8`` frames of the same file;
runs are interleaved, several times, and the medians compared in one process.

    .venv/bin/python benchmarks/file_decode.py [VIDEO] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "assets" / "videos" / "people_street_1080p.mp4"


def opencv_rate(path: Path) -> float:
    import cv2

    start = time.perf_counter()
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    return frames / (time.perf_counter() - start)


def vidtrack_rate(path: Path) -> float:
    from vidtrack.sources.files import VideoFileSource

    start = time.perf_counter()
    source = VideoFileSource(path)
    frames = sum(1 for _ in source.frames())
    source.close()
    return frames / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)  # as in a run (runner._one_opencv_thread)
    rates: dict[str, list[float]] = {"opencv": [], "vidtrack": []}
    for _ in range(args.reps):
        rates["opencv"].append(opencv_rate(args.video))
        rates["vidtrack"].append(vidtrack_rate(args.video))
    for name, values in rates.items():
        print(f"{name:9s} frames/s {' '.join(f'{v:.1f}' for v in values)}  median {statistics.median(values):.1f}")
    ratio = statistics.median(rates["vidtrack"]) / statistics.median(rates["opencv"])
    print(f"vidtrack / opencv: {ratio:.2f}x")


if __name__ == "__main__":
    main()
