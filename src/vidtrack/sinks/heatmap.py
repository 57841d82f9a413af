"""``--heatmap FILE.png``: where tracked objects' feet were over the run, over a representative background.

Each frame, the bottom-center of every tracked box (where the object stands) adds one to a
grid of :data:`CELL_PX`-pixel cells (one grid per class when ``per_class``). The
background is the per-pixel median of up to :data:`SAMPLES` frames sampled evenly over the
run (every frame at first, then every 2nd, 4th... as the run grows), so moving objects
fade out of it. At the end the grid is smoothed (Gaussian, sigma :data:`SIGMA_CELLS`
cells), scaled so its 99th percentile of non-zero cells is full heat (one long-parked
object does not wash out the rest), coloured (OpenCV's TURBO colour map) and blended over
the background where there was any presence. ``FILE.png`` holds every class;
``per_class`` adds ``FILE-<class>.png`` per class. The background is taken from the
picture after redaction, never the raw one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vidtrack.labels import class_names
from vidtrack.sinks.base import write_image

if TYPE_CHECKING:
    from vidtrack.frames import FrameResult

#: Grid cell size in pixels of the source frame.
CELL_PX = 4
#: Background frames kept for the median (each at most MAX_SIDE pixels wide).
SAMPLES = 31
MAX_SIDE = 960
#: Smoothing of the presence grid, in cells.
SIGMA_CELLS = 2.0
#: Heat opacity at full heat.
ALPHA = 0.65


class HeatmapSink:
    """Accumulates feet positions and background samples; writes the PNG(s) at close (see the module docstring)."""

    #: Where :meth:`summary` goes in the run summary.
    SUMMARY_KEY = "heatmap"

    def __init__(self, path: str | os.PathLike[str], per_class: bool = False) -> None:
        self.path = Path(path)
        self.per_class = per_class
        self._grids: dict[str, np.ndarray] = {}
        self._size: tuple[int, int] | None = None  # (height, width) of the first frame
        self._samples: list[np.ndarray] = []
        self._step = 1
        self._seen = 0
        self._points = 0
        self._closed = False
        self.files: list[Path] = []
        self.warnings: list[str] = []

    def write(self, result: "FrameResult") -> None:
        """Add the frame's tracked feet (box bottom-centre) to the grids; sample the background now and then.

        The picture read is the one after redaction (``result.clean`` when kept). Frames of
        another size than the first are skipped (the grid is in the first size's cells of
        :data:`CELL_PX` pixels). Writes no file (:meth:`close` does).
        """
        image = result.clean if result.clean is not None else result.frame.image
        h, w = image.shape[:2]
        if self._size is None:
            self._size = (h, w)
        elif self._size != (h, w):
            return  # a size change: the grid is in the first size's coordinates
        if self._seen % self._step == 0:
            self._sample(image)
        self._seen += 1
        det = result.detections
        if len(det) == 0 or det.tracker_id is None:
            return
        xyxy = np.asarray(det.xyxy, dtype=np.float64).reshape(-1, 4)
        tracked = np.asarray(det.tracker_id) >= 0
        if not tracked.any():
            return
        gx = np.clip(((xyxy[:, 0] + xyxy[:, 2]) / 2 / CELL_PX).astype(int), 0, (w - 1) // CELL_PX)
        gy = np.clip((xyxy[:, 3] / CELL_PX).astype(int), 0, (h - 1) // CELL_PX)
        names = class_names(det)
        keys = ["all"] + (sorted(set(names)) if self.per_class else [])
        for key in keys:
            grid = self._grids.get(key)
            if grid is None:
                grid = self._grids[key] = np.zeros(((h - 1) // CELL_PX + 1, (w - 1) // CELL_PX + 1), np.float32)
            rows = tracked if key == "all" else tracked & (np.array(names) == key)
            np.add.at(grid, (gy[rows], gx[rows]), 1.0)
        self._points += int(tracked.sum())

    def _sample(self, image: np.ndarray) -> None:
        import cv2

        h, w = image.shape[:2]
        scale = min(1.0, MAX_SIDE / max(w, 1))
        small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else image.copy()
        self._samples.append(small)
        if len(self._samples) >= SAMPLES:  # keep every other sample, sample half as often from now on
            self._samples = self._samples[::2]
            self._step *= 2

    def close(self) -> None:
        """Write the heatmap PNG(s) (idempotent); nothing when no frame came."""
        if self._closed:
            return
        self._closed = True
        if self._size is None or not self._samples:
            return
        import cv2

        h, w = self._size
        background = np.median(np.stack(self._samples), axis=0).astype(np.uint8)
        background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
        grids = self._grids or {"all": np.zeros(((h - 1) // CELL_PX + 1, (w - 1) // CELL_PX + 1), np.float32)}
        for key, grid in grids.items():
            path = self.path if key == "all" else self.path.with_name(f"{self.path.stem}-{_safe(key)}{self.path.suffix}")
            picture = blend(background, grid)
            write_image(path, picture, "heatmap")
            self.files.append(path)

    def summary(self) -> dict[str, Any]:
        """``{"files": [...], "points": n, "background_frames": k}`` for the run summary."""
        return {"files": [str(p) for p in self.files], "points": self._points, "background_frames": len(self._samples)}


def blend(background: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``background`` (H,W,3 BGR) with the presence ``grid`` (cells) as a colour heat layer on top."""
    import cv2

    h, w = background.shape[:2]
    heat = cv2.GaussianBlur(grid, (0, 0), SIGMA_CELLS)
    nonzero = heat[heat > 1e-6]
    top = float(np.percentile(nonzero, 99)) if nonzero.size else 1.0
    norm = np.clip(heat / max(top, 1e-6), 0, 1)
    norm = cv2.resize(norm, (w, h), interpolation=cv2.INTER_LINEAR)
    colour = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_TURBO)
    alpha = (np.clip(norm * 3, 0, 1) * ALPHA)[..., None]  # faint presence shows, full heat stays see-through
    out = background.astype(np.float32) * (1 - alpha) + colour.astype(np.float32) * alpha
    return out.astype(np.uint8)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
