"""Wall-clock time (``--start-time``): parsing, ``auto``'s sources, and what outputs carry."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import SquareDetector, make_clip
from vidtrack.errors import OptionError
from vidtrack.options import request_from_options
from vidtrack.runner import execute
from vidtrack.wallclock import AUTO, capture_clock, iso, parse_start_time, start_from_creation_time, start_from_name


def test_parse_start_time() -> None:
    when = parse_start_time("2026-12-06T14:30:00+01:00")
    assert when == datetime(2026, 12, 6, 13, 30, tzinfo=timezone.utc)
    assert parse_start_time("2026-12-06 13:30:00Z") == when
    assert parse_start_time("AUTO") == AUTO
    assert parse_start_time(None) is None
    assert parse_start_time("2026-12-06T14:30:00").tzinfo is not None  # local time zone
    with pytest.raises(OptionError, match="ISO 8601"):
        parse_start_time("yesterday")


@pytest.mark.parametrize(
    ("name", "expected", "pattern"),
    [
        ("VID_20261206_143005.mp4", (2026, 12, 6, 14, 30, 5), "YYYYMMDD_HHMMSS"),
        ("cam 2026-12-06_14-30-05.mkv", (2026, 12, 6, 14, 30, 5), "YYYY-MM-DD_HH-MM-SS"),
        ("2026-12-06 14.30.05.mp4", (2026, 12, 6, 14, 30, 5), "YYYY-MM-DD_HH-MM-SS"),
        ("ch01_20261206143005.mp4", (2026, 12, 6, 14, 30, 5), "chNN_YYYYMMDDHHMMSS"),
    ],
)
def test_file_name_patterns(name: str, expected: tuple[int, ...], pattern: str) -> None:
    found = start_from_name(name)
    assert found is not None
    assert found[0].replace(tzinfo=None) == datetime(*expected)
    assert found[0].tzinfo is not None and found[1] == pattern


@pytest.mark.parametrize("name", ["clip.mp4", "frame_000123456789012345.png", "20261399_250000.mp4", "19700101_000000.mp4"])
def test_file_names_without_a_date(name: str) -> None:
    assert start_from_name(name) is None


def test_creation_time_tag() -> None:
    assert start_from_creation_time("2026-12-06T13:30:00.000000Z") == datetime(2026, 12, 6, 13, 30, tzinfo=timezone.utc)
    assert start_from_creation_time("1970-01-01T00:00:00.000000Z") is None  # unset camera clock
    assert start_from_creation_time("garbage") is None


def test_capture_clock_maps_capture_time_to_wall_time() -> None:
    clock = capture_clock(pts=2.0, captured=100.0, now_wall=1_800_000_000.0, now_monotonic=100.5)
    assert abs(clock.at(2.0).timestamp() - (1_800_000_000.0 - 0.5)) < 1e-6
    assert iso(datetime(2026, 12, 6, 14, 30, 0, 400000, tzinfo=timezone(timedelta(hours=1)))) == "2026-12-06T14:30:00.400+01:00"


def _run(tmp_path: Path, clip: Path, name: str, **options: object) -> tuple[bytes, bytes, dict]:
    out = {"jsonl": tmp_path / f"{name}.jsonl", "events": tmp_path / f"{name}.ev", "summary": tmp_path / f"{name}.json"}
    request = request_from_options([str(clip)], {"min_hits": 1, "line": ["0.5,0,0.5,1:gate"], **out, **options})
    outcome = execute(request, detector=SquareDetector())
    assert outcome.error is None
    return out["jsonl"].read_bytes(), out["events"].read_bytes(), json.loads(out["summary"].read_text())


def test_start_time_reaches_jsonl_events_summary_and_nothing_changes_without_it(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "ch03_20261206143000.avi", frames=40, fps=10.0)
    plain = _run(tmp_path, clip, "plain")
    again = _run(tmp_path, clip, "again")
    assert plain[:2] == again[:2]  # the baseline is deterministic: comparing with it means something
    assert b'"time"' not in plain[0] + plain[1] and "start_time" not in plain[2]

    jsonl, events, summary = _run(tmp_path, clip, "timed", start_time="2026-12-06T14:30:00+01:00")
    rows = [json.loads(line) for line in jsonl.splitlines()]
    assert rows[0]["time"] == "2026-12-06T14:30:00.000+01:00"
    assert rows[15]["time"] == "2026-12-06T14:30:01.500+01:00"  # 10 fps
    stripped = [{k: v for k, v in r.items() if k != "time"} for r in rows]
    assert stripped == [json.loads(line) for line in plain[0].splitlines()]
    crossings = [json.loads(line) for line in events.splitlines()]
    assert crossings and all(e["time"] == iso(datetime(2026, 12, 6, 14, 30, tzinfo=timezone(timedelta(hours=1))) + timedelta(seconds=e["t"])) for e in crossings)
    assert summary["start_time"] == "2026-12-06T14:30:00.000+01:00"
    assert summary["end_time"] == "2026-12-06T14:30:04.000+01:00"  # 40 frames at 10 fps
    assert summary["start_time_source"] == "option"

    _, _, auto = _run(tmp_path, clip, "auto", start_time="auto")  # MJPEG AVI: no creation_time tag
    assert auto["start_time_source"] == "file name chNN_YYYYMMDDHHMMSS"
    assert datetime.fromisoformat(auto["start_time"]).replace(tzinfo=None) == datetime(2026, 12, 6, 14, 30)


def test_auto_without_any_clue_warns_and_changes_nothing(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.avi", frames=5)
    request = request_from_options([str(clip)], {"start_time": "auto", "jsonl": tmp_path / "a.jsonl"})
    outcome = execute(request, detector=SquareDetector())
    assert any("--start-time auto found no" in w for w in outcome.warnings)
    assert b'"time"' not in (tmp_path / "a.jsonl").read_bytes()


def test_timestamp_is_burnt_in_only_when_the_time_is_known() -> None:
    import numpy as np

    from vidtrack.config import OverlayConfig
    from vidtrack.overlay import Overlay
    from vidtrack.detection.base import make_detections

    empty = make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), {0: "person"})
    empty.tracker_id = np.zeros(0, int)
    image = np.full((120, 160, 3), 128, np.uint8)
    when = datetime(2026, 12, 6, 14, 30, tzinfo=timezone.utc)
    cfg = OverlayConfig(hud=False, trails=False)
    assert (Overlay(cfg).draw(image, empty) == image).all()
    stamped = Overlay(cfg).draw(image, empty, when=when)
    assert (stamped[:10] != image[:10]).any() and (stamped[-40:] == image[-40:]).all()  # top band only
    assert (Overlay(OverlayConfig(hud=False, trails=False, timestamp=False)).draw(image, empty, when=when) == image).all()
