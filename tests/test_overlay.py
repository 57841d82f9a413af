import numpy as np

from vidtrack.config import OverlayConfig
from vidtrack.detection.base import make_detections
from vidtrack.labels import class_counts
from vidtrack.overlay import HudInfo, Overlay, track_labels
from vidtrack.sources.base import SourceState, SourceStatus


def _tracked():
    det = make_detections(
        np.array([[10, 10, 50, 60], [60, 20, 90, 80], [5, 70, 40, 95]]),
        np.array([0.87, 0.5, 0.66]),
        np.array([0, 0, 2]),
        {0: "person", 2: "car"},
    )
    det.tracker_id = np.array([12, 3, 7])
    return det


def test_labels_have_id_class_confidence() -> None:
    assert track_labels(_tracked()) == ["#12 person 0.87", "#3 person 0.50", "#7 car 0.66"]


def test_class_counts_most_frequent_first() -> None:
    assert class_counts(_tracked()) == {"person": 2, "car": 1}
    assert class_counts(_tracked()[np.zeros(3, bool)]) == {}


def test_draw_does_not_touch_input_and_draws_something() -> None:
    image = np.zeros((100, 120, 3), np.uint8)
    before = image.copy()
    out = Overlay().draw(image, _tracked(), HudInfo(fps=12.5, counts={"person": 2}))
    assert np.array_equal(image, before)
    assert out.shape == image.shape and out.any()


def test_switches_turn_layers_off() -> None:
    image = np.full((100, 120, 3), 128, np.uint8)
    off = OverlayConfig(boxes=False, labels=False, trails=False, hud=False)
    out = Overlay(off).draw(image, _tracked(), HudInfo(fps=1.0))
    assert np.array_equal(out, image)
    hud_only = Overlay(OverlayConfig(boxes=False, labels=False, trails=False)).draw(image, _tracked(), HudInfo(fps=1.0))
    assert not np.array_equal(hud_only[-20:, :40], image[-20:, :40])  # bottom-left panel
    assert np.array_equal(hud_only[:40, 80:], image[:40, 80:])


def test_hud_lines_show_state_and_age_only_when_relevant() -> None:
    lines = HudInfo(fps=30.0, stage_ms={"detect": 9.5}, frame_age_ms=40.0, status=SourceStatus(SourceState.RECONNECTING, 2)).lines()
    assert lines[0].strip() == "30.0 FPS"
    assert "detect 9.5 ms" in lines[1]
    assert "frame age 40 ms" in lines
    assert "source reconnecting 2" in lines
    assert not any("source" in line for line in HudInfo(status=SourceStatus(SourceState.CONNECTED)).lines())


def test_hud_text_fits_a_tiny_frame() -> None:
    """A 176x144 clip: the stage line is shrunk to the frame's width, not cut at its right edge."""
    image = np.zeros((144, 176, 3), np.uint8)
    hud = HudInfo(fps=8.4, stage_ms={"decode": 10.7, "detect": 220.7, "track": 1.5, "draw": 4.5, "encode": 2.8})
    out = Overlay().draw(image, make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), {0: "person"}), hud)
    assert out[100:, :100].max() > 200  # the HUD text is there
    assert out[:, -4:].max() < 100  # and none of it reaches the right edge
