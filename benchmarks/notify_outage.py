"""Notifications through a broker outage, and their cost to the pipeline, in one run (issue 22).

The target: "1,000 events pushed through a broker that goes away for 10 s in the middle:
none lost, or the dropped ones counted and named; the pipeline's frames/s within 5 % of the
same run without notifications".

Default mode: the whole ``vidtrack`` pipeline (in-process :func:`vidtrack.runner.execute`)
on a generated clip: ``--squares`` bright squares, each in its own row, crossing ``--lines``
counting lines, enough frames for about ``--events`` crossing events. The detector is a
stand-in: it finds the squares by colour and then does a fixed amount of numpy work per
frame (``--work-ms``, calibrated once at the start, the same number of operations in every
run) in place of a model; a real model's frame costs more, so the notifications' share is
smaller than here. Runs alternate, ``--repeats`` times:

- ``none``: no notifications (the baseline);
- ``mqtt``: ``--mqtt`` to a real Debian ``mosquitto`` on loopback (started here), which is
  stopped ``--outage`` seconds in the middle of the run (timed from the previous baseline
  run's length) and started again; a persistent QoS 1 subscriber counts what arrives.

Per run it prints frames/s (the summary's ``processing_fps``: first to last finished frame),
CPU seconds of this process per 1,000 frames (the subscriber's thread is counted too,
against the notifications), events, and for ``mqtt``: received, dropped (counted by the
sink), lost (neither: must be 0), retries, and the CPU seconds of the notification threads
(the sender and paho's network loop, read per thread from /proc: on a machine shared with
other work this is the steadiest measure of what notifications take from the pipeline).
Then the medians and the ratios mqtt/none. Exit status 1 when any event was lost.

    python benchmarks/notify_outage.py                       # 1000 events, 10 s outage, 3 repeats
    python benchmarks/notify_outage.py --repeats 5 --work-ms 10
    python benchmarks/notify_outage.py --sink-only           # the sink alone at --rate events/s
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "sinks"))  # the test suite's broker and subscriber helpers

from notify_servers import Broker, Subscriber  # noqa: E402

WIDTH, HEIGHT, LAP = 320, 240, 290  # clip size; frames for a square to cross the picture


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _ThreadCpu:
    """CPU seconds of this process's threads by name, sampled every 0.1 s from /proc (Linux):
    what the notification threads (``notify``, paho's ``paho-mqtt-client-``) cost, measured
    apart from the rest of the process and from other load on the machine."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._tick = os.sysconf("SC_CLK_TCK")
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        for thread in threading.enumerate():
            tid = thread.native_id
            try:
                fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError, TypeError):
                continue
            self.seen[tid] = (thread.name, (int(fields[11]) + int(fields[12])) / self._tick)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def stop(self) -> dict[str, float]:
        """CPU seconds by kind: ``notify`` (the sender), ``paho`` (the publisher's network loop),
        ``subscriber`` (the benchmark's own counting client), ``rest`` is not sampled here."""
        self._sample()
        self._stop.set()
        self._thread.join()
        out = {"notify": 0.0, "paho": 0.0, "subscriber": 0.0}
        for name, cpu in self.seen.values():
            if name == "notify":
                out["notify"] += cpu
            elif name.startswith("paho-mqtt-client-vidtrack-test-sub"):
                out["subscriber"] += cpu
            elif name.startswith("paho-mqtt-client-"):
                out["paho"] += cpu
        return out


class _Work:
    """A fixed number of numpy passes over a 256 KB array: the same work in every run (a model's
    stand-in; single-threaded, no BLAS thread pool, releases the GIL as a model's inference does)."""

    def __init__(self, ms: float) -> None:
        import numpy as np

        self.a = np.random.default_rng(0).random(65536, dtype=np.float32)
        self.out = np.empty_like(self.a)
        self.reps = 0
        if ms > 0:
            for _ in range(50):  # warm caches before timing
                np.sqrt(self.a, out=self.out)
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                for _ in range(200):
                    np.sqrt(self.a, out=self.out)
                timings.append((time.perf_counter() - started) / 200)
            self.reps = max(1, round(ms / 1000 / min(timings)))

    def __call__(self) -> None:
        import numpy as np

        for _ in range(self.reps):
            np.sqrt(self.a, out=self.out)


class _SquaresDetector:
    """Finds the bright squares of the generated clip (one box per connected blob)."""

    class_names = {0: "person"}
    max_in_flight = 1

    def __init__(self, work: _Work) -> None:
        self.work = work

    def warmup(self, image_hw: tuple[int, int]) -> None:
        pass

    def detect(self, image):  # noqa: ANN001, ANN201 - numpy image in, sv.Detections out
        import cv2
        import numpy as np

        from vidtrack.detection.base import make_detections

        self.work()
        mask = ((image[:, :, 2] > 200) & (image[:, :, 1] > 150)).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        boxes = [[x, y, x + w, y + h] for x, y, w, h, area in stats[1:count] if area > 20]
        n = len(boxes)
        return make_detections(np.array(boxes, np.float32).reshape(n, 4), np.full(n, 0.9), np.zeros(n, int), self.class_names)


