"""Cost of camera motion compensation (``--cmc``) per frame, fixed and moving cameras.

Decodes each clip once into memory, then times ``CameraMotion("auto")`` and
``CameraMotion("on")`` over its frames (interleaved repetitions, medians), beside the
clip's own decode time per frame measured in the same run as the baseline. ``auto`` on a
fixed camera should cost a small fraction of decoding; on a moving one it equals ``on``.

    .venv/bin/python benchmarks/cmc_cost.py [VIDEO ...] [--reps 3] [--frames 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from vidtrack.motion import CameraMotion

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "assets" / "videos"
DEFAULT = (SHARED / "pedestrians_pets_h264.avi", SHARED / "highway_traffic_720p.mp4", SHARED / "bikes_moving_camera.mp4")


def main() -> None:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path, default=list(DEFAULT))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--frames", type=int, default=300, help="at most this many frames per clip")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # as the pipeline runs it
    for video in args.videos:
        capture = cv2.VideoCapture(str(video))
        frames = []
        start = time.perf_counter()
        while len(frames) < args.frames:
            ok, image = capture.read()
            if not ok:
                break
            frames.append(image)
        decode_ms = 1000 * (time.perf_counter() - start) / max(1, len(frames))
        capture.release()
        runs: dict[str, list[float]] = {"auto": [], "on": []}
        moving = {}
        for _ in range(args.reps):
            for mode in runs:
                motion = CameraMotion(mode)
                start = time.perf_counter()
                for image in frames:
                    motion.estimate(image)
                runs[mode].append(1000 * (time.perf_counter() - start) / len(frames))
                moving[mode] = motion.moving
        h, w = frames[0].shape[:2]
        auto, on = statistics.median(runs["auto"]), statistics.median(runs["on"])
        print(f"{video.name} ({w}x{h}, {len(frames)} frames): decode {decode_ms:.2f} ms/frame; "
              f"cmc auto {auto:.2f} ms/frame ({auto / decode_ms:.2f}x decode, {moving['auto']} frames compensated), "
              f"on {on:.2f} ms/frame ({on / decode_ms:.2f}x decode, {moving['on']} compensated)")


if __name__ == "__main__":
    main()
