"""Cost of writing the annotated video: milliseconds per frame and output size.

Decodes the clip into memory first (so decoding does not compete for the cores), then
times ``VideoWriter.write`` for every frame plus ``close()`` for each setting, and the
two ways of turning BGR into yuv420p. Prints medians over ``--repeat`` runs.

    .venv/bin/python benchmarks/bench_encode.py ../shared/assets/videos/people_street_1080p.mp4
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from vidtrack.sinks import VideoWriter


def load(path: Path, limit: int | None) -> tuple[list[np.ndarray], Fraction]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate
        frames = []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="bgr24"))
            if limit and len(frames) >= limit:
                break
    return frames, Fraction(fps)


def time_writer(frames: list[np.ndarray], fps: Fraction, out: Path, **kwargs: object) -> tuple[float, float, int]:
    """Wall seconds and CPU seconds (all threads) for write() of every frame plus close(), and the file size.

    CPU time is the steadier figure on a shared machine; wall time is what the pipeline waits.
    """
    h, w = frames[0].shape[:2]
    start, cpu_start = time.perf_counter(), time.process_time()
    writer = VideoWriter(out, w, h, fps, **kwargs)  # type: ignore[arg-type]
    for image in frames:
        writer.write(image)
    writer.close()
    return time.perf_counter() - start, time.process_time() - cpu_start, out.stat().st_size


def time_conversion(frames: list[np.ndarray]) -> dict[str, float]:
    """Median ms per frame of each BGR -> yuv420p route into an av.VideoFrame."""
    routes = {
        "cv2.cvtColor I420 + from_ndarray(yuv420p)": lambda im: av.VideoFrame.from_ndarray(
            cv2.cvtColor(im, cv2.COLOR_BGR2YUV_I420), format="yuv420p"
        ),
        "from_ndarray(bgr24) + reformat(yuv420p)": lambda im: av.VideoFrame.from_ndarray(im, format="bgr24").reformat(
            format="yuv420p"
        ),
    }
    result = {}
    for name, fn in routes.items():
        times = []
        for im in frames[:60]:
            t = time.perf_counter()
            fn(im)
            times.append(time.perf_counter() - t)
        result[name] = 1000 * statistics.median(times)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--frames", type=int, default=None, help="use only the first N frames")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--presets", default="veryfast,superfast,ultrafast")
    parser.add_argument("--crf", type=int, default=28)
    args = parser.parse_args()

    frames, fps = load(args.video, args.frames)
    h, w = frames[0].shape[:2]
    print(f"{args.video.name}: {len(frames)} frames {w}x{h} @ {fps} ({float(fps):.3f} fps), cv2 threads {cv2.getNumThreads()}")
    for name, ms in time_conversion(frames).items():
        print(f"  convert {name}: {ms:.2f} ms/frame (median)")
    with tempfile.TemporaryDirectory() as tmp:
        settings = [(".mp4", p) for p in args.presets.split(",")] + [(".webm", "veryfast")]
        for suffix, preset in settings:
            runs = [
                time_writer(frames, fps, Path(tmp) / f"out{suffix}", crf=args.crf, preset=preset)
                for _ in range(args.repeat)
            ]
            secs = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            size = runs[-1][2]
            codec = "vp9 realtime" if suffix == ".webm" else f"x264 {preset}"
            print(
                f"  {codec:>16} crf {args.crf}: {1000 * secs / len(frames):6.2f} ms/frame "
                f"({len(frames) / secs:6.1f} frames/s), CPU {1000 * cpu / len(frames):6.2f} ms/frame, {size / 1e6:6.2f} MB "
                f"({8 * size / (len(frames) / float(fps)) / 1e6:.2f} Mbit/s)"
            )
    print(f"  source file: {args.video.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