def make_squares_clip(path: Path, squares: int, frames: int) -> Path:
    """``frames`` frames of ``squares`` squares moving right, one per row, out of phase."""
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (WIDTH, HEIGHT))
    row = HEIGHT // squares
    for i in range(frames):
        image = np.full((HEIGHT, WIDTH, 3), 30, np.uint8)
        for k in range(squares):
            x = 5 + (i + k * LAP // squares) % LAP
            y = k * row + 3
            image[y : y + row - 8, x : x + 16] = (40, 200, 250)
        writer.write(image)
    writer.release()
    return path


def _event_key(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(record.get(k) for k in ("type", "frame", "track_id", "line", "direction"))


def pipeline(events: int, down_s: float, repeats: int, squares: int, lines: int, work_ms: float) -> int:
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    work = _Work(work_ms)
    detector = _SquaresDetector(work)
    frames = math.ceil(events / (squares * lines) * LAP * 1.04) + LAP // squares  # a lap start and the edges give none
    runs: dict[str, list[dict[str, float]]] = {"none": [], "mqtt": []}
    lost_total = 0
    with Broker() as broker, tempfile.TemporaryDirectory() as tmp:
        clip = make_squares_clip(Path(tmp) / "squares.avi", squares, frames)
        line_specs = [f"{x / (lines + 1):.4f},0,{x / (lines + 1):.4f},1:l{x}" for x in range(1, lines + 1)]
        print(f"clip {WIDTH}x{HEIGHT}, {frames} frames, {squares} squares x {lines} lines; "
              f"stand-in model work {work.reps} passes (~{work_ms:g} ms) per frame")

        def once(name: str, tag: str, extra: dict[str, Any]) -> dict[str, Any]:
            events_file = Path(tmp) / f"{tag}.events.jsonl"
            request = request_from_options(
                [str(clip)], {"line": line_specs, "min_hits": 1, "events": events_file, **extra}
            )
            threads = _ThreadCpu()
            cpu0, wall0 = _cpu_s(), time.perf_counter()
            outcome = execute(request, detector=detector)
            cpu, wall = _cpu_s() - cpu0, time.perf_counter() - wall0
            by_thread = threads.stop()
            summary = outcome.summaries[0]
            written = [json.loads(line) for line in events_file.read_text().splitlines()]
            return {"fps": summary["processing_fps"], "cpu": cpu, "wall": wall, "frames": summary["frames"],
                    "events": written, "summary": summary, "threads": by_thread,
                    "notifier_share": (by_thread["notify"] + by_thread["paho"]) / cpu}

        once("none", "warmup", {})  # imports and first-run costs, not counted
        length = None
        for r in range(repeats):
            base = once("none", f"none-{r}", {})
            length = base["wall"]
            runs["none"].append(base)
            print(f"run {r} none  {base['fps']:7.1f} frames/s  cpu {base['cpu'] / base['frames'] * 1000:6.2f} s/1000 frames  "
                  f"events {len(base['events'])}  wall {base['wall']:.1f} s")

            topic = f"bench/run{r}"
            sub = Subscriber(broker.port, topic)
            timeline: dict[str, float] = {}

            def outage(start: float) -> None:
                time.sleep(max(0.0, start + length / 2 - down_s / 2 - time.perf_counter()))
                timeline["down"] = time.perf_counter() - start
                broker.stop()
                time.sleep(down_s)
                broker.start()
                timeline["up"] = time.perf_counter() - start

            thread = threading.Thread(target=outage, args=(time.perf_counter(),), daemon=True)
            thread.start()
            res = once("mqtt", f"mqtt-{r}", {"mqtt": f"mqtt://127.0.0.1:{broker.port}/{topic}"})
            thread.join()
            note = res["summary"]["notifications"]["mqtt"]
            got = sub.wait_for(len(res["events"]) - note["dropped"], timeout=60)
            sub.close()
            received = {_event_key(m) for m in got}
            sent = {_event_key(e) for e in res["events"]}
            dropped = note["dropped"]
            lost = len(sent - received) - dropped
            lost_total += max(0, lost)
            res.update(received=len(received & sent), dropped=dropped, lost=lost, retries=note["retries"])
            runs["mqtt"].append(res)
            print(f"run {r} mqtt  {res['fps']:7.1f} frames/s  cpu {res['cpu'] / res['frames'] * 1000:6.2f} s/1000 frames  "
                  f"events {len(res['events'])}  wall {res['wall']:.1f} s  broker down {timeline.get('down', -1):.1f}-"
                  f"{timeline.get('up', -1):.1f} s  received {len(received & sent)}  dropped {dropped} "
                  f"{note['dropped_events'][:3]}  lost {lost}  duplicates {len(got) - len(received)}  retries {note['retries']}  "
                  f"notifier threads {res['threads']['notify'] + res['threads']['paho']:.2f} cpu s "
                  f"({res['notifier_share'] * 100:.1f} % of the process), subscriber {res['threads']['subscriber']:.2f} s")
    med = {name: (statistics.median(x["fps"] for x in values), statistics.median(x["cpu"] / x["frames"] * 1000 for x in values))
           for name, values in runs.items()}
    for name, (fps, cpu) in med.items():
        print(f"{name:5s} median {fps:7.1f} frames/s  {cpu:6.2f} cpu s/1000 frames")
    ratio = med["mqtt"][0] / med["none"][0]
    print(f"ratio mqtt/none: frames/s {ratio:.3f} ({(ratio - 1) * 100:+.1f} %), "
          f"cpu per frame {med['mqtt'][1] / med['none'][1]:.3f}")
    share = statistics.median(x["notifier_share"] for x in runs["mqtt"])
    per_event = statistics.median((x["threads"]["notify"] + x["threads"]["paho"]) / max(1, len(x["events"])) for x in runs["mqtt"])
    print(f"notifier threads (sender + paho loop): median {share * 100:.2f} % of the process's cpu, "
          f"{per_event * 1000:.2f} cpu ms per event")
    events_per_run = statistics.median(len(x["events"]) for x in runs["mqtt"])
    print(f"events per mqtt run (median) {events_per_run:.0f}; lost in all runs {lost_total}; "
          f"dropped in all runs {sum(x['dropped'] for x in runs['mqtt'])}")
    return 0 if lost_total == 0 else 1


def sink_only(events: int, rate: float, down_s: float) -> int:
    """The MQTT sink alone: ``events`` events at ``rate``/s, broker down ``down_s`` s mid-stream."""
    import numpy as np

    from vidtrack.analytics.events import Event
    from vidtrack.detection.base import make_detections
    from vidtrack.frames import Frame, FrameResult
    from vidtrack.sinks.mqtt import MqttSink

    empty = make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), {0: "person"})
    image = np.zeros((2, 2, 3), np.uint8)
    with Broker() as broker:
        sub = Subscriber(broker.port, "bench/events")
        sink = MqttSink(f"mqtt://127.0.0.1:{broker.port}/bench/events")
        start = time.monotonic()
        down_at = events / rate / 2 - down_s / 2
        stopped = restarted = False
        costs: list[float] = []
        t_stop = start
        for i in range(events):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            if not stopped and time.monotonic() - start >= down_at:
                broker.stop()
                stopped, t_stop = True, time.monotonic()
            if stopped and not restarted and time.monotonic() - t_stop >= down_s:
                broker.start()
                restarted = True
            event = Event(t=i / rate, frame=i, type="cross", track_id=i, cls="person", line="gate", direction="in")
            result = FrameResult(frame=Frame(image, i, i / rate, 0.0), detections=empty, events=(event,), source_name="bench")
            t0 = time.perf_counter()
            sink.write(result)
            costs.append(time.perf_counter() - t0)
        if not restarted:
            time.sleep(max(0.0, down_s - (time.monotonic() - t_stop)))
            broker.start()
        sink.close()
        stats = sink.summary()["mqtt"]
        got = sub.wait_for(events - stats["dropped"], timeout=60)
        sub.close()
    received = {m["frame"] for m in got}
    lost = events - len(received) - stats["dropped"]
    print(f"events {events} at {rate:g}/s, broker down {down_s:g} s mid-stream")
    print(f"received {len(received)}, dropped (counted) {stats['dropped']}, lost {lost}, duplicates {len(got) - len(received)}")
    print(f"retries {stats['retries']}, write() median {statistics.median(costs) * 1e6:.0f} us, longest {max(costs) * 1000:.2f} ms")
    return 0 if lost == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="events per run (about)")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds the broker is away, mid-run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--squares", type=int, default=8)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--work-ms", type=float, default=15.0, help="stand-in model work per frame")
    parser.add_argument("--sink-only", action="store_true", help="the MQTT sink alone, no pipeline")
    parser.add_argument("--rate", type=float, default=50.0, help="--sink-only: events per second")
    args = parser.parse_args()
    if args.sink_only:
        return sink_only(args.events, args.rate, args.outage)
    return pipeline(args.events, args.outage, args.repeats, args.squares, args.lines, args.work_ms)


if __name__ == "__main__":
    raise SystemExit(main())
