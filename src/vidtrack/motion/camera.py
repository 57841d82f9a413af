"""Global camera motion between consecutive frames (BoT-SORT's GMC idea, sparse optical flow).

Each estimate works on a gray copy of the frame downscaled to ``width`` pixels: corners
(FAST, ``cv2.FastFeatureDetector``) of the previous frame are followed into this one with
pyramidal Lucas-Kanade flow (``cv2.calcOpticalFlowPyrLK``) and a rotation + uniform scale
+ translation is fitted to them with RANSAC (``cv2.estimateAffinePartial2D``), so objects
moving on their own are outliers. The result is a 2x3 affine in full-frame pixels mapping
the previous frame's coordinates into this frame's.

``auto`` mode costs almost nothing on a fixed camera: it estimates only a pair of frames
every ``probe_every`` frames and stays dormant while they show no motion; one probe with
motion switches it on for every frame, and ``settle`` still frames in a row switch it
back off.
"""

from __future__ import annotations

import time

import numpy as np



def scale_affine(affine: np.ndarray, factor: float) -> np.ndarray:
    """An affine fitted on a picture downscaled by ``factor`` (small = full / factor), in full pixels.

    The linear part is unchanged; the translation grows by ``factor``.
    """
    full = np.array(affine, dtype=np.float64).reshape(2, 3)
    full[:, 2] *= factor
    return full


