"""Lines and anchor points in pixel coordinates (polygons and the spec syntax: :mod:`vidtrack.geometry`).

Pure Python and numpy: no cv2, no supervision. Coordinates are pixels with x to the right
and y down (image convention). A spec may give fractions of the frame instead of pixels:
when every value is in [0, 1] the values are multiplied by the frame's width and height.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidtrack.errors import OptionError
# The shapes and their one syntax live in the config layer (vidtrack.geometry); re-exported here.
from vidtrack.geometry import Point, Polygon, Spec, check_shape, parse_spec, specs

__all__ = [
    "ANCHORS", "Point", "Polygon", "Segment", "Spec", "anchor_points", "check_shape", "parse_spec", "specs",
]

#: Where on a box the counted point sits: name → (fraction of width, fraction of height).
ANCHORS: dict[str, tuple[float, float]] = {
    "bottom-center": (0.5, 1.0),
    "center": (0.5, 0.5),
    "top-center": (0.5, 0.0),
    "bottom-left": (0.0, 1.0),
    "bottom-right": (1.0, 1.0),
}


def anchor_points(xyxy: np.ndarray, anchor: str = "bottom-center") -> np.ndarray:
    """(N,4) xyxy boxes in pixels → (N,2) anchor points in pixels.

    Raises:
        OptionError: ``anchor`` is not one of :data:`ANCHORS`.
    """
    try:
        fx, fy = ANCHORS[anchor]
    except KeyError:
        raise OptionError(f"--anchor {anchor!r} is unknown", f"use one of {', '.join(ANCHORS)}") from None
    boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    x = boxes[:, 0] + fx * (boxes[:, 2] - boxes[:, 0])
    y = boxes[:, 1] + fy * (boxes[:, 3] - boxes[:, 1])
    return np.stack([x, y], axis=1)


@dataclass(frozen=True)
class Segment:
    """A directed segment ``a → b`` in pixels.

    Sides: seen on the screen (y down), the *left* of the arrow is where
    :meth:`signed_distance` is negative and the *right* where it is positive. For a line drawn
    left to right, "left" is above it.
    """

    a: Point
    b: Point

    def __post_init__(self) -> None:
        if self.length == 0:
            raise OptionError(f"line {self.a}→{self.b} has two equal points", "give two different points")

    @property
    def length(self) -> float:
        """Length of ``a → b`` in pixels (never 0: construction refuses equal points)."""
        return float(np.hypot(self.b[0] - self.a[0], self.b[1] - self.a[1]))

    def signed_distance(self, points: np.ndarray) -> np.ndarray:
        """(N,2) points → (N,) pixels from the infinite line; < 0 left of the arrow, > 0 right."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        dx, dy = self.b[0] - self.a[0], self.b[1] - self.a[1]
        return (dx * (p[:, 1] - self.a[1]) - dy * (p[:, 0] - self.a[0])) / self.length

    def crossing_fraction(self, p: Point, q: Point) -> float | None:
        """Where the step ``p → q`` meets the segment, as a fraction along ``a → b`` (None if it misses).

        ``p`` and ``q`` must lie on opposite sides of the infinite line.
        """
        dp = float(self.signed_distance(np.array([p]))[0])
        dq = float(self.signed_distance(np.array([q]))[0])
        if dp == dq or (dp > 0) == (dq > 0):
            return None
        s = dp / (dp - dq)
        x = p[0] + s * (q[0] - p[0])
        y = p[1] + s * (q[1] - p[1])
        dx, dy = self.b[0] - self.a[0], self.b[1] - self.a[1]
        u = ((x - self.a[0]) * dx + (y - self.a[1]) * dy) / (self.length**2)
        return u if -1e-9 <= u <= 1 + 1e-9 else None
