"""Speed of tracked objects on the ground: ``--speed-zone x1,y1,...,x4,y4:WIDTH_M,LENGTH_M[:name]``.

The four points are the corners of a rectangle on the ground as seen in the picture, in
order around it: (x1,y1) → (x2,y2) spans ``WIDTH_M`` metres, (x2,y2) → (x3,y3) spans
``LENGTH_M`` metres. A plane-to-plane homography (:func:`homography`, direct linear
transform with numpy; Hartley & Zisserman, *Multiple View Geometry*, 2nd ed., alg. 4.1)
maps the picture to metres on that ground rectangle. Each track's ground point is its
box's bottom-center (where it touches the ground), while inside the quadrilateral; its
speed is the least-squares slope of position over the last ``window`` seconds (at least
half a window and :data:`MIN_POINTS` observations), in km/h. Perspective makes a pixel
far away worth more metres than one near: that is exactly what the homography undoes;
what it cannot undo is a box whose bottom edge is not on the ground (a bus's shadow,
an occluded foot), so keep the zone where objects are seen whole.

No OpenCV here: numpy only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidtrack.analytics.geometry import Polygon, Spec, parse_spec
from vidtrack.errors import OptionError

#: Observations a track needs in its window before a speed is reported.
MIN_POINTS = 3
#: Default smoothing window, seconds. Raise: steadier speeds, slower to follow changes.
WINDOW_S = 1.0


@dataclass(frozen=True)
class SpeedZoneSpec:
    """A parsed ``--speed-zone``: the ground quad as given, its real size in metres, its name."""

    quad: Spec
    width_m: float
    length_m: float
    name: str | None
    text: str


def parse_speed_zone(value: Any) -> SpeedZoneSpec:
    """``"x1,y1,x2,y2,x3,y3,x4,y4:WIDTH_M,LENGTH_M[:name]"`` → :class:`SpeedZoneSpec`.

    Points are pixels, or fractions of the frame when every value is in 0-1 (as ``--zone``).

    Raises:
        OptionError: not four points, sizes not two positive numbers, or a missing size.
    """
    text = str(value).strip()
    parts = text.split(":")
    fix = "use x1,y1,x2,y2,x3,y3,x4,y4:WIDTH_M,LENGTH_M[:name], e.g. 100,400,500,400,620,700,0,700:3.5,20:lane1"
    if len(parts) not in (2, 3):
        raise OptionError(f"--speed-zone {text!r} needs four points and the size in metres", fix)
    quad = parse_spec(parts[0], "--speed-zone", 4, 4)
    try:
        width_m, length_m = (float(v) for v in parts[1].split(","))
    except ValueError:
        raise OptionError(f"--speed-zone {text!r}: {parts[1]!r} is not WIDTH_M,LENGTH_M", fix) from None
    if not (width_m > 0 and length_m > 0):
        raise OptionError(f"--speed-zone {text!r}: the size {parts[1]!r} must be positive metres", fix)
    name = parts[2].strip() if len(parts) == 3 and parts[2].strip() else None
    return SpeedZoneSpec(quad, width_m, length_m, name, text)


def homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 matrix H with ``dst ~ H @ [src, 1]`` from four point pairs (src, dst: (4,2)).

    Points are normalised (centroid at 0, mean distance sqrt 2) before the SVD, as
    Hartley's normalised DLT prescribes, so pixel and metre scales do not matter.

    Raises:
        OptionError: three of the points lie on one line (no homography).
    """

    def normalise(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = p.mean(axis=0)
        d = np.sqrt(((p - c) ** 2).sum(axis=1)).mean()
        s = np.sqrt(2) / d if d > 0 else 1.0
        return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1]]), (p - c) * s

    src, dst = np.asarray(src, float), np.asarray(dst, float)
    for p in (src, dst):
        for i in range(4):
            a, b, c = (p[(i + k) % 4] for k in range(3))
            if abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])) < 1e-9 * max(1.0, np.abs(p).max() ** 2):
                raise OptionError("--speed-zone has three points on one line", "give the four corners of a ground rectangle in order")
    ts, s = normalise(src)
    td, d = normalise(dst)
    rows = []
    for (x, y), (u, v) in zip(s, d):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, _, vt = np.linalg.svd(np.asarray(rows))
    h = vt[-1].reshape(3, 3)
    h = np.linalg.inv(td) @ h @ ts
    return h / h[2, 2]


