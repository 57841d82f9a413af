"""``--speed-zone``: homography to metres and km/h on synthetic motion of known speed."""

from __future__ import annotations

import numpy as np
import pytest

from vidtrack.analytics.config import AnalyticsConfig
from vidtrack.analytics.speed import apply_homography, homography, parse_speed_zone
from vidtrack.analytics.stage import AnalyticsStage
from vidtrack.detection.base import make_detections
from vidtrack.errors import OptionError
from vidtrack.frames import Frame, SourceInfo

W, H = 1280, 720
LANE_W, LANE_L = 7.0, 40.0  # metres of the ground rectangle
# A camera looking down a road: the far edge of the rectangle is short (perspective).
CORNERS = np.array([[560, 250], [720, 250], [1100, 700], [180, 700]], float)


def test_homography_maps_the_corners_and_keeps_straight_lines() -> None:
    ground = np.array([[0, 0], [LANE_W, 0], [LANE_W, LANE_L], [0, LANE_L]], float)
    h = homography(CORNERS, ground)
    assert np.allclose(apply_homography(h, CORNERS), ground, atol=1e-6)
    back = np.linalg.inv(h)
    mid = apply_homography(back, np.array([[LANE_W / 2, 10.0], [LANE_W / 2, 20.0], [LANE_W / 2, 30.0]]))
    cross = (mid[1, 0] - mid[0, 0]) * (mid[2, 1] - mid[0, 1]) - (mid[1, 1] - mid[0, 1]) * (mid[2, 0] - mid[0, 0])
    assert abs(cross) < 1e-6  # a straight ground line stays straight in the picture
    with pytest.raises(OptionError, match="one line"):
        homography(np.array([[0, 0], [1, 1], [2, 2], [0, 5]], float), ground)


def test_parse_speed_zone() -> None:
    spec = parse_speed_zone("560,250,720,250,1100,700,180,700:7,40:road")
    assert (spec.width_m, spec.length_m, spec.name) == (7.0, 40.0, "road")
    for bad in ("1,2,3,4,5,6,7,8", "1,2,3,4,5,6:7,40", "1,2,3,4,5,6,7,8:7", "1,2,3,4,5,6,7,8:0,40"):
        with pytest.raises(OptionError):
            parse_speed_zone(bad)
    with pytest.raises(OptionError, match="needs a --speed-zone"):
        AnalyticsConfig.from_options(speed_limit=50)


@pytest.mark.parametrize("kmh", [10.0, 30.0, 60.0])
def test_speed_of_synthetic_motion_within_5_percent(kmh: float, rng: np.random.Generator) -> None:
    """A car drives down the road at ``kmh``; its box's bottom-center is projected into the picture."""
    text = ",".join(f"{v:g}" for v in CORNERS.ravel()) + f":{LANE_W:g},{LANE_L:g}:road"
    config = AnalyticsConfig.from_options(speed_zone=[text], speed_limit=kmh * 0.9)
    stage = AnalyticsStage.build(config, SourceInfo("synthetic", W, H, None, None), {0: "car"}, pictures=False)
    to_image = np.linalg.inv(homography(CORNERS, np.array([[0, 0], [LANE_W, 0], [LANE_W, LANE_L], [0, LANE_L]], float)))
    fps = 25.0
    v = kmh / 3.6
    measured, events = [], []
    y = 1.0
    i = 0
    while y < LANE_L - 1:
        foot = apply_homography(to_image, np.array([[LANE_W * 0.4, y]]))[0] + rng.normal(0, 0.5, 2)  # half-pixel noise
        size = 40 + 120 * y / LANE_L  # nearer is bigger; only the bottom-center matters
        box = np.array([[foot[0] - size / 2, foot[1] - size, foot[0] + size / 2, foot[1]]])
        det = make_detections(box, np.array([0.9]), np.array([0]), {0: "car"})
        det.tracker_id = np.array([7])
        frame = Frame(np.zeros((1, 1, 3), np.uint8), i, i / fps, 0.0)
        result = stage.process(frame, det, det)
        events += [e for e in result.events if e.type == "speeding"]
        if not np.isnan(det.data["speed_kmh"][0]):
            measured.append(det.data["speed_kmh"][0])
        y += v / fps
        i += 1
    assert len(measured) > 10
    assert abs(np.median(measured) - kmh) <= 0.05 * kmh
    low, high = np.percentile(measured, [5, 95])  # the smoothed readings themselves, not just their median
    assert kmh * 0.9 <= low and high <= kmh * 1.1
    assert len(events) == 1 and events[0].speed_kmh > kmh * 0.9 and events[0].zone == "road"
    stats = stage.summary()["speed"]["road"]["car"]
    assert stats["tracks"] == 1 and abs(stats["mean_kmh"] - kmh) <= 0.05 * kmh


