"""Load on `vidtrack serve` vs the FastAPI server a user would write, plus one video job vs `vidtrack run`.

1. Images: N concurrent clients (default 8) post the coco128 images to ``POST /v1/detect``
   for D seconds (default 30) to ``vidtrack serve`` and to the baseline: FastAPI with
   ``ultralytics.YOLO(model).predict`` per request (same model, images and clients). The
   load alternates between the two in R turns (default 3 of 10 s each), only one server
   loaded at a time, so that the machine's other load hits both alike. Prints images/s,
   p50/p95 latency, errors, and the server's RSS after warm-up and at the end.
2. Video: one clip of S seconds (default 20, cut from a shared video) as a job
   (``POST /v1/jobs`` until the state is finished, server already running) vs
   ``vidtrack run CLIP -o out.mp4 --jsonl out.jsonl --summary out.json`` (whole process).

Targets (issue 11): throughput >= 1.5x the baseline, p95 no worse, 0 errors, RSS growth
< 50 MB (over 5,000 requests: pass --duration long enough for that), job <= 1.1x the run.

3. ``--worst-case N`` (issue 23): instead of the above, N concurrent clients each post, at
   once, the worst uploads the limits allow: a 49-megapixel PNG (small file, 147 MB
   decoded) as multipart, and the largest base64 JSON body the image cap allows. The
   server's RSS is sampled every 20 ms; prints the peak over idle and checks it against
   the bound the limits give: 2 decode+detect slots x 49 MP x 3 bytes x 3 (decoded picture,
   Pillow's probe and the model's resized copy) + (2 slots + 8 waiting) x 2 copies of a
   20 MB image body = 1.28 GB, stated as 1.4 GB with margin. Refusals (503, 413) are counted,
   not errors.

    python benchmarks/serve_load.py [--model DIR] [--clients 8] [--duration 30] [--video-seconds 20]
    python benchmarks/serve_load.py --worst-case 16
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "assets"
DEFAULT_MODEL = SHARED / "models" / "yolo11n_int8_openvino_model"

#: The baseline: what the FastAPI + Ultralytics tutorials write (one global model, predict per request).
BASELINE_APP = '''
import io, os
import numpy as np
from fastapi import FastAPI, UploadFile
from PIL import Image
from ultralytics import YOLO

model = YOLO(os.environ["BASELINE_MODEL"], task="detect")
app = FastAPI()


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.post("/v1/detect")
async def detect(image: UploadFile):
    picture = Image.open(io.BytesIO(await image.read())).convert("RGB")
    result = model.predict(picture, verbose=False)[0]
    return {"detections": [
        {"class": result.names[int(c)], "confidence": float(p), "box": [float(v) for v in b]}
        for b, p, c in zip(result.boxes.xyxy.tolist(), result.boxes.conf.tolist(), result.boxes.cls.tolist())
    ]}
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], port: int, env: dict[str, str], log: Path, timeout: float = 180) -> subprocess.Popen:
    """Start a server process and wait until /healthz answers."""
    process = subprocess.Popen(command, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=log.parent)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mb(process: subprocess.Popen) -> float:
    return psutil.Process(process.pid).memory_info().rss / 1e6


def load(url: str, images: list[tuple[str, bytes]], clients: int, duration: float) -> tuple[list[float], int, float]:
    """``clients`` threads posting images round-robin for ``duration`` s: (latencies s, errors, wall s)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def client(offset: int) -> None:
        with httpx.Client(timeout=60) as http:
            i = offset
            while time.monotonic() < stop_at:
                name, data = images[i % len(images)]
                i += clients
                t0 = time.perf_counter()
                try:
                    ok = http.post(url, files={"image": (name, data, "image/jpeg")}).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - t0
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors[0] += 1

    start_t = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0], time.monotonic() - start_t


def summarise(latencies: list[float], errors: int, wall: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "images_per_s": len(ordered) / wall,
        "p50_ms": 1000 * statistics.median(ordered) if ordered else float("nan"),
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan"),
        "errors": errors,
    }