class CameraMotion:
    """Estimates, per frame, the affine that maps the previous frame onto this one.

    Args:
        mode: ``"on"`` (every frame) or ``"auto"`` (see the module docstring). ``"off"`` is
            the caller's business: it builds no ``CameraMotion``.
        width: the estimate works on frames downscaled to this width (pixels). Raise:
            finer motion, more ms per frame.
        still_share: motion below this share of the frame width at every corner counts as
            none (no compensation; in ``auto`` it lets the stage fall dormant).
        probe_every: ``auto`` while dormant checks one pair of frames this often (frames).
        settle: ``auto`` falls dormant after this many still frames in a row.

    Raises:
        ValueError: a mode outside :data:`CMC_MODES` (the CLI checks first).
    """

    def __init__(
        self,
        mode: str = "auto",
        width: int = 320,
        still_share: float = 0.001,
        probe_every: int = 30,
        settle: int = 30,
    ) -> None:
        if mode not in ("auto", "on"):
            raise ValueError(f"camera motion mode {mode!r}: use auto or on")
        self.mode = mode
        self.width = width
        self.still_share = still_share
        self.probe_every = probe_every
        self.settle = settle
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame (a new video, a gap in the picture)."""
        self._prev: np.ndarray | None = None
        self._prev_boxes: np.ndarray | None = None
        self._prev_index = -2
        self._index = -1
        self._active = self.mode == "on"
        self._still = 0
        self.frames = 0  # frames seen
        self.estimated = 0  # frames whose motion was estimated
        self.moving = 0  # frames given a (non-still) affine
        self.seconds = 0.0  # time spent in estimate()

    def report(self) -> dict[str, object]:
        """For the run summary: mode, frames estimated and moving, the stage's mean ms per frame."""
        return {
            "mode": self.mode,
            "estimated_frames": self.estimated,
            "moving_frames": self.moving,
            "ms_per_frame": round(1000.0 * self.seconds / self.frames, 3) if self.frames else 0.0,
        }

    @property
    def active(self) -> bool:
        """True while every frame is estimated (``on``, or ``auto`` after seeing motion)."""
        return self._active

    def estimate(self, image: np.ndarray, boxes: np.ndarray | None = None) -> np.ndarray | None:
        """The 2x3 affine (float64, full-frame pixels) from the previous frame to ``image``
        (H,W,3 BGR or H,W gray uint8), or None: first frame, no measurable motion, too
        little texture, or (``auto``, dormant) not measured this frame.

        ``boxes``: this frame's detections (N,4) xyxy pixels, optional. Corners inside the
        previous frame's boxes are not followed (BoT-SORT does the same): moving objects
        would otherwise pass their own motion off as the camera's.
        """
        start = time.perf_counter()
        try:
            return self._estimate(image, boxes)
        finally:
            self.seconds += time.perf_counter() - start

    def _estimate(self, image: np.ndarray, boxes: np.ndarray | None = None) -> np.ndarray | None:
        self._index += 1
        self.frames += 1
        index = self._index
        # Dormant: only the frame before a probe and the probe itself are looked at.
        wanted = self._active or index <= 1 or (index + 1) % self.probe_every == 0 or index % self.probe_every == 0
        if not wanted:
            self._prev = None
            return None
        gray, factor = self._small_gray(image)
        prev, prev_index, prev_boxes = self._prev, self._prev_index, self._prev_boxes
        self._prev, self._prev_index = gray, index
        self._prev_boxes = None if boxes is None else np.asarray(boxes, dtype=np.float32).reshape(-1, 4) / factor
        if prev is None or prev_index != index - 1 or prev.shape != gray.shape:
            return None
        self.estimated += 1
        affine = _fit(prev, gray, prev_boxes)
        if affine is None:
            return None
        affine = scale_affine(affine, factor)
        if _corner_shift(affine, image.shape[1], image.shape[0]) < self.still_share * image.shape[1]:
            self._still += 1
            if self.mode == "auto" and self._active and self._still >= self.settle:
                self._active = False
            return None
        self._still = 0
        self._active = True
        self.moving += 1
        return affine

    def _small_gray(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """(gray frame ``width`` pixels wide, full width / small width)."""
        import cv2

        height, width = image.shape[:2]
        factor = max(1.0, width / self.width)
        step = max(1, int(factor // 2))  # a cheap decimation first, then an area resize
        small = image[::step, ::step]
        size = (max(1, int(round(width / factor))), max(1, int(round(height / factor))))
        if (small.shape[1], small.shape[0]) != size:
            small = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
        if small.ndim == 3:
            small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        return np.ascontiguousarray(small), width / small.shape[1]


def _corners(gray: np.ndarray, most: int = 150) -> np.ndarray:
    """Up to ``most`` FAST corners of ``gray``, strongest first, as (K,1,2) float32.

    FAST rather than ``goodFeaturesToTrack``: about 15x cheaper here, and RANSAC does not
    need the best corners, only enough of them on the background."""
    import cv2

    points = []
    for threshold in (20, 8):
        keys = cv2.FastFeatureDetector_create(threshold=threshold, nonmaxSuppression=True).detect(gray)
        if len(keys) >= 30:
            break
    keys = sorted(keys, key=lambda k: -k.response)[:most]
    points = [k.pt for k in keys]
    return np.array(points, dtype=np.float32).reshape(-1, 1, 2)


def _fit(prev: np.ndarray, gray: np.ndarray, boxes: np.ndarray | None = None) -> np.ndarray | None:
    """Rotation + scale + translation (2x3) from ``prev`` to ``gray`` (same size), or None
    (too few corners outside ``boxes``, (N,4) in ``prev``'s pixels, or under half of them
    agree)."""
    import cv2

    points = _corners(prev)
    if boxes is not None and len(boxes) and len(points):
        xy = points[:, 0, :]
        inside = (
            (xy[:, None, 0] >= boxes[None, :, 0]) & (xy[:, None, 0] <= boxes[None, :, 2])
            & (xy[:, None, 1] >= boxes[None, :, 1]) & (xy[:, None, 1] <= boxes[None, :, 3])
        ).any(axis=1)
        points = points[~inside]
    if len(points) < 8:
        return None
    moved, status, _ = cv2.calcOpticalFlowPyrLK(prev, gray, points, None, winSize=(11, 11), maxLevel=2)
    ok = status.reshape(-1) == 1
    if np.count_nonzero(ok) < 8:
        return None
    affine, inliers = cv2.estimateAffinePartial2D(
        points[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0
    )
    agree = 0 if inliers is None else int(np.count_nonzero(inliers))
    if affine is None or agree < 8 or agree < 0.5 * np.count_nonzero(ok):
        return None
    return affine


def _corner_shift(affine: np.ndarray, width: int, height: int) -> float:
    """The largest distance (pixels) any corner of a ``width`` x ``height`` frame moves under ``affine``."""
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], dtype=np.float64)
    moved = corners @ affine.T
    return float(np.max(np.hypot(*(moved - corners[:, :2]).T)))