def test_jsonl_rows_carry_known_speeds_only() -> None:
    from vidtrack.sinks.data import detection_rows

    det = make_detections(np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float), np.array([0.9, 0.8]), np.array([0, 0]), {0: "car"})
    det.tracker_id = np.array([1, 2])
    assert all("speed_kmh" not in row for row in detection_rows(det))
    det.data["speed_kmh"] = np.array([42.04, np.nan])
    rows = list(detection_rows(det))
    assert rows[0]["speed_kmh"] == 42.0 and "speed_kmh" not in rows[1]


def test_a_track_missed_for_a_frame_keeps_its_speed_history() -> None:
    """A detection missing for one frame (flickering boxes of a far car) must not restart the window."""
    from vidtrack.analytics.speed import SpeedZone

    zone = SpeedZone("road", [tuple(p) for p in CORNERS], LANE_W, LANE_L, window_s=1.0)
    to_image = np.linalg.inv(zone.h)
    fps, speeds = 25.0, []
    for i in range(25):
        if i == 15:  # the car is not detected in this frame (its window already spans 0.56 s)
            zone.update(np.zeros(0, int), np.zeros((0, 2)), [], i / fps)
            zone.forget(set())
            continue
        foot = apply_homography(to_image, np.array([[LANE_W * 0.4, 1.0 + 20 / 3.6 * i / fps]]))
        speeds.append(zone.update(np.array([7]), foot, ["car"], i / fps)[0])
        zone.forget({7})
    assert not np.isnan(speeds[15]) and abs(speeds[15] - 20) < 1  # the frame after the miss: still measured
    zone.update(np.zeros(0, int), np.zeros((0, 2)), [], 3.0)
    zone.forget(set())
    assert zone._history == {}  # gone for longer than the window: forgotten


def test_the_speed_zone_is_outlined_with_its_limit_and_flashes_on_speeding() -> None:
    """The overlay draws the speed zone (green outline, white on a 'speeding' event) and names its limit."""
    from vidtrack.analytics.draw import FLASH_COLOUR, SPEED_COLOUR, draw_analytics

    text = ",".join(f"{v:g}" for v in CORNERS.ravel()) + f":{LANE_W:g},{LANE_L:g}:road"
    config = AnalyticsConfig.from_options(speed_zone=[text], speed_limit=50)
    stage = AnalyticsStage.build(config, SourceInfo("synthetic", W, H, None, None), {0: "car"}, pictures=True)
    image = np.zeros((H, W, 3), np.uint8)
    scene = stage.process(Frame(image, 0, 0.0, 0.0), make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), {}),
                          make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), {}))
    assert [(z.name, z.limit_kmh, z.flash) for z in scene.speed_zones] == [("road", 50, False)]
    labels = draw_analytics(image, scene, 1.0, 3, defer_labels=True)
    a, b = CORNERS[0], CORNERS[1]
    mid = np.round((a + b) / 2).astype(int)
    assert tuple(int(c) for c in image[mid[1], mid[0]]) == SPEED_COLOUR
    assert [text for text, _ in labels] == ["road max 50 km/h"]
    stage._flash["road"] = 0.0  # a 'speeding' event in this frame
    flashed = stage.process(Frame(np.zeros((H, W, 3), np.uint8), 1, 0.04, 0.0), make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), {}),
                            make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), {}))
    assert flashed.speed_zones[0].flash
    image[:] = 0
    draw_analytics(image, flashed, 1.0, 3)
    assert tuple(int(c) for c in image[mid[1], mid[0]]) == FLASH_COLOUR
