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


def test_labels_show_the_measured_speed_when_a_speed_zone_gave_one() -> None:
    tracked = _tracked()
    tracked.data["speed_kmh"] = np.array([5.4, np.nan, 48.49])  # NaN: not measured this frame
    assert track_labels(tracked) == ["#12 person 0.87 5 km/h", "#3 person 0.50", "#7 car 0.66 48 km/h"]


def test_class_counts_most_frequent_first() -> None:
    assert class_counts(_tracked()) == {"person": 2, "car": 1}
    assert class_counts(_tracked()[np.zeros(3, bool)]) == {}


def test_class_counts_agree_with_a_numpy_count_ties_by_name() -> None:
    import supervision as sv

    rng = np.random.default_rng(3)
    for n in (1, 5, 40):
        names = rng.choice(["person", "car", "Bus", "bicycle", "zebra"], n)
        detections = sv.Detections(xyxy=np.zeros((n, 4)), class_id=np.zeros(n, int), data={"class_name": names})
        values, counts = np.unique(names.astype(str), return_counts=True)
        order = np.argsort(-counts, kind="stable")
        expected = [(str(values[i]), int(counts[i])) for i in order]
        assert list(class_counts(detections).items()) == expected


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
    hud_only = Overlay(OverlayConfig(boxes=False, labels=False, trails=False)).draw(
        image, _tracked(), HudInfo(fps=1.0, counts={"person": 2})
    )
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
    debug = Overlay(OverlayConfig(hud_mode="debug"))
    out = debug.draw(image, make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), {0: "person"}), hud)
    assert out[100:, :100].max() > 200  # the HUD text is there
    assert out[:, -4:].max() < 100  # and none of it reaches the right edge


def test_exported_video_hud_is_clean_and_live_views_get_timings() -> None:
    """Exported videos show time and counts; FPS and stage ms only in live views or --hud debug."""
    hud = HudInfo(fps=12.0, stage_ms={"detect": 9.5}, counts={"person": 2, "car": 1}, clock="2026-12-06 14:03:22")
    clean = hud.lines(debug=False)
    assert clean == ["2026-12-06 14:03:22", "person: 2  car: 1"]
    assert any("FPS" in line for line in hud.lines(debug=True))
    assert not Overlay().debug_hud and Overlay(live=True).debug_hud
    assert Overlay(OverlayConfig(hud_mode="debug")).debug_hud
    assert not Overlay(OverlayConfig(hud_mode="clean"), live=True).debug_hud


def test_hud_mode_is_validated() -> None:
    import pytest

    from vidtrack.errors import OptionError

    with pytest.raises(OptionError, match="--hud"):
        OverlayConfig(hud_mode="verbose")


def test_labels_stay_inside_the_frame_and_clear_of_each_other() -> None:
    from vidtrack.overlay import place_labels

    frame = (200, 100)
    boxes = np.array([[10, 0, 60, 50], [150, 30, 200, 90], [12, 2, 62, 52]], float)  # top edge, right edge, a twin
    rects = place_labels(boxes, [(60, 12)] * 3, frame)
    for x1, y1, x2, y2 in rects:
        assert 0 <= x1 < x2 <= 200 and 0 <= y1 < y2 <= 100
    assert rects[0][1] == 0  # a box at the top edge: its label inside the box, not above the frame
    assert rects[1][2] == 200  # at the right edge: ends at the edge, not cut
    assert rects[0] != rects[2] and not (rects[0][1] < rects[2][3] and rects[2][1] < rects[0][3]
                                          and rects[0][0] < rects[2][2] and rects[2][0] < rects[0][2])
    taken = [(0, 0, 200, 12)]  # e.g. a line's label along the top
    (rect,) = place_labels(boxes[:1], [(60, 12)], frame, taken)
    assert rect[1] >= 12


def test_label_text_has_a_readable_floor() -> None:
    from vidtrack.overlay import MIN_TEXT_SCALE, label_scale

    assert label_scale(176, 144) == MIN_TEXT_SCALE >= 0.35
    assert label_scale(3840, 2160) > label_scale(1920, 1080) > MIN_TEXT_SCALE


def test_a_box_at_the_top_edge_gets_its_label_drawn() -> None:
    """The demo's bus touched the top edge and had no label: now the label is inside the box."""
    det = make_detections(np.array([[20, 0, 160, 80]]), np.array([0.9]), np.array([5]), {5: "bus"})
    det.tracker_id = np.array([1])
    image = np.zeros((144, 176, 3), np.uint8)
    out = Overlay(OverlayConfig(trails=False, boxes=False, hud=False)).draw(image, det)
    assert out[0:12, 20:120].any()  # the label's background sits at the top of the box
