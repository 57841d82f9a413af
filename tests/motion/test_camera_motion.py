"""Camera motion estimation on synthetic textured pictures (seeded)."""

from __future__ import annotations

import numpy as np
import pytest

from vidtrack.motion import CameraMotion, scale_affine


def texture(seed: int, height: int = 360, width: int = 640) -> np.ndarray:
    """A BGR picture of random blurred blobs: plenty of corners to follow."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (height // 8, width // 8), dtype=np.uint8)
    gray = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return cv2.cvtColor(cv2.GaussianBlur(gray, (5, 5), 0), cv2.COLOR_GRAY2BGR)


def shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    import cv2

    return cv2.warpAffine(image, np.float32([[1, 0, dx], [0, 1, dy]]), (image.shape[1], image.shape[0]),
                          borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("seed,dx,dy", [(0, 12.0, -5.0), (1, -20.0, 8.0)])
def test_a_pan_is_measured_in_full_frame_pixels(seed: int, dx: float, dy: float) -> None:
    base = texture(seed)
    motion = CameraMotion("on")
    assert motion.estimate(base) is None  # no previous frame
    affine = motion.estimate(shifted(base, dx, dy))
    assert affine is not None and affine.shape == (2, 3)
    np.testing.assert_allclose(affine[:, 2], [dx, dy], atol=1.0)
    np.testing.assert_allclose(affine[:, :2], np.eye(2), atol=0.01)


def test_auto_stays_dormant_on_a_fixed_camera_and_wakes_on_motion() -> None:
    base = texture(2)
    motion = CameraMotion("auto", probe_every=10)
    for _ in range(40):
        assert motion.estimate(base) is None
    assert not motion.active
    assert motion.estimated <= 6  # only probe pairs were looked at, not 40 frames
    x = 0.0
    woke = False
    for _ in range(12):  # a pan starts: the next probe finds it
        x += 15.0
        woke = motion.estimate(shifted(base, x, 0.0)) is not None or woke
    assert woke and motion.active
    report = motion.report()
    assert report["mode"] == "auto" and report["moving_frames"] >= 1


def test_scale_affine_keeps_the_linear_part() -> None:
    small = np.array([[1.1, 0.0, 2.0], [0.0, 1.1, -1.0]])
    full = scale_affine(small, 4.0)
    np.testing.assert_allclose(full, [[1.1, 0.0, 8.0], [0.0, 1.1, -4.0]])


def test_bad_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="auto or on"):
        CameraMotion("sometimes")


def test_corners_inside_detections_are_not_followed() -> None:
    # A fixed camera; a large textured object (half the picture) moves 20 px a frame. With
    # its box given, its corners are left out and no camera motion is reported.
    import cv2

    background = cv2.GaussianBlur(texture(5), (9, 9), 0) // 4  # faint, few corners
    patch = texture(6, 240, 320)
    frames, boxes = [], []
    for i in range(2):
        image = background.copy()
        x = 100 + 20 * i
        image[60:300, x : x + 320] = patch
        frames.append(image)
        boxes.append(np.array([[x, 60, x + 320, 300]], float))
    motion = CameraMotion("on")
    motion.estimate(frames[0], boxes[0])
    assert motion.estimate(frames[1], boxes[1]) is None
