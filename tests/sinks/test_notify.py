"""``--webhook`` and ``--mqtt``: every event delivered through outages, or counted; a real mosquitto broker."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from notify_servers import Broker, Receiver, Subscriber
from vidtrack.analytics.events import Event
from vidtrack.detection.base import make_detections
from vidtrack.errors import OptionError
from vidtrack.frames import Frame, FrameResult
from vidtrack.sinks.mqtt import MqttSink, MqttTarget
from vidtrack.sinks.webhook import WebhookSink

EMPTY = make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), {0: "person"})


def _frame(i: int) -> FrameResult:
    event = Event(t=i / 10, frame=i, type="cross", track_id=i, cls="person", line="gate", direction="in")
    return FrameResult(frame=Frame(np.zeros((2, 2, 3), np.uint8), i, i / 10, 0.0), detections=EMPTY, events=(event,), source_name="cam")


def test_mqtt_url_parsing_never_shows_the_password() -> None:
    target = MqttTarget.parse("mqtt://alice:s3cret@broker.local:1884/site/cam1/events")
    assert (target.host, target.port, target.topic, target.username, target.password) == ("broker.local", 1884, "site/cam1/events", "alice", "s3cret")
    assert "s3cret" not in target.label and target.label == "mqtt://alice:***@broker.local:1884/site/cam1/events"
    assert MqttTarget.parse("mqtts://h/t").port == 8883
    for bad in ("http://h/t", "mqtt://h", "mqtt://h:1883/a/#", "mqtt://u:pw@h:99999/t"):
        with pytest.raises(OptionError) as info:
            MqttTarget.parse(bad)
        assert "pw" not in str(info.value)


def test_mqtt_events_survive_a_broker_outage() -> None:
    with Broker() as broker:
        subscriber = Subscriber(broker.port, "vidtrack/test")
        sink = MqttSink(f"mqtt://user:hunter2@127.0.0.1:{broker.port}/vidtrack/test")
        try:
            for i in range(150):
                if i == 50:
                    broker.stop()  # gone mid-stream...
                    t_down = time.monotonic()
                if i == 100:
                    time.sleep(max(0.0, 3.0 - (time.monotonic() - t_down)))
                    broker.start()  # ...back after ~3 s
                sink.write(_frame(i))
                time.sleep(0.005)
            sink.close()
            got = subscriber.wait_for(150 - sink.delivery.stats.dropped)
        finally:
            subscriber.close()
    stats = sink.summary()["mqtt"]
    assert "hunter2" not in json.dumps(stats) and "hunter2" not in " ".join(sink.warnings)
    received = {m["frame"] for m in got}
    dropped = {int(name.split("@frame ")[1]) for name in stats["dropped_events"]}
    assert stats["dropped"] == len(dropped)  # few enough to be all named
    assert received | dropped == set(range(150))  # none lost: delivered or counted and named
    assert stats["retries"] > 0 and stats["sent"] >= 150 - stats["dropped"]
    assert got[0]["source"] == "cam" and got[0]["type"] == "cross"


def test_a_run_through_a_broker_outage_loses_no_event(tmp_path: Path) -> None:
    """The whole pipeline with --mqtt; the broker goes away at frame 60 for 2 s: every event of
    the events file arrives, or is counted and named as dropped in the summary."""
    import threading

    from conftest import SquareDetector, make_clip
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    clip = make_clip(tmp_path / "c.avi", frames=200, fps=30.0)
    lines = [f"{x / 11:.3f},0,{x / 11:.3f},1:l{x}" for x in range(1, 11)]
    with Broker() as broker:
        subscriber = Subscriber(broker.port, "vidtrack/run")
        restarted = threading.Event()

        def outage() -> None:
            time.sleep(2.0)
            broker.start()
            restarted.set()

        def on_frame(_lane: int, result: FrameResult) -> None:
            if result.frame.index == 60:
                broker.stop()
                threading.Thread(target=outage, daemon=True).start()

        try:
            request = request_from_options([str(clip)], {
                "min_hits": 1, "line": lines, "events": tmp_path / "e.jsonl",
                "mqtt": f"mqtt://127.0.0.1:{broker.port}/vidtrack/run",
            })
            outcome = execute(request, on_frame=on_frame, detector=SquareDetector())
            assert restarted.wait(10)
            stats = outcome.summaries[0]["notifications"]["mqtt"]
            written = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
            got = subscriber.wait_for(len(written) - stats["dropped"])
        finally:
            subscriber.close()
    key = lambda e: (e["type"], e["frame"], e["track_id"], e["line"])  # noqa: E731
    assert len(written) >= 20 and any(e["frame"] > 60 for e in written)
    dropped = {name for name in stats["dropped_events"]}
    assert stats["dropped"] == len(dropped)
    named = {f"{e['type']}#{e['track_id']}@frame {e['frame']}" for e in written}
    assert dropped <= named
    arrived = {key(m) for m in got}
    assert all(key(e) in arrived or f"{e['type']}#{e['track_id']}@frame {e['frame']}" in dropped for e in written)
    # (retries may be 0: paho can reconnect by itself and resend what the broker had not acknowledged)
    assert stats["sent"] + stats["dropped"] >= len(written)


def test_webhook_posts_each_event_and_retries_through_503s() -> None:
    with Receiver() as receiver:
        sink = WebhookSink(receiver.url)
        for i in range(40):
            if i == 10:
                receiver.down = True
            if i == 30:
                receiver.down = False
            sink.write(_frame(i))
            time.sleep(0.01)
        sink.close()
    assert sorted(b["frame"] for b in receiver.bodies) == list(range(40))
    assert sink.summary()["webhook"]["dropped"] == 0 and sink.summary()["webhook"]["retries"] > 0


def test_undeliverable_events_are_counted_and_named_not_waited_for() -> None:
    sink = WebhookSink("http://127.0.0.1:9/none", flush_s=0.5)  # port 9: nobody listens
    for i in range(5):
        sink.write(_frame(i))
    started = time.monotonic()
    sink.close()
    assert time.monotonic() - started < 5
    stats = sink.summary()["webhook"]
    assert stats["dropped"] == 5 and stats["sent"] == 0
    assert "5 notification(s) not delivered: cross#0@frame 0" in sink.warnings[0]


def test_a_run_notifies_its_events(tmp_path: Path) -> None:
    from conftest import SquareDetector, make_clip
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    clip = make_clip(tmp_path / "c.avi", frames=40, fps=10.0)
    with Receiver() as receiver:
        request = request_from_options(
            [str(clip)], {"min_hits": 1, "line": ["0.5,0,0.5,1:gate"], "webhook": receiver.url, "events": tmp_path / "e.jsonl"}
        )
        outcome = execute(request, detector=SquareDetector())
    written = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert written and [{k: v for k, v in b.items() if k != "source"} for b in receiver.bodies] == written
    assert outcome.summaries[0]["notifications"]["webhook"]["sent"] == len(written)
    with pytest.raises(OptionError, match="not an mqtt"):
        execute(request_from_options([str(clip)], {"mqtt": "tcp://x/y"}), detector=SquareDetector())


def test_a_job_client_cannot_point_the_server_at_an_address() -> None:
    from vidtrack.web.jobs import client_options

    for options in ({"webhook": "http://169.254.169.254/latest"}, {"mqtt": "mqtt://10.0.0.1:1883/x"}):
        with pytest.raises(OptionError, match="set by the server"):
            client_options(options)
