"""A .pt model on CPU: first-run OpenVINO export time, and `vidtrack run` through PyTorch vs the export.

Offline there is no trained ``yolo11n.pt``, so by default the model is YOLO11n built from
Ultralytics' bundled ``yolo11n.yaml`` with seeded random weights (same architecture, same
compute per frame; it finds nothing, so tracking and drawing cost less than with a trained
model). ``--weights PATH`` uses a real ``.pt`` instead.

Prints, from one run: the export time of a first use (empty cache), then frames/s of
``vidtrack run VIDEO -o out.mp4`` with ``--backend ultralytics`` (PyTorch) and with the
default backend (the cached export), and their ratio. Processing frames/s comes from each
run's ``--summary`` (first to last finished frame, start-up excluded); wall seconds include
start-up.

Usage: ``python benchmarks/pt_export.py [--video PATH] [--weights PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT.parent / "shared" / "assets" / "videos" / "people_street_1080p.mp4"


def random_weights(path: Path) -> Path:
    """YOLO11n from Ultralytics' bundled yaml with seeded random weights, saved as ``path``."""
    import torch
    from ultralytics import YOLO

    torch.manual_seed(0)
    YOLO("yolo11n.yaml", task="detect").save(str(path))
    return path


def run(video: Path, weights: Path, out_dir: Path, env: dict[str, str], *extra: str) -> dict:
    """One ``vidtrack run`` writing H.264; returns its summary plus the wall seconds."""
    summary = out_dir / "summary.json"
    cmd = [sys.executable, "-m", "vidtrack", "run", str(video), "--model", str(weights), "-o", str(out_dir / "out.mp4"),
           "--summary", str(summary), "--quiet", *extra]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    data = json.loads(summary.read_text())
    data["wall"] = time.perf_counter() - start
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--weights", type=Path, default=None, help="a .pt model (default: random YOLO11n)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        weights = args.weights or random_weights(work / "random11n.pt")
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}  # an empty cache: a true first use
        os.environ["XDG_CACHE_HOME"] = env["XDG_CACHE_HOME"]
        from vidtrack.detection.export import cached_openvino_export

        start = time.perf_counter()
        folder = cached_openvino_export(weights)
        export_s = time.perf_counter() - start
        print(f"first-use export of {weights.name} to OpenVINO: {export_s:.1f} s -> {folder.name}")

        runs = {}
        for label, extra in (("pytorch (--backend ultralytics)", ("--backend", "ultralytics")),
                             ("openvino (cached export)", ())):
            out = work / label.split()[0]
            out.mkdir()
            runs[label] = run(args.video, weights, out, env, *extra)
        print(f"{'path':34} {'frames':>6} {'frames/s':>9} {'wall s':>7}  detect ms")
        for label, data in runs.items():
            print(f"{label:34} {data['frames']:>6} {data['processing_fps']:>9.1f} {data['wall']:>7.1f}"
                  f"  {data['timings_ms'].get('detect', float('nan')):.1f}")
        torch_fps, ov_fps = (data["processing_fps"] for data in runs.values())
        print(f"cached export vs PyTorch: {ov_fps / torch_fps:.2f}x frames/s")


if __name__ == "__main__":
    main()
