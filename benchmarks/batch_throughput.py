"""Archive throughput: `vidtrack batch` serial, --workers 2, Ray, against a shell loop of `yolo track` (issue 10).

Every video of ../shared/assets/videos (played --loop times so the set holds at least
--min-frames frames), annotated MP4s written, one run of each:

- ``serial``: ``vidtrack batch IN -o OUT --workers 1`` (files one after another, one model);
- ``workers 2``: two worker processes, each pinned to its share of the cores (one core each);
- ``workers 2 unpinned``: the same, each worker free to use every core (what pinning avoids);
- ``ray``: ``--ray HOST:PORT --workers 2 --cores-per-worker 1`` on a local head node started here (``ray start --head``;
  start-up of the head is not timed, connecting and the actors' model loading are);
- ``yolo loop``: ``for f in IN/*; do yolo track model=M source=$f tracker=bytetrack.yaml save=True; done``.

For each: wall time (start to last file written), frames/s over the whole set, CPU
utilisation (CPU seconds of every process of the run, Ray's too, / wall / cores), peak
RSS (all processes of the run together), and for the batches the overhead per file: wall
time not spent in frames (the summary's steady processing rate), per file: start-up (model
loading), opening and closing files, and workers left idle at the end.

    python benchmarks/batch_throughput.py [--model M] [--skip-yolo] [--runs serial,workers2,...]

On a shared machine the load average before and after each run is printed: other users'
work lowers every figure, and ratios of runs made minutes apart carry that noise.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "assets"
VENV_BIN = Path(sys.executable).parent
MODEL = SHARED / "models" / "yolo11n_int8_openvino_model"
RUNS = ("serial", "workers2", "workers2-unpinned", "ray", "yolo")


@dataclass
class Result:
    name: str
    wall_s: float
    frames: int
    cpu_s: float
    peak_rss_mb: float
    load: tuple[float, float]
    overhead_per_file_s: float | None = None
    per_process_cpu: dict[int, float] = field(default_factory=dict)


class Sampler:
    """CPU seconds and summed RSS of every process in the given sessions, sampled 4x a second."""

    def __init__(self, sessions: set[int]) -> None:
        import psutil

        self._psutil = psutil
        self.sessions = sessions
        self.cpu: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> "Sampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss = 0
            for proc in self._psutil.process_iter(["pid"]):
                try:
                    if os.getsid(proc.pid) not in self.sessions:
                        continue
                    with proc.oneshot():
                        times = proc.cpu_times()
                        rss += proc.memory_info().rss
                        self.cpu[proc.pid] = max(self.cpu.get(proc.pid, 0.0), times.user + times.system)
                        self.names.setdefault(proc.pid, " ".join(proc.cmdline()[:4])[:80])
                except (self._psutil.Error, ProcessLookupError, PermissionError):
                    continue
            self.peak_rss = max(self.peak_rss, rss)
            self._stop.wait(0.25)


def count_frames(path: Path) -> int:
    """Frames in a video: the container's count, else decoded."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
        return sum(1 for _ in container.decode(video=0))


