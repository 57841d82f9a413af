"""The motion gate's small picture and its still rule, against a second computation of the same thing."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("factor,height", [(3, 120), (5, 90), (9, 90), (15, 90), (3, 121)])
def test_gate_block_mean_is_opencv_area_shrink_on_padded_luma_planes(factor: int, height: int) -> None:
    import cv2

    from vidtrack.detection.motion import WIDTH, MotionGate, block_mean

    rng = np.random.default_rng(factor)
    rows, cols = height * factor, WIDTH * factor
    padded = rng.integers(0, 256, (rows, cols + 32), dtype=np.uint8)  # a decoder's plane: rows padded
    luma = padded[:, :cols]
    area = cv2.resize(luma, (WIDTH, height), interpolation=cv2.INTER_AREA)
    assert np.array_equal(block_mean(luma, height), area)
    # The gate's own small picture is the same through either path.
    expected = cv2.GaussianBlur(area, (5, 5), 0)
    assert np.array_equal(MotionGate().small_gray(luma), expected)


@pytest.mark.parametrize("shape", [(360, 481), (359, 480), (120, 160), (720, 1280), (1080, 1920), (2720, 2720)])
def test_gate_block_mean_leaves_other_shrinks_to_opencv(shape: tuple[int, int]) -> None:
    from vidtrack.detection.motion import WIDTH, block_mean

    height = max(1, round(shape[0] * WIDTH / shape[1]))
    assert block_mean(np.zeros(shape, np.uint8), height) is None  # not a whole odd factor, 1x, or over 15x


def test_gate_calls_a_picture_unchanged_since_the_last_detection_still() -> None:
    from vidtrack.detection.motion import MotionGate

    rng = np.random.default_rng(5)
    empty = np.zeros((120, 160, 3), np.float64)
    empty[:] = np.linspace(30, 120, 160)[None, :, None]
    person = empty.copy()
    person[40:80, 60:75] = 220

    def noisy(image: np.ndarray) -> np.ndarray:
        return np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8)

    # A person stands 6 s (the background absorbs them), then is gone: the background shows
    # them for a while. Told of its detections, the gate is still once the empty picture
    # has been detected; a gate never told keeps calling it motion until the background settles.
    scene = [empty] * 5 + [person] * 60 + [empty] * 30
    told, untold = MotionGate(), MotionGate()
    told_moving, untold_moving = [], []
    for i, image in enumerate(scene):
        frame = noisy(image)
        moving = told.moving(frame, t=i / 10)
        if moving:
            told.detected()  # the schedule detects every moving frame here
        told_moving.append(moving)
        untold_moving.append(untold.moving(frame, t=i / 10))
    gone = 65
    assert told_moving[gone] and untold_moving[gone]  # the person vanished: one detection sees it
    assert not any(told_moving[gone + 1 :])
    assert sum(untold_moving[gone + 1 :]) >= 3  # the background alone kept calling it motion
    # Motion after that detection is motion again.
    assert told.moving(noisy(person), t=10.0)