def compare_servers(servers: dict[str, tuple[list[str], int]], env: dict[str, str], work: Path,
                    images: list[tuple[str, bytes]], clients: int, duration: float, rounds: int) -> dict[str, dict]:
    """Start every server, warm each up, then load them in turns (``rounds`` slices of
    ``duration / rounds`` s each, alternating), so that a change in the machine's other load
    hits both alike. Only one server is under load at any time."""
    processes = {name: start(command, port, env, work / f"{name}.log") for name, (command, port) in servers.items()}
    collected: dict[str, dict] = {name: {"latencies": [], "errors": 0, "wall": 0.0} for name in servers}
    try:
        for name, (_, port) in servers.items():  # warm-up: compile, caches, allocator
            load(f"http://127.0.0.1:{port}/v1/detect", images, clients, min(10.0, duration / 3))
            collected[name]["rss_start_mb"] = rss_mb(processes[name])
        for _ in range(rounds):
            for name, (_, port) in servers.items():
                latencies, errors, wall = load(f"http://127.0.0.1:{port}/v1/detect", images, clients, duration / rounds)
                collected[name]["latencies"] += latencies
                collected[name]["errors"] += errors
                collected[name]["wall"] += wall
        results = {}
        for name, data in collected.items():
            results[name] = summarise(data["latencies"], data["errors"], data["wall"])
            results[name]["rss_start_mb"] = data["rss_start_mb"]
            results[name]["rss_end_mb"] = rss_mb(processes[name])
            print(f"{name}: {json.dumps({k: round(v, 1) for k, v in results[name].items()})}", flush=True)
    finally:
        for process in processes.values():
            stop(process)
    return results


