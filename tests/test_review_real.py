"""Issue 22's targets on the real PETS clip: wall-clock time, snapshot quality, clips (one run, shared)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, video_path

EDGE_PX = 1.0  # as vidtrack.sinks.snapshots.EDGE_PX


@pytest.fixture(scope="module")
def pets_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import model_path

    out = tmp_path_factory.mktemp("pets")
    cmd = [
        sys.executable, "-m", "vidtrack", "run", str(video_path("pedestrians_pets_h264.avi")), "--model", model_path(),
        "--snapshots", str(out / "snaps"), "--jsonl", str(out / "run.jsonl"), "--summary", str(out / "run.json"),
        "--events", str(out / "events.jsonl"), "--line", "0,0.5,1,0.5:mid", "--start-time", "2026-12-06T14:30:00+01:00",
        "--clips", str(out / "clips"), "--heatmap", str(out / "heat.png"), "-q",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    return out


def test_each_person_snapshot_is_the_tracks_large_uncut_view(pets_run: Path) -> None:
    """Target: >= 90 % of the track's largest unclipped box, never edge-cut when an uncut box exists."""
    summary = json.loads((pets_run / "run.json").read_text())
    snaps = summary["snapshots"]["tracks"]
    width, height = 480, 360
    largest: dict[str, float] = {}
    for line in (pets_run / "run.jsonl").read_text().splitlines():
        for d in json.loads(line)["detections"]:
            if d["track_id"] is None:
                continue
            cut = d["x"] <= EDGE_PX or d["y"] <= EDGE_PX or d["x"] + d["w"] >= width - EDGE_PX or d["y"] + d["h"] >= height - EDGE_PX
            if not cut:
                key = str(d["track_id"])
                largest[key] = max(largest.get(key, 0.0), d["w"] * d["h"])
    people = {k: v for k, v in snaps.items() if v["class"] == "person"}
    assert len(people) >= 10
    for key, snap in people.items():
        assert (pets_run / "snaps" / snap["crop"]).stat().st_size > 0
        assert (pets_run / "snaps" / snap["frame_file"]).stat().st_size > 0
        if key in largest:
            assert not snap["edge_cut"], key
            x1, y1, x2, y2 = snap["box"]
            assert (x2 - x1) * (y2 - y1) >= 0.9 * largest[key] - 1.0, key  # boxes are rounded to 0.1 px


def test_events_and_rows_carry_wall_clock_time_and_pictures(pets_run: Path) -> None:
    events = [json.loads(line) for line in (pets_run / "events.jsonl").read_text().splitlines()]
    assert events
    for event in events:
        assert event["time"].startswith("2026-12-06T14:") and event["time"].endswith("+01:00")
        assert event.get("snapshot") and (pets_run / "snaps" / event["snapshot"]).exists()
    summary = json.loads((pets_run / "run.json").read_text())
    assert summary["start_time"] == "2026-12-06T14:30:00.000+01:00"
    assert summary["end_time"] == "2026-12-06T14:31:19.500+01:00"  # 795 frames at 10 fps
    first = json.loads((pets_run / "run.jsonl").read_text().splitlines()[0])
    assert first["time"] == "2026-12-06T14:30:00.000+01:00"


def test_every_crossing_is_in_exactly_one_clip(pets_run: Path) -> None:
    import av

    items = json.loads((pets_run / "run.json").read_text())["clips"]["items"]
    crossings = [e for e in map(json.loads, (pets_run / "events.jsonl").read_text().splitlines()) if e["type"] == "cross"]
    assert crossings and items
    for event in crossings:
        holding = [i["file"] for i in items if i["start_t"] <= event["t"] < i["end_t"]]
        assert holding == [event["clip"]], event
    for item in items:
        with av.open(str(pets_run / "clips" / item["file"])) as container:
            assert container.streams.video[0].codec_context.name == "h264"
            assert container.streams.audio and container.streams.audio[0].codec_context.name == "aac"  # source audio kept