def apply_homography(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (N,2) mapped through ``h`` (3x3), (N,2)."""
    p = np.c_[np.asarray(points, float).reshape(-1, 2), np.ones(len(points))] @ h.T
    return p[:, :2] / p[:, 2:3]


class SpeedZone:
    """One ground quad on a frame: containment in pixels, position in metres, speeds per track."""

    def __init__(self, name: str, points: list[tuple[float, float]], width_m: float, length_m: float, window_s: float) -> None:
        self.name = name
        self.polygon = Polygon(points, f"--speed-zone {name}")
        ground = np.array([[0, 0], [width_m, 0], [width_m, length_m], [0, length_m]], float)
        self.h = homography(np.array(points, float), ground)
        self.window_s = window_s
        self._history: dict[int, deque[tuple[float, float, float]]] = {}
        self.speeds: dict[int, list[float]] = {}  # every speed reported per track, km/h
        self.classes: dict[int, str] = {}
        self._now = 0.0

    def update(self, ids: np.ndarray, feet: np.ndarray, classes: list[str], t: float) -> np.ndarray:
        """Speeds in km/h (N,) for tracks ``ids`` with ground points ``feet`` (N,2 pixels) at ``t`` s; NaN if unknown."""
        out = np.full(len(ids), np.nan)
        self._now = max(self._now, t)
        if len(ids) == 0:
            return out
        inside = self.polygon.contains(feet)
        ground = apply_homography(self.h, feet)
        for i, track in enumerate(ids):
            track = int(track)
            if track < 0 or not inside[i]:
                self._history.pop(track, None)  # speed over one stretch inside the zone at a time
                continue
            hist = self._history.setdefault(track, deque())
            hist.append((t, float(ground[i, 0]), float(ground[i, 1])))
            while hist and t - hist[0][0] > self.window_s:
                hist.popleft()
            if len(hist) < MIN_POINTS or hist[-1][0] - hist[0][0] < self.window_s / 2:
                continue
            a = np.asarray(hist)
            tt = a[:, 0] - a[:, 0].mean()
            var = float((tt**2).sum())
            if var <= 0:
                continue
            vx = float((tt * (a[:, 1] - a[:, 1].mean())).sum()) / var
            vy = float((tt * (a[:, 2] - a[:, 2].mean())).sum()) / var
            out[i] = float(np.hypot(vx, vy)) * 3.6
            self.speeds.setdefault(track, []).append(out[i])
            self.classes[track] = classes[i]
        return out

    def forget(self, live: set[int]) -> None:
        """Drop the position history of tracks not in ``live`` whose last point is older than the
        window (keeps memory flat; a track missed for a frame or two keeps its history)."""
        for track in [t for t, h in self._history.items() if t not in live and (not h or self._now - h[-1][0] > self.window_s)]:
            del self._history[track]

    def summary(self) -> dict[str, Any]:
        """Per class: ``{"tracks", "mean_kmh", "p85_kmh", "max_kmh"}`` over each track's median speed in the zone."""
        per_class: dict[str, list[float]] = {}
        for track, values in self.speeds.items():
            per_class.setdefault(self.classes[track], []).append(float(np.median(values)))
        return {
            cls: {
                "tracks": len(v),
                "mean_kmh": round(float(np.mean(v)), 1),
                "p85_kmh": round(float(np.percentile(v, 85)), 1),  # the traffic engineer's "85th percentile speed"
                "max_kmh": round(float(np.max(v)), 1),
            }
            for cls, v in sorted(per_class.items())
        }

