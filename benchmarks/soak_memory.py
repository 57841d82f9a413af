"""Memory over a long run: `vidtrack run` on a looped clip, writing video and JSONL (issue 5).

Samples the process's RSS twice a second and prints the growth after start-up (from 10%
of the run to its end) and the peak. Target: growth <= 50 MB over 10,000 frames.

Usage: ``python benchmarks/soak_memory.py [--clip PATH] [--model PATH] [--frames 10000]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "assets"
VENV_BIN = Path(sys.executable).parent


def soak_growth_mb(clip: Path, model: Path, frames: int, clip_frames: int, workdir: Path,
                   video: bool = True) -> tuple[float, float, int]:
    """RSS growth (MB) over a looped run, the peak (MB), and the number of samples.

    Growth compares the median RSS of the run's second tenth (start-up over) with that of
    its last-but-one tenth (before shutdown frees the encoder and queues).
    """
    import psutil

    loops = max(1, -(-frames // clip_frames))
    cmd = [str(VENV_BIN / "vidtrack"), "run", str(clip), "--model", str(model), "--loop", str(loops), "--quiet",
           "--jsonl", str(workdir / "soak.jsonl")]
    if video:
        cmd += ["-o", str(workdir / "soak.mp4")]
    proc = psutil.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples: list[float] = []
    while proc.poll() is None:
        try:
            samples.append(proc.memory_info().rss / 2**20)
        except psutil.Error:
            break
        time.sleep(0.5)
    if proc.returncode != 0:
        raise RuntimeError(f"soak run exited {proc.returncode}: {proc.stderr.read().decode()[-500:]}")
    if len(samples) < 10:
        return float("nan"), float("nan"), len(samples)
    tenth = len(samples) // 10
    early = statistics.median(samples[tenth : 2 * tenth])
    late = statistics.median(samples[8 * tenth : 9 * tenth])
    return late - early, max(samples), len(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=SHARED / "videos" / "people_street_1080p.mp4")
    parser.add_argument("--model", type=Path,
                        default=Path(os.environ.get("VIDTRACK_MODEL") or SHARED / "models" / "yolo11n_int8_openvino_model"))
    parser.add_argument("--frames", type=int, default=10_000)
    args = parser.parse_args()
    import cv2

    cap = cv2.VideoCapture(str(args.clip))
    clip_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vidtrack-soak-") as tmp:
        growth, peak, n = soak_growth_mb(args.clip, args.model, args.frames, clip_frames, Path(tmp))
        lines = sum(1 for _ in open(Path(tmp) / "soak.jsonl"))
    print(f"clip {args.clip.name} looped to {lines} frames (video + JSONL written) in {time.perf_counter() - start:.0f} s")
    print(f"RSS growth, 2nd tenth of the run to its 9th (medians): {growth:+.1f} MB (target <= 50 MB); "
          f"peak {peak:.0f} MB; {n} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
