"""``--heatmap``: presence where feet were, over a median background without the moving objects."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidtrack.detection.base import make_detections
from vidtrack.frames import Frame, FrameResult
from vidtrack.sinks.heatmap import HeatmapSink


def test_heat_follows_the_feet_over_a_clean_background(tmp_path: Path) -> None:
    import cv2

    sink = HeatmapSink(tmp_path / "heat.png", per_class=True)
    background = np.zeros((120, 200, 3), np.uint8)
    background[:, :, 1] = np.linspace(30, 120, 200, dtype=np.uint8)[None, :]
    for i in range(60):
        image = background.copy()
        x = 20 + 2 * i
        image[40:80, x : x + 20] = (250, 250, 250)  # a walker; its feet at y = 80
        det = make_detections(np.array([[x, 40, x + 20, 80], [150, 10, 170, 30]], float), np.array([0.9, 0.8]),
                              np.array([0, 1]), {0: "person", 1: "car"})
        det.tracker_id = np.array([1, 2])
        sink.write(FrameResult(frame=Frame(image, i, i / 10, 0.0), detections=det))
    sink.close()
    picture = cv2.imread(str(tmp_path / "heat.png"))
    assert picture.shape == (120, 200, 3)
    assert {p.name for p in tmp_path.iterdir()} == {"heat.png", "heat-person.png", "heat-car.png"}
    person = cv2.imread(str(tmp_path / "heat-person.png"))
    diff = np.abs(person.astype(int) - background.astype(int)).sum(axis=2)
    assert diff[78:84, 40:140].mean() > 60  # the walked path is coloured
    assert diff[112:, :].mean() < 5 and diff[:20, :100].mean() < 5  # nowhere else
    assert diff[42:60, 40:140].mean() < 20  # the walker's body is not in the median background
    car = cv2.imread(str(tmp_path / "heat-car.png"))
    assert np.abs(car.astype(int) - background.astype(int)).sum(axis=2)[28:33, 155:165].mean() > 60
    assert sink.summary()["points"] == 120
