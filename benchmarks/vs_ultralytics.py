"""vidtrack against `yolo track ... save=True` on the same clip and model, in one run (issue 5).

Each tool runs as a fresh process, several times; the medians are compared as ratios:

- processing rate with an annotated video written (frames/s excluding start-up);
- whole-process wall time, start to finished file;
- detection + tracking with no video written, against the model alone (same backend,
  ``max_in_flight`` requests in flight) measured in this process;
- time from command start to the first annotated frame;
- peak RSS (``/usr/bin/time -v``);
- output size: vidtrack's MP4 against yolo's .avi;
- optionally (``--soak-frames``) RSS growth over a long looped run.

Usage: ``python benchmarks/vs_ultralytics.py [--clip PATH] [--model PATH] [--reps 3] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from soak_memory import soak_growth_mb  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "assets"
DEFAULT_CLIP = SHARED / "videos" / "people_street_1080p.mp4"
DEFAULT_MODEL = SHARED / "models" / "yolo11n_int8_openvino_model"
VENV_BIN = Path(sys.executable).parent
FRAME_LINE = re.compile(r"\(frame (\d+)/(\d+)\)")


@dataclass
class Run:
    """One process: wall time, peak RSS, per-frame arrival times, output size."""

    wall_s: float
    peak_rss_mb: float
    first_frame_s: float | None  # command start -> first annotated frame
    fps: float | None  # frames/s from the first to the last finished frame
    output_bytes: int | None
    extra: dict = field(default_factory=dict)


def _peak_rss_mb(time_log: Path) -> float:
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_log.read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


def _timed_process(cmd: list[str], cwd: Path, env: dict, watch_lines: bool) -> tuple[float, float, list[float], str]:
    """Run ``cmd`` under /usr/bin/time -v; return wall, peak RSS and when frame lines appeared."""
    time_log = cwd / f"time-{time.monotonic_ns()}.log"
    full = ["/usr/bin/time", "-v", "-o", str(time_log), *cmd]
    frame_times: list[float] = []
    start = time.perf_counter()
    proc = subprocess.Popen(full, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1)
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if watch_lines and FRAME_LINE.search(line):
            frame_times.append(time.perf_counter() - start)
        tail = (tail + [line])[-20:]
    proc.wait()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}... exited {proc.returncode}:\n{''.join(tail)}")
    return wall, _peak_rss_mb(time_log), frame_times, "".join(tail)


def run_yolo(clip: Path, model: Path, workdir: Path) -> Run:
    """`yolo track model=... source=... tracker=bytetrack.yaml save=True` (verbose: a line per frame)."""
    out_dir = workdir / "yolo"
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [str(VENV_BIN / "yolo"), "track", f"model={model}", f"source={clip}", "tracker=bytetrack.yaml",
           "save=True", f"project={workdir}", "name=yolo", "exist_ok=True"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    wall, rss, frames, _ = _timed_process(cmd, workdir, env, watch_lines=True)
    videos = [p for p in out_dir.rglob("*") if p.suffix.lower() in (".avi", ".mp4")]
    fps = (len(frames) - 1) / (frames[-1] - frames[0]) if len(frames) > 1 else None
    return Run(wall, rss, frames[0] if frames else None, fps, videos[0].stat().st_size if videos else None)


def _first_line_watcher(path: Path, start: float, result: dict) -> threading.Thread:
    """Note when ``path`` first holds a whole line: the first finished frame of vidtrack."""

    def watch() -> None:
        while "stop" not in result:
            try:
                if path.exists() and b"\n" in path.read_bytes()[:65536]:
                    result["first"] = time.perf_counter() - start
                    return
            except OSError:
                pass
            time.sleep(0.005)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def run_vidtrack(clip: Path, model: Path, workdir: Path, video: bool, extra_args: list[str] = ()) -> Run:
    """`vidtrack run` as a user types it; the summary file gives the processing rate."""
    out = workdir / "vidtrack.mp4"
    summary = workdir / "summary.json"
    jsonl = workdir / "frames.jsonl"
    for p in (out, summary, jsonl):
        p.unlink(missing_ok=True)
    cmd = [str(VENV_BIN / "vidtrack"), "run", str(clip), "--model", str(model), "--summary", str(summary),
           "--jsonl", str(jsonl), "--quiet", *extra_args]
    if video:
        cmd += ["-o", str(out)]
    watched: dict = {}
    start = time.perf_counter()
    watcher = _first_line_watcher(jsonl, start, watched)
    wall, rss, _, _ = _timed_process(cmd, workdir, dict(os.environ), watch_lines=False)
    watched["stop"] = True
    watcher.join()
    data = json.loads(summary.read_text())
    fps = data.get("processing_fps")
    return Run(wall, rss, watched.get("first"), fps, out.stat().st_size if video and out.exists() else None,
               extra={"summary": data})


def model_alone_fps(clip: Path, model: Path, calls: int) -> tuple[float, int]:
    """The model alone through vidtrack's detector, max_in_flight requests in flight."""
    sys.path.insert(0, str(ROOT / "src"))
    import cv2

    from vidtrack.benchmarking import _model_throughput
    from vidtrack.config import DetectorConfig
    from vidtrack.detection import load_detector

    cap = cv2.VideoCapture(str(clip))
    frames = [cap.read()[1] for _ in range(16)]
    cap.release()
    detector = load_detector(DetectorConfig(model=str(model)))
    _model_throughput(detector, frames, 6, detector.max_in_flight)
    return _model_throughput(detector, frames, calls, detector.max_in_flight), detector.max_in_flight


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--model", type=Path, default=Path(os.environ.get("VIDTRACK_MODEL") or DEFAULT_MODEL))
    parser.add_argument("--reps", type=int, default=3, help="runs of each tool; medians are reported")
    parser.add_argument("--quick", action="store_true", help="one run of each tool (a smoke test, noisy)")
    parser.add_argument("--vidtrack-args", default="", help="extra `vidtrack run` options, e.g. '--preset veryfast'")
    parser.add_argument("--soak-frames", type=int, default=0, help="also measure RSS growth over this many frames")
    args = parser.parse_args()
    reps = 1 if args.quick else args.reps
    for path in (args.clip, args.model):
        if not path.exists():
            print(f"error: {path} does not exist", file=sys.stderr)
            return 2
    import cv2

    cap = cv2.VideoCapture(str(args.clip))
    clip_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()

    extra = args.vidtrack_args.split()
    with tempfile.TemporaryDirectory(prefix="vs-ultralytics-") as tmp:
        workdir = Path(tmp)
        yolo_runs, vt_runs, vt_novideo = [], [], []
        for rep in range(reps):  # interleaved, so that machine noise hits both tools alike
            print(f"rep {rep + 1}/{reps}: yolo track ...", flush=True)
            yolo_runs.append(run_yolo(args.clip, args.model, workdir))
            print(f"rep {rep + 1}/{reps}: vidtrack run ...", flush=True)
            vt_runs.append(run_vidtrack(args.clip, args.model, workdir, video=True, extra_args=extra))
            vt_novideo.append(run_vidtrack(args.clip, args.model, workdir, video=False, extra_args=extra))
        model_fps, in_flight = model_alone_fps(args.clip, args.model, calls=60 if args.quick else 150)
        soak = soak_growth_mb(args.clip, args.model, args.soak_frames, clip_frames, workdir)[:2] if args.soak_frames else None

    y = {k: median([getattr(r, k) for r in yolo_runs]) for k in ("wall_s", "peak_rss_mb", "first_frame_s", "fps", "output_bytes")}
    v = {k: median([getattr(r, k) for r in vt_runs]) for k in ("wall_s", "peak_rss_mb", "first_frame_s", "fps", "output_bytes")}
    nv_fps = median([r.fps for r in vt_novideo])
    from vidtrack.config import OutputConfig

    crf = f"{OutputConfig().crf} preset {OutputConfig().preset} (vidtrack defaults) {args.vidtrack_args}".strip()

    print()
    print(f"clip {args.clip.name} ({clip_frames} frames), model {args.model}, {reps} rep(s), medians; "
          f"{os.cpu_count()} CPUs")
    rows = [
        ("processing fps, video written (excl. start-up)", v["fps"], y["fps"], v["fps"] / y["fps"], ">= 1.5x"),
        ("whole process wall time, s", v["wall_s"], y["wall_s"], v["wall_s"] / y["wall_s"], "<= 0.6x"),
        ("time to first annotated frame, s", v["first_frame_s"], y["first_frame_s"], None, "vidtrack <= 1.5 s"),
        ("peak RSS, MB", v["peak_rss_mb"], y["peak_rss_mb"], v["peak_rss_mb"] / y["peak_rss_mb"], "<= 0.6x"),
        ("output size, MB (mp4 crf " + crf + " vs avi)", v["output_bytes"] / 1e6, y["output_bytes"] / 1e6,
         v["output_bytes"] / y["output_bytes"], "<= 0.1x"),
    ]
    print(f"{'measure':58s} {'vidtrack':>10s} {'yolo':>10s} {'ratio':>8s}  target")
    for name, a, b, ratio, target in rows:
        r = f"{ratio:8.2f}" if ratio is not None else " " * 8
        print(f"{name:58s} {a:10.2f} {b:10.2f} {r}  {target}")
    print(f"{'detect+track, no video, fps':58s} {nv_fps:10.2f} {'':>10s} {nv_fps / model_fps:8.2f}  "
          f">= 0.9x model alone ({model_fps:.1f} fps, {in_flight} in flight)")
    if soak is not None:
        growth, peak = soak
        print(f"{'RSS growth over ' + str(args.soak_frames) + ' frames, MB':58s} {growth:10.1f} {'':>10s} "
              f"{'':>8s}  <= 50 MB (peak {peak:.0f} MB)")
    print()
    print("per run (vidtrack fps / wall / first frame; yolo fps / wall / first frame):")
    for a, b in zip(vt_runs, yolo_runs):
        print(f"  vidtrack {a.fps or 0:6.2f} fps {a.wall_s:6.2f} s {a.first_frame_s or 0:5.2f} s | "
              f"yolo {b.fps or 0:6.2f} fps {b.wall_s:6.2f} s {b.first_frame_s or 0:5.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
