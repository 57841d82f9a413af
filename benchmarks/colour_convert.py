"""What tagged BT.709/BT.601 output colours cost per frame (issue 24), against OpenCV's BT.601-only path.

Before issue 24 every output frame went through ``cv2.cvtColor(BGR2YUV_I420)`` (BT.601 maths,
untagged). Now :class:`vidtrack.sinks.video.OutputColour` converts HD with the BT.709 matrix and
SD with BT.601 and tags both. This prints the median milliseconds per frame of each path at
176x144, 480x360, 1280x720 and 1920x1080 and their ratio, measured in one run, plus FFmpeg's
scaler (PyAV ``reformat``) as a third option.

    python benchmarks/colour_convert.py [--reps 25]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _median_ms(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    import av
    import cv2
    from av.video.reformatter import ColorRange, Colorspace

    from vidtrack.sinks.video import OutputColour

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=25)
    args = parser.parse_args()
    print(f"{'size':>10} {'tagged (ms)':>12} {'cvtColor 601 (ms)':>18} {'FFmpeg scaler (ms)':>19} {'tagged / cvtColor':>18}")
    for width, height in ((176, 144), (480, 360), (1280, 720), (1920, 1080)):
        image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
        colour = OutputColour.for_height(height)
        space = Colorspace.ITU709 if height >= 720 else Colorspace.ITU601
        tagged = _median_ms(lambda: colour.to_i420(image), args.reps)
        opencv = _median_ms(lambda: cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), args.reps)
        scaler = _median_ms(
            lambda: av.VideoFrame.from_ndarray(image, format="bgr24").reformat(
                format="yuv420p", dst_colorspace=space, dst_color_range=ColorRange.MPEG
            ),
            args.reps,
        )
        print(f"{width}x{height:<5} {tagged:12.2f} {opencv:18.2f} {scaler:19.2f} {tagged / opencv:17.1f}x")


if __name__ == "__main__":
    main()