def video_job_vs_run(model: str, clip: Path, work: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Seconds to a finished job (upload to state finished) and to a finished `vidtrack run` process."""
    port = free_port()
    command = [sys.executable, "-m", "vidtrack", "serve", "--port", str(port), "--model", model,
               "--jobs-dir", str(work / "jobs"), "--max-upload-mb", "2000"]
    process = start(command, port, env, work / "serve-video.log")
    try:
        t0 = time.monotonic()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            job = http.post("/v1/jobs", files={"video": (clip.name, clip.read_bytes(), "video/mp4")}).json()
            while True:
                state = http.get(job["status_url"]).json()
                if state["state"] in ("finished", "failed"):
                    break
                time.sleep(0.05)
        job_s = time.monotonic() - t0
        if state["state"] != "finished":
            raise SystemExit(f"the job failed: {state['error']}")
        frames = state["progress"]["frames_done"]
    finally:
        stop(process)
    out = work / "run"
    out.mkdir()
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "vidtrack", "run", str(clip), "--model", model, "-o", str(out / "out.mp4"),
                    "--jsonl", str(out / "out.jsonl"), "--summary", str(out / "out.json"), "-q"],
                   env=env, check=True, cwd=work)
    run_s = time.monotonic() - t0
    return job_s, run_s, frames


#: Peak RSS growth allowed under --worst-case (see the module docstring for the sum).
WORST_CASE_BOUND_MB = 1400


def worst_case_uploads(model: str, clients: int, env: dict[str, str], work: Path) -> None:
    """N clients post a 49 MP PNG and a max-size base64 JSON image at once; print the peak RSS."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    side = 7000  # 49 MP: under the 50 MP cap, so it is decoded, not refused
    gradient = np.linspace(0, 255, side, dtype=np.uint8)
    picture = np.repeat(np.stack([gradient] * 3, axis=-1)[None, :, :], side, axis=0)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "PNG", optimize=False, compress_level=9)
    png = buffer.getvalue()
    del picture
    # the largest JSON body the 20 MB image cap lets through: the same PNG padded to 19 MB, as base64
    big_json = b'{"image": {"base64": "' + base64.b64encode(png + b"\0" * ((19 << 20) - len(png))) + b'"}}'
    port = free_port()
    process = start([sys.executable, "-m", "vidtrack", "serve", "--port", str(port), "--model", model,
                     "--jobs-dir", str(work / "jobs_worst")], port, env, work / "worst.log")
    try:
        idle = rss_mb(process)
        peak = [idle]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], rss_mb(process))
                except psutil.Error:
                    return
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        statuses: list[int] = []

        def client(i: int) -> None:
            with httpx.Client(timeout=300) as http:
                if i % 2 == 0:
                    answer = http.post(f"http://127.0.0.1:{port}/v1/detect", files={"image": ("big.png", png)})
                else:
                    answer = http.post(f"http://127.0.0.1:{port}/v1/detect", content=big_json,
                                       headers={"content-type": "application/json"})
                statuses.append(answer.status_code)

        start_t = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start_t
        time.sleep(1.0)
        after = rss_mb(process)
        done.set()
        sampler.join()
    finally:
        stop(process)
    counts = {code: statuses.count(code) for code in sorted(set(statuses))}
    growth = peak[0] - idle
    print(f"{clients} concurrent worst-case uploads (half a {len(png) / 1e3:.0f} kB 49 MP PNG, half a "
          f"{len(big_json) / 1e6:.1f} MB base64 JSON body) in {wall:.1f} s; answers {counts}")
    print("| measure | value | bound |")
    print("|---|---|---|")
    print(f"| RSS idle | {idle:.0f} MB | |")
    print(f"| RSS peak | {peak[0]:.0f} MB (+{growth:.0f} MB) | +{WORST_CASE_BOUND_MB} MB |")
    print(f"| RSS 1 s after | {after:.0f} MB (+{after - idle:.0f} MB) | |")
    print("PASS" if growth <= WORST_CASE_BOUND_MB else "FAIL: peak RSS growth over the bound")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.environ.get("VIDTRACK_MODEL") or str(DEFAULT_MODEL))
    parser.add_argument("--images", type=Path, default=SHARED / "coco128" / "images" / "train2017")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load per server, in total")
    parser.add_argument("--rounds", type=int, default=3, help="the load alternates between the servers in this many turns")
    parser.add_argument("--video", type=Path, default=SHARED / "videos" / "pedestrians_pets_h264.avi")
    parser.add_argument("--video-seconds", type=float, default=20.0)
    parser.add_argument("--skip-video", action="store_true")
    parser.add_argument("--worst-case", type=int, metavar="N", default=0,
                        help="only: N concurrent worst-case image uploads, peak RSS against its bound")
    parser.add_argument("--src", type=Path, default=ROOT / "src",
                        help="the vidtrack sources served by --worst-case (an older checkout, to compare)")
    args = parser.parse_args()
    if args.worst_case:
        env = dict(os.environ, PYTHONPATH=str(args.src), VIDTRACK_MODEL=args.model, PYTHONUNBUFFERED="1")
        with tempfile.TemporaryDirectory(prefix="serve_worst_") as tmp:
            worst_case_uploads(args.model, args.worst_case, env, Path(tmp))
        return

    images = [(p.name, p.read_bytes()) for p in sorted(args.images.glob("*.jpg"))]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), BASELINE_MODEL=args.model, VIDTRACK_MODEL=args.model,
               YOLO_VERBOSE="False", PYTHONUNBUFFERED="1")
    cores = os.cpu_count()
    print(f"{len(images)} images, {args.clients} clients, {args.duration:g} s per server, {cores} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start", flush=True)
    with tempfile.TemporaryDirectory(prefix="serve_load_") as tmp:
        work = Path(tmp)
        (work / "baseline_app.py").write_text(BASELINE_APP)
        ours_port, base_port = free_port(), free_port()
        results = compare_servers({
            "vidtrack": ([sys.executable, "-m", "vidtrack", "serve", "--port", str(ours_port), "--model", args.model,
                          "--jobs-dir", str(work / "jobs0")], ours_port),
            "baseline": ([sys.executable, "-m", "uvicorn", "baseline_app:app", "--port", str(base_port),
                          "--log-level", "warning", "--no-access-log"], base_port),
        }, env, work, images, args.clients, args.duration, args.rounds)
        ours, base = results["vidtrack"], results["baseline"]
        print()
        print("| measure | vidtrack serve | FastAPI + YOLO.predict | ratio | target |")
        print("|---|---|---|---|---|")
        print(f"| images/s | {ours['images_per_s']:.1f} | {base['images_per_s']:.1f} | "
              f"{ours['images_per_s'] / base['images_per_s']:.2f}x | >= 1.5x |")
        print(f"| p50 latency | {ours['p50_ms']:.0f} ms | {base['p50_ms']:.0f} ms | {ours['p50_ms'] / base['p50_ms']:.2f}x | |")
        print(f"| p95 latency | {ours['p95_ms']:.0f} ms | {base['p95_ms']:.0f} ms | {ours['p95_ms'] / base['p95_ms']:.2f}x | <= 1x |")
        print(f"| requests (errors) | {ours['requests']:.0f} ({ours['errors']:.0f}) | {base['requests']:.0f} "
              f"({base['errors']:.0f}) | | 0 errors |")
        print(f"| RSS after warm-up -> end | {ours['rss_start_mb']:.0f} -> {ours['rss_end_mb']:.0f} MB | "
              f"{base['rss_start_mb']:.0f} -> {base['rss_end_mb']:.0f} MB | | growth < 50 MB |")
        if not args.skip_video:
            if shutil.which("ffmpeg") is None:
                raise SystemExit("ffmpeg is needed to cut the clip")
            clip = work / "clip.mp4"
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(args.video), "-t", str(args.video_seconds),
                            "-an", "-c:v", "copy", str(clip)], check=True)
            job_s, run_s, frames = video_job_vs_run(args.model, clip, work, env)
            print(f"| {args.video_seconds:g} s video ({frames} frames): job to finished MP4 vs `vidtrack run` | "
                  f"{job_s:.1f} s | {run_s:.1f} s (run) | {job_s / run_s:.2f}x | <= 1.1x |")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end (other processes share these {cores} CPUs)")


if __name__ == "__main__":
    main()
