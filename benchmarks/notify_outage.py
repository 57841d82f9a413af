"""Notifications through an outage, and their cost to the pipeline (issue 22).

Part 1 (``--events 1000 --outage 10``): N events written to ``--mqtt`` (a real Debian
``mosquitto`` on loopback, started here) at ``--rate`` events/s; the broker is stopped for
``--outage`` seconds in the middle, then restarted. A persistent QoS 1 subscriber counts
what arrives. Prints: events received, dropped (counted and named by the sink), lost
(neither), retries, and the longest ``write()`` call (the pipeline's cost per event).

Part 2 (``--synthetic``): the same comparison without a model, so the notifications' share
of the work is as large as it gets: a generated clip (a square crossing 20 counting lines,
``--loop`` laps), a detector that finds the square by colour, run in-process; events per run
and processing frames/s, medians over ``--repeats`` alternated runs.

Part 3 (``--pipeline``): ``vidtrack run VIDEO --line ...`` without notifications, with
``--mqtt`` to a live broker and with ``--mqtt`` to a port where nothing listens (every
event retried, then dropped), alternated ``--repeats`` times; the summary's processing
frames/s, medians and ratios to the baseline.

    python benchmarks/notify_outage.py --events 1000 --outage 10
    python benchmarks/notify_outage.py --synthetic --repeats 5
    python benchmarks/notify_outage.py --pipeline ../shared/assets/videos/pedestrians_pets_h264.avi --repeats 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "sinks"))  # the test suite's broker and subscriber helpers

from notify_servers import Broker, Subscriber, free_port  # noqa: E402


def outage(events: int, rate: float, down_s: float) -> int:
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
        longest = 0.0
        costs: list[float] = []
        for i in range(events):
            target = start + i / rate
            time.sleep(max(0.0, target - time.monotonic()))
            now = time.monotonic() - start
            if not stopped and now >= down_at:
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
            longest = max(longest, costs[-1])
        if not restarted:
            time.sleep(max(0.0, down_s - (time.monotonic() - t_stop)))
            broker.start()
        sink.close()
        stats = sink.summary()["mqtt"]
        got = sub.wait_for(events - stats["dropped"], timeout=60)
        sub.close()
    received = {m["frame"] for m in got}
    dropped = stats["dropped"]
    lost = events - len(received) - dropped
    print(f"events {events} at {rate:g}/s, broker down {down_s:g} s mid-stream")
    print(f"received {len(received)}, dropped (counted) {dropped}, lost {lost}, duplicates {len(got) - len(received)}")
    print(f"retries {stats['retries']}, write() median {statistics.median(costs) * 1e6:.0f} us, longest {longest * 1000:.2f} ms")
    return 0 if lost == 0 else 1


def pipeline(video: str, repeats: int) -> int:
    runs: dict[str, list[float]] = {"none": [], "mqtt": [], "mqtt-down": []}
    with Broker() as broker, tempfile.TemporaryDirectory() as tmp:
        dead = free_port()
        for r in range(repeats):
            for name, extra in (
                ("none", []),
                ("mqtt", ["--mqtt", f"mqtt://127.0.0.1:{broker.port}/bench"]),
                ("mqtt-down", ["--mqtt", f"mqtt://127.0.0.1:{dead}/bench"]),
            ):
                summary = Path(tmp) / f"{name}-{r}.json"
                cmd = [sys.executable, "-m", "vidtrack", "run", video, "--line", "0,0.5,1,0.5", "--summary", str(summary), "-q", *extra]
                subprocess.run(cmd, check=True, cwd=ROOT)
                data = json.loads(summary.read_text())
                runs[name].append(data["processing_fps"])
                note = data.get("notifications", {}).get("mqtt", {})
                print(f"run {r} {name:9s} {data['processing_fps']:.2f} frames/s {note and {k: note[k] for k in ('sent', 'dropped')}}")
    base = statistics.median(runs["none"])
    for name, values in runs.items():
        med = statistics.median(values)
        print(f"{name:9s} median {med:.2f} frames/s  ratio {med / base:.3f}")
    return 0


class _SquareDetector:
    """Finds the bright square the synthetic clip draws (no model: the pipeline's own cost only)."""

    class_names = {0: "person"}
    max_in_flight = 1

    def warmup(self, image_hw: tuple[int, int]) -> None:
        pass

    def detect(self, image):  # noqa: ANN001, ANN201 - numpy image in, sv.Detections out
        import numpy as np

        from vidtrack.detection.base import make_detections

        mask = (image[:, :, 2] > 200) & (image[:, :, 1] > 150)
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            return make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), self.class_names)
        box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], dtype=np.float32)
        return make_detections(box, np.array([0.9]), np.array([0]), self.class_names)


def synthetic(repeats: int, laps: int) -> int:
    import cv2
    import numpy as np

    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    runs: dict[str, list[float]] = {"none": [], "mqtt": [], "mqtt-down": []}
    with Broker() as broker, tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "square.avi"
        writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
        for i in range(300):
            image = np.full((240, 320, 3), 30, np.uint8)
            x = int(5 + i * 290 / 300)
            image[100:150, x : x + 20] = (40, 200, 250)
            writer.write(image)
        writer.release()
        lines = [f"{x / 21:.4f},0,{x / 21:.4f},1:l{x}" for x in range(1, 21)]
        dead = free_port()
        for r in range(repeats):
            for name, extra in (
                ("none", {}),
                ("mqtt", {"mqtt": f"mqtt://127.0.0.1:{broker.port}/bench"}),
                ("mqtt-down", {"mqtt": f"mqtt://127.0.0.1:{dead}/bench"}),
            ):
                request = request_from_options([str(clip)], {"line": lines, "loop": laps, "min_hits": 1, **extra})
                outcome = execute(request, detector=_SquareDetector())
                data = outcome.summaries[0]
                runs[name].append(data["processing_fps"])
                note = data.get("notifications", {}).get("mqtt", {})
                events = sum(v["in"] + v["out"] for v in data["lines"].values())
                print(f"run {r} {name:9s} {data['processing_fps']:8.1f} frames/s  events {events}  "
                      f"{note and {k: note[k] for k in ('sent', 'dropped')}}")
    base = statistics.median(runs["none"])
    for name, values in runs.items():
        med = statistics.median(values)
        print(f"{name:9s} median {med:8.1f} frames/s  ratio {med / base:.3f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--outage", type=float, default=10.0)
    parser.add_argument("--pipeline", metavar="VIDEO")
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--loop", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.synthetic:
        return synthetic(args.repeats, args.loop)
    if args.pipeline:
        return pipeline(args.pipeline, args.repeats)
    return outage(args.events, args.rate, args.outage)


if __name__ == "__main__":
    raise SystemExit(main())