def timed(name: str, cmd: list[str], extra_sessions: set[int] = frozenset(), env: dict | None = None) -> Result:
    """Run ``cmd`` in its own session; CPU from rusage of waited children and from sampling."""
    load_before = os.getloadavg()[0]
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    process = subprocess.Popen(cmd, start_new_session=True, env={**os.environ, **(env or {})},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = Sampler({process.pid, *extra_sessions}).start()
    _, stderr = process.communicate()
    wall = time.monotonic() - start
    sampler.stop()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited_cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    extra_cpu = sum(cpu for pid, cpu in sampler.cpu.items() if pid != process.pid and _outside(pid, process.pid))
    if process.returncode not in (0, 1):
        raise SystemExit(f"{name} failed ({process.returncode}): {stderr.strip()[-800:]}")
    return Result(
        name=name, wall_s=wall, frames=0, cpu_s=max(waited_cpu + extra_cpu, sum(sampler.cpu.values())),
        peak_rss_mb=sampler.peak_rss / 2**20, load=(load_before, os.getloadavg()[0]),
        per_process_cpu={pid: cpu for pid, cpu in sampler.cpu.items()},
    )


def _outside(pid: int, session: int) -> bool:
    """True for processes of another session (Ray's), whose CPU rusage of children misses."""
    try:
        return os.getsid(pid) != session
    except ProcessLookupError:
        return False


def batch_frames_and_overhead(out: Path, wall: float, workers: int) -> tuple[int, float]:
    """Total frames from report.csv, and worker time not spent in steady processing, per file:
    (wall x workers - sum of each file's frames / its steady rate) / files."""
    with open(out / "report.csv", newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["status"] == "done"]
    frames = sum(int(r["frames"]) for r in rows)
    steady = sum((int(r["frames"]) - 1) / float(r["processing_fps"]) for r in rows if r["processing_fps"])
    return frames, (wall * workers - steady) / max(1, len(rows))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_ray_head(cpus: int, env: dict) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    temp = tempfile.mkdtemp(prefix="vt-ray-")
    head = subprocess.Popen(
        [str(VENV_BIN / "ray"), "start", "--head", "--num-cpus", str(cpus), "--node-ip-address", "127.0.0.1",
         "--port", str(port), "--temp-dir", temp, "--include-dashboard", "false", "--disable-usage-stats", "--block"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env={**os.environ, **env},
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if head.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the Ray head node did not start")
            time.sleep(0.5)
    time.sleep(3)  # let the raylet register before the driver connects
    return head, f"127.0.0.1:{port}", temp


def stop_ray_head(head: subprocess.Popen, temp: str) -> None:
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        try:
            os.killpg(head.pid, sig)
            head.wait(timeout=wait)
            break
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
    shutil.rmtree(temp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=Path, default=SHARED / "videos")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--min-frames", type=int, default=2000)
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated subset of {','.join(RUNS)}")
    parser.add_argument("--skip-yolo", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the outputs (printed folder)")
    args = parser.parse_args()
    runs = [r for r in args.runs.split(",") if r and not (args.skip_yolo and r == "yolo")]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

    videos = sorted(p for p in args.videos.iterdir() if p.is_file())
    frames_each = {p.name: count_frames(p) for p in videos}
    total = sum(frames_each.values())
    loop = max(1, math.ceil(args.min_frames / total))
    work = Path(tempfile.mkdtemp(prefix="vt-batch-bench-"))
    inputs = work / "in"
    inputs.mkdir()
    for video in videos:
        os.symlink(video.resolve(), inputs / video.name)
    print(f"{len(videos)} videos, {total} frames, played {loop}x -> {total * loop} frames; {cores} cores; work {work}")

    base = [str(VENV_BIN / "vidtrack"), "batch", str(inputs), "--model", str(args.model), "--overwrite", "-q"]
    if loop > 1:
        base += ["--loop", str(loop)]
    ray_env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": os.urandom(16).hex()}
    results: list[Result] = []
    for run in runs:
        print(f"running {run} ...", flush=True)
        if run == "yolo":
            loop_cmd = (
                f'for i in $(seq {loop}); do for f in "{inputs}"/*; do "{VENV_BIN / "yolo"}" track model="{args.model}" '
                f'source="$f" tracker=bytetrack.yaml save=True project="{work / "yolo"}" name=run exist_ok=True '
                f"verbose=False >/dev/null 2>&1 || exit 1; done; done"
            )
            result = timed("yolo track loop", ["bash", "-c", loop_cmd])
            result.frames = total * loop
        elif run == "ray":
            head, address, temp = start_ray_head(cores, ray_env)
            try:
                out = work / "ray"
                result = timed("batch --ray (local head)", [*base, "-o", str(out), "--ray", address, "--workers", "2", "--cores-per-worker", "1"],
                               extra_sessions={head.pid}, env=ray_env)
            finally:
                stop_ray_head(head, temp)
            result.frames, result.overhead_per_file_s = batch_frames_and_overhead(out, result.wall_s, 2)
        else:
            workers = {"serial": ["--workers", "1"], "workers2": ["--workers", "2"],
                       "workers2-unpinned": ["--workers", "2", "--cores-per-worker", str(cores)]}[run]
            out = work / run
            result = timed(f"batch {' '.join(workers)}", [*base, "-o", str(out), *workers])
            result.frames, result.overhead_per_file_s = batch_frames_and_overhead(out, result.wall_s, 1 if run == "serial" else 2)
        results.append(result)
        print(f"  {result.wall_s:.1f} s, {result.frames / result.wall_s:.1f} frames/s, load {result.load[0]:.1f} -> {result.load[1]:.1f}")

    print()
    print(f"| run | wall s | frames/s | CPU util ({cores} cores) | peak RSS MB | overhead/file s | load before/after |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        over = "-" if r.overhead_per_file_s is None else f"{r.overhead_per_file_s:.2f}"
        print(f"| {r.name} | {r.wall_s:.1f} | {r.frames / r.wall_s:.1f} | {100 * r.cpu_s / r.wall_s / cores:.0f}% "
              f"| {r.peak_rss_mb:.0f} | {over} | {r.load[0]:.1f} / {r.load[1]:.1f} |")
    fps = {r.name: r.frames / r.wall_s for r in results}
    print()
    if "yolo track loop" in fps:
        best = max((v, k) for k, v in fps.items() if k != "yolo track loop")
        print(f"best batch ({best[1]}) vs yolo track loop: {best[0] / fps['yolo track loop']:.2f}x (target >= 2x)")
    if "batch --workers 2" in fps and "batch --workers 1" in fps:
        print(f"--workers 2 vs serial: {fps['batch --workers 2'] / fps['batch --workers 1']:.2f}x (target >= 1.0x)")
    unpinned = next((k for k in fps if "cores-per-worker" in k), None)
    if unpinned and "batch --workers 2" in fps:
        print(f"--workers 2 pinned vs unpinned: {fps['batch --workers 2'] / fps[unpinned]:.2f}x")
    if "batch --ray (local head)" in fps and "batch --workers 2" in fps:
        print(f"ray vs --workers 2: {fps['batch --ray (local head)'] / fps['batch --workers 2']:.2f}x (target >= 0.85x)")
    for r in results:
        if r.name.startswith("batch") and r.per_process_cpu:
            busy = sorted((cpu / r.wall_s for cpu in r.per_process_cpu.values() if cpu / r.wall_s > 0.2), reverse=True)
            print(f"{r.name}: cores kept busy per process (>0.2): {', '.join(f'{b:.2f}' for b in busy)}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
