"""``--clips``: review items merge overlapping events; every event in exactly one clip; playable H.264."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from vidtrack.analytics.events import Event
from vidtrack.config import OutputConfig
from vidtrack.detection.base import make_detections
from vidtrack.frames import Frame, FrameResult, SourceInfo
from vidtrack.sinks.clips import ClipSink

EMPTY = make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), {0: "person"})


def _run(tmp_path: Path, event_frames: list[int], frames: int = 200, fps: int = 10) -> tuple[ClipSink, list[Event]]:
    info = SourceInfo("synthetic", 64, 48, Fraction(fps), frames, time_base=Fraction(1, fps))
    sink = ClipSink(tmp_path, info, OutputConfig(), pre=3, post=5)
    stamped: list[Event] = []
    for i in range(frames):
        image = np.full((48, 64, 3), i % 256, np.uint8)
        events = tuple(Event(t=i / fps, frame=i, type="cross", track_id=i, cls="person", line="gate", direction="in")
                       for _ in range(event_frames.count(i)))
        result = FrameResult(frame=Frame(image, i, i / fps, 0.0, duration=1 / fps), detections=EMPTY, events=events)
        sink.write(result)
        stamped += result.events
    sink.close()
    return sink, stamped


def test_overlapping_events_merge_and_each_event_is_in_exactly_one_clip(tmp_path: Path) -> None:
    # 10 fps; windows [t-3, t+5]: 2.0 alone (pre-roll cut by the start), 12.0 and 14.0 merge,
    # 24.0 and 29.5 merge (post-roll cut by the end at 30 s).
    sink, events = _run(tmp_path, [20, 120, 140, 240, 295], frames=300)
    items = sink.summary()["items"]
    assert [(i["start_t"], i["end_t"]) for i in items] == [(0.0, 7.1), (9.0, 19.1), (21.0, 30.0)]
    for event in events:
        holding = [i for i in items if i["start_t"] <= event.t < i["end_t"]]
        assert len(holding) == 1 and holding[0]["file"] == event.clip
    assert [len(i["events"]) for i in items] == [1, 2, 2]
    import av

    with av.open(str(tmp_path / items[1]["file"])) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        frames = [f.to_ndarray(format="gray")[24, 32] for f in container.decode(stream)]
    assert len(frames) == items[1]["frames"] == 101  # frames 90..190
    assert abs(int(frames[0]) - 90) <= 3 and abs(int(frames[-1]) - 190) <= 3  # the right stretch of the source


def test_no_event_no_clip(tmp_path: Path) -> None:
    sink, _ = _run(tmp_path, [])
    assert sink.summary()["items"] == [] and list(tmp_path.iterdir()) == []


def test_a_busy_scene_is_cut_into_items_of_bounded_length(tmp_path: Path, monkeypatch) -> None:
    import vidtrack.sinks.clips as clips

    monkeypatch.setattr(clips, "MAX_ITEM_S", 10.0)
    sink, events = _run(tmp_path, list(range(20, 300, 20)), frames=300)  # an event every 2 s: every window overlaps
    items = sink.summary()["items"]
    assert len(items) >= 3 and all(i["end_t"] - i["start_t"] <= 10.0 + 0.11 for i in items)
    for a, b in zip(items, items[1:]):
        assert a["end_t"] <= b["start_t"] + 1e-6  # back to back, never overlapping
    for event in events:
        holding = [i for i in items if i["start_t"] <= event.t < i["end_t"]]
        assert len(holding) == 1 and holding[0]["file"] == event.clip


def test_a_pre_roll_over_the_memory_budget_is_held_as_jpeg_and_gives_the_same_clips(tmp_path: Path, monkeypatch) -> None:
    import av

    import vidtrack.sinks.clips as clips

    raw, _ = _run(tmp_path / "raw", [120, 140])
    monkeypatch.setattr(clips, "RAW_BUDGET", 0)  # any frame is over budget: the ring keeps JPEG
    info = SourceInfo("synthetic", 64, 48, Fraction(10), 60, time_base=Fraction(1, 10))
    held = ClipSink(tmp_path / "probe", info, OutputConfig(), pre=3, post=5)
    for i in range(40):
        held.write(FrameResult(frame=Frame(np.full((48, 64, 3), i, np.uint8), i, i / 10, 0.0), detections=EMPTY, events=()))
    assert len(held._ring) == 31 and all(isinstance(h.picture, bytes) for h in held._ring)  # 3 s at 10 frames/s, encoded
    held.close()
    encoded, events = _run(tmp_path / "jpeg", [120, 140])
    assert encoded.summary()["items"] == raw.summary()["items"]
    assert all(e.clip == encoded.summary()["items"][0]["file"] for e in events)
    values = {}
    for name, sink in (("raw", raw), ("jpeg", encoded)):
        with av.open(str(sink.folder / sink.summary()["items"][0]["file"])) as container:
            values[name] = [int(f.to_ndarray(format="gray")[24, 32]) for f in container.decode(video=0)]
    assert len(values["raw"]) == len(values["jpeg"]) and max(abs(a - b) for a, b in zip(values["raw"], values["jpeg"])) <= 3
