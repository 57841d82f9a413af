"""Motion gating on real footage: the same counts and events as the full-rate run."""

from __future__ import annotations

from pathlib import Path

from conftest import model_path, video_path
from vidtrack.config import DetectorConfig
from vidtrack.options import request_from_options
from vidtrack.runner import execute


def test_gated_run_counts_and_events_equal_the_full_rate_run(tmp_path: Path) -> None:
    from vidtrack.detection import load_detector

    clip = video_path("crosswalk_3fps_320x240.mp4")
    detector = load_detector(DetectorConfig(model=model_path()))
    options = {"line": ["0,0.6,1,0.6:road", "0.5,0,0.5,1:middle"], "zone": ["0,0,0.5,0,0.5,1,0,1:left"]}

    def run(**schedule: str) -> tuple[dict, list]:
        events: list = []
        request = request_from_options([str(clip)], {**options, **schedule})
        outcome = execute(request, detector=detector, on_frame=lambda _lane, result: events.extend(result.events))
        assert outcome.error is None
        return outcome.summaries[0], events

    full, full_events = run()
    gated, gated_events = run(motion_gate="on")
    assert gated["detector"]["frames_gated"] > 0  # the still stretches were skipped
    assert gated["lines"] == full["lines"] and gated["zones"]["left"]["entries"] == full["zones"]["left"]["entries"]
    kinds = lambda events: sorted((e.type, e.line, e.zone, e.direction, e.cls) for e in events)  # noqa: E731
    assert kinds(gated_events) == kinds(full_events)
    interval = 1 / 3  # one frame: with --detect-every 1 the detector runs on every moving frame
    for a, b in zip(sorted(full_events, key=lambda e: (e.type, e.t)), sorted(gated_events, key=lambda e: (e.type, e.t))):
        assert abs(a.t - b.t) <= interval + 1e-6
