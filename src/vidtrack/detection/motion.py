"""Motion gating: is anything moving in this frame? Decides whether the detector must run.

A cheap test on a small gray copy of the frame (``WIDTH`` pixels wide, about 1 ms at 1080p),
in the spirit of Frigate's motion detector:

1. shrink (area average: sensor noise of a few levels averages out), gray, 5x5 Gaussian blur;
2. compare with a running background (exponential average, ``alpha`` per frame);
3. pixels differing from it by more than ``threshold`` gray levels are changed; pixels under
   ``--motion-mask`` polygons are ignored (trees, clocks, timestamps burned into the picture);
4. motion when at least ``min_area`` of the unmasked pixels changed.

Changes that stay put are absorbed sooner: a changed pixel that has not changed for
``settle_s`` seconds (a car that parked, a person who left and the background showing again;
compared with the frame ``settle_s`` ago, edges widened by 2 pixels so a slow walker's inside
does not count as still) blends into the background at ``settle`` per frame (~14 frames)
instead of ``alpha`` (~70 frames), so a scene is idle again soon after things stop moving. When more than
``lighting`` of the pixels changed at once (lights, auto exposure, a camera bump) the
background is replaced by the frame: that frame counts as motion (one detection re-checks the
scene) and the next frames compare against the new lighting.

Thresholds: 25 gray levels is over 8 sigma of the light sensor noise left after the shrink and
blur (and above JPEG/H.264 flicker at usual qualities); a person 30 pixels tall in a 480x360
frame changes ~0.2 % of the small frame, ten times ``min_area`` (0.02 %, 4 pixels at 160x120).

Unchanged since the last detection: a frame the background calls moving but whose small gray
picture equals the one of the last frame the detector ran on (:meth:`MotionGate.detected`;
fewer than ``min_area`` of the unmasked pixels differ by more than ``threshold`` / 3 gray
levels) is not motion: the detector would see the picture it just saw. This ends the run of
detections after activity stops (the background still shows where people were until it
settles: 13-14 detections after each activity piece of the benchmark's CCTV clip, 1 now). 8
gray levels is 4x the largest difference between consecutive idle frames of that clip (2), and
no pair of consecutive frames of its activity differs by less than 25 (measured, 2026-12-07).
OpenCV is imported when the first gate is built.
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Sequence, Union

import numpy as np

#: Width of the gray frame the test runs on, pixels.
WIDTH = 160


class MotionGate:
    """Tells, frame by frame, whether anything moves (outside the masked polygons).

    ``mask``: polygons in pixels of the full frame (lists of ``(x, y)``), or a function of the
    frame's ``(width, height)`` giving them (``--motion-mask`` in fractions is resolved on the
    first frame). The first frame, and a frame of another size, count as motion.
    """

    def __init__(
        self,
        mask: Union[Sequence[Sequence[tuple[float, float]]], Callable[[int, int], Sequence[Sequence[tuple[float, float]]]]] = (),
        threshold: float = 25.0,
        alpha: float = 0.02,
        min_area: float = 0.0002,
        lighting: float = 0.5,
        settle: float = 0.1,
        settle_s: float = 1.0,
    ) -> None:
        self.mask = mask
        self.polygons: list[list[tuple[float, float]]] = [] if callable(mask) else [list(p) for p in mask]
        self.threshold = threshold
        self.alpha = alpha
        self.min_area = min_area
        self.lighting = lighting
        self.settle = settle
        self.settle_s = settle_s
        self._history: deque[tuple[float, np.ndarray]] = deque(maxlen=256)
        self._background: np.ndarray | None = None
        self._valid: np.ndarray | None = None  # uint8 255 where motion counts
        self._shape: tuple[int, int] | None = None  # (width, height) of the full frame
        self._valid_count = 0
        self._latest: np.ndarray | None = None  # small gray picture of the latest frame
        self._reference: np.ndarray | None = None  # ... of the latest frame the detector ran on
        self.last_changed = 0.0  # share of unmasked pixels changed in the last frame

    def detected(self) -> None:
        """The latest frame given to :meth:`moving` went to the detector: frames with the same
        picture after it are not motion (see the module docstring)."""
        self._reference = self._latest

    def small_gray(self, image: np.ndarray) -> np.ndarray:
        """The frame shrunk to ``WIDTH`` pixels wide, gray, blurred (uint8)."""
        import cv2

        height, width = image.shape[:2]
        size = (WIDTH, max(1, round(height * WIDTH / max(width, 1))))
        small = block_mean(image, size[1]) if image.ndim == 2 else None
        if small is None:
            small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        if small.ndim == 3:
            small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        return cv2.GaussianBlur(small, (5, 5), 0)

    def _setup(self, image: np.ndarray, gray: np.ndarray, size: tuple[int, int] | None) -> None:
        import cv2

        width, height = size or (image.shape[1], image.shape[0])
        self._shape = (width, height)
        if callable(self.mask):
            self.polygons = [list(p) for p in self.mask(width, height)]
        valid = np.full(gray.shape, 255, np.uint8)
        if self.polygons:
            scale = gray.shape[1] / width
            for polygon in self.polygons:
                points = np.round(np.asarray(polygon, dtype=np.float64) * scale).astype(np.int32)
                cv2.fillPoly(valid, [points], 0)
        self._valid = valid
        self._valid_count = max(1, int(np.count_nonzero(valid)))
        self._background = gray.astype(np.float32)
        self._history.clear()
        self._reference = None

    def moving(self, image: np.ndarray, t: float | None = None, size: tuple[int, int] | None = None) -> bool:
        """True when something moves in ``image`` (BGR or gray, any size) at ``t`` seconds; updates the background.

        Without ``t`` frames count as 1/10 s apart. ``size``: ``(width, height)`` of the full
        frame when ``image`` is a scaled copy of it (a JPEG's gray picture decoded at 1/4 size):
        the ``--motion-mask`` polygons are in the full frame's pixels.
        """
        import cv2

        gray = self.small_gray(image)
        self._latest = gray
        if t is None:
            t = self._history[-1][0] + 0.1 if self._history else 0.0
        full = size or (image.shape[1], image.shape[0])
        if self._background is None or full != self._shape or gray.shape != self._background.shape:
            self._setup(image, gray, size)
            self._history.append((t, gray))
            self.last_changed = 1.0
            return True
        background = self._background
        diff = cv2.absdiff(gray, cv2.convertScaleAbs(background))
        _, changed = cv2.threshold(diff, self.threshold, 255, cv2.THRESH_BINARY)
        if self.polygons:
            changed = cv2.bitwise_and(changed, self._valid)
        share = cv2.countNonZero(changed) / self._valid_count
        self.last_changed = share
        history = self._history
        while len(history) > 1 and t - history[1][0] >= self.settle_s:
            history.popleft()  # keep the newest frame at least settle_s old first
        earlier = history[0] if history and t - history[0][0] >= self.settle_s else None
        history.append((t, gray))
        if share > self.lighting:
            self._background = gray.astype(np.float32)
            history.clear()
            history.append((t, gray))
            return not self._as_detected(gray)
        cv2.accumulateWeighted(gray, background, self.alpha)
        if share > 0 and earlier is not None:
            # Changed, but the same as settle_s ago (dilated: an edge that moved is not still).
            _, stepped = cv2.threshold(cv2.absdiff(gray, earlier[1]), self.threshold / 2, 255, cv2.THRESH_BINARY)
            still = cv2.bitwise_and(changed, cv2.bitwise_not(cv2.dilate(stepped, np.ones((5, 5), np.uint8))))
            cv2.accumulateWeighted(gray, background, self.settle, mask=still)
        return share >= self.min_area and not self._as_detected(gray)

    def _as_detected(self, gray: np.ndarray) -> bool:
        """Whether ``gray`` is the picture of the last detected frame (within ``threshold`` / 3 levels)."""
        import cv2

        reference = self._reference
        if reference is None or reference.shape != gray.shape:
            return False
        _, changed = cv2.threshold(cv2.absdiff(gray, reference), self.threshold / 3, 255, cv2.THRESH_BINARY)
        if self.polygons:
            changed = cv2.bitwise_and(changed, self._valid)
        return cv2.countNonZero(changed) / self._valid_count < self.min_area


def block_mean(gray: np.ndarray, height: int) -> np.ndarray | None:
    """``gray`` (H, W) uint8 shrunk to ``WIDTH`` x ``height`` by the rounded mean of k x k blocks;
    None unless the shrink is by a whole odd factor ``k`` both ways (W = k * WIDTH, H = k * height).

    The same pixels as OpenCV's ``INTER_AREA`` shrink (an area average over whole blocks is the
    block mean; a mean of k*k integers is never halfway for odd k, so any rounding agrees; for
    even k OpenCV's rounding of halves differs between its code paths, so those go to OpenCV),
    made from k + k strided row and column sums in uint16 instead of OpenCV's general area
    resampler: about a third of its time for a 480x360 luma plane (k = 3; a view with padded
    rows, as the decoder gives it).
    """
    rows, cols = gray.shape[:2]
    k = cols // WIDTH
    if gray.dtype != np.uint8 or k < 3 or k % 2 == 0 or k > 15 or cols != k * WIDTH or rows != k * height:
        return None
    sums = gray[0::k].astype(np.uint16)
    for i in range(1, k):
        sums += gray[i::k]
    total = np.ascontiguousarray(sums[:, 0::k])
    for i in range(1, k):
        total += sums[:, i::k]
    total += (k * k) // 2
    total //= k * k
    return total.astype(np.uint8)
