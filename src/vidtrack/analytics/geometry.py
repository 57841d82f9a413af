"""Lines, polygons and anchor points in pixel coordinates; parsing of ``--line``/``--zone`` specs.

Pure Python and numpy: no cv2, no supervision. Coordinates are pixels with x to the right
and y down (image convention). A spec may give fractions of the frame instead of pixels:
when every value is in [0, 1] the values are multiplied by the frame's width and height.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from vidtrack.errors import OptionError

Point = tuple[float, float]

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
class Spec:
    """A parsed ``--line``/``--zone``/``--redact-region`` value before it is put on a frame.

    ``values`` are the numbers as given (pixels or fractions), ``name`` the optional
    ``:name`` suffix, ``text`` the original text for error messages.
    """

    values: tuple[float, ...]
    name: str | None
    text: str
    flag: str

    @property
    def fractional(self) -> bool:
        """True when every value lies in [0, 1]: the values are fractions of the frame."""
        return all(0.0 <= v <= 1.0 for v in self.values)

    def points(self, width: int, height: int) -> list[Point]:
        """The points in pixels on a ``width`` x ``height`` frame.

        Raises:
            OptionError: a pixel coordinate lies outside the frame (says which and by how much).
        """
        pts = list(zip(self.values[0::2], self.values[1::2]))
        if self.fractional:
            return [(x * width, y * height) for x, y in pts]
        if width > 0 and height > 0:
            for i, (x, y) in enumerate(pts, start=1):
                over = []
                if x < 0:
                    over.append(f"x is {-x:g} px left of the frame")
                elif x > width:
                    over.append(f"x is {x - width:g} px right of the {width}-px-wide frame")
                if y < 0:
                    over.append(f"y is {-y:g} px above the frame")
                elif y > height:
                    over.append(f"y is {y - height:g} px below the {height}-px-high frame")
                if over:
                    raise OptionError(
                        f"{self.flag} {self.text!r}: point {i} ({x:g},{y:g}) is outside the frame ({'; '.join(over)})",
                        f"use pixels within 0-{width} x 0-{height}, or fractions 0-1 of the frame",
                    )
        return [(float(x), float(y)) for x, y in pts]


def parse_spec(value: Any, flag: str, min_points: int, max_points: int | None = None) -> Spec:
    """``"x1,y1,x2,y2[:name]"`` (or a list of numbers / ``[x, y]`` pairs from a config file) → :class:`Spec`.

    Raises:
        OptionError: not numbers, an odd count, too few or too many points (one line naming the flag).
    """
    name: str | None = None
    if isinstance(value, dict):
        extra = sorted(set(value) - {"points", "name"})
        if extra or "points" not in value:
            raise OptionError(f"{flag} {value!r} needs 'points' (and optionally 'name') only", "e.g. {points: [[0, 0], [1, 1]], name: door}")
        spec = parse_spec(value["points"], flag, min_points, max_points)
        return Spec(spec.values, str(value["name"]) if value.get("name") is not None else None, spec.text, flag)
    if isinstance(value, str):
        text = value.strip()
        body = text
        if ":" in text:
            body, name = text.split(":", 1)
            name = name.strip() or None
        try:
            numbers = [float(v) for v in body.replace(" ", "").split(",") if v != ""]
        except ValueError:
            raise OptionError(
                f"{flag} {text!r} is not a list of numbers", f"write it as x1,y1,x2,y2{',...' if min_points > 2 else ''}[:name]"
            ) from None
    else:
        text = repr(value)
        try:
            flat: list[Any] = []
            for item in value:
                if isinstance(item, (list, tuple)):
                    flat.extend(item)
                else:
                    flat.append(item)
            numbers = [float(v) for v in flat]
        except (TypeError, ValueError):
            raise OptionError(f"{flag} {text} is not a list of numbers", "give [x, y] pairs or x1,y1,x2,y2,...") from None
    if any(v != v or v in (float("inf"), float("-inf")) for v in numbers):
        raise OptionError(f"{flag} {text!r} has a value that is not a finite number", "use plain numbers")
    if len(numbers) % 2:
        raise OptionError(f"{flag} {text!r} has an odd number of values ({len(numbers)})", "give x,y pairs")
    count = len(numbers) // 2
    if count < min_points:
        what = "a line needs 2 points" if max_points == 2 else f"a polygon needs at least {min_points} points"
        raise OptionError(f"{flag} {text!r} has {count} point{'s' if count != 1 else ''}", what)
    if max_points is not None and count > max_points:
        raise OptionError(f"{flag} {text!r} has {count} points", f"a line takes exactly {max_points}: x1,y1,x2,y2")
    return Spec(tuple(numbers), name, text, flag)


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


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """True when segments p1p2 and q1q2 intersect at a point interior to both (touching ends excluded)."""

    def orient(a: Point, b: Point, c: Point) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4))


class Polygon:
    """A simple polygon (concave allowed, never turned into its convex hull), vertices in pixels.

    Raises:
        OptionError: fewer than 3 distinct points, zero area, or edges that cross each other.
    """

    def __init__(self, points: Sequence[Point], label: str = "polygon") -> None:
        pts = [(float(x), float(y)) for x, y in points]
        if len(pts) > 1 and pts[0] == pts[-1]:
            pts = pts[:-1]  # a closed ring written with the first point repeated
        if len(set(pts)) < 3:
            raise OptionError(f"{label} has fewer than 3 distinct points", "give at least 3 corners x1,y1,x2,y2,x3,y3")
        self.points = pts
        self._xy = np.array(pts, dtype=np.float64)
        n = len(pts)
        for i in range(n):
            for j in range(i + 1, n):
                if j == i + 1 or (i == 0 and j == n - 1):
                    continue  # neighbouring edges share a corner
                if _segments_cross(pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]):
                    raise OptionError(
                        f"{label} is self-intersecting (edge {i + 1} crosses edge {j + 1})",
                        "list the corners in order around the region",
                    )
        if abs(self.area) == 0:
            raise OptionError(f"{label} has no area (its points are on one line)", "give corners that enclose a region")

    @property
    def area(self) -> float:
        """Signed shoelace area in square pixels."""
        x, y = self._xy[:, 0], self._xy[:, 1]
        return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))

    @property
    def centroid(self) -> Point:
        """The area centroid in pixels (for labels)."""
        x, y = self._xy[:, 0], self._xy[:, 1]
        cross = x * np.roll(y, -1) - np.roll(x, -1) * y
        a = cross.sum() / 2
        return float(((x + np.roll(x, -1)) * cross).sum() / (6 * a)), float(((y + np.roll(y, -1)) * cross).sum() / (6 * a))

    def contains(self, points: np.ndarray) -> np.ndarray:
        """(N,2) points → (N,) bool: inside by the even-odd (ray casting) rule, exact for concave shapes."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        inside = np.zeros(len(p), dtype=bool)
        x, y = p[:, 0], p[:, 1]
        xs, ys = self._xy[:, 0], self._xy[:, 1]
        n = len(xs)
        for i in range(n):
            x1, y1, x2, y2 = xs[i], ys[i], xs[(i + 1) % n], ys[(i + 1) % n]
            straddles = (y1 > y) != (y2 > y)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            inside ^= straddles & (x < x_at)
        return inside


def check_shape(spec: Spec) -> None:
    """Frame-size-independent checks: two distinct line points; a simple polygon with an area.

    Raises:
        OptionError: the problem, naming the spec.
    """
    pts = spec.points(1, 1) if spec.fractional else spec.points(0, 0)
    label = f"{spec.flag} {spec.text!r}"
    if len(pts) == 2:
        if pts[0] == pts[1]:
            raise OptionError(f"{label} has two equal points", "give two different points")
    else:
        Polygon(pts, label)


def specs(values: Iterable[Any] | None, flag: str, min_points: int, max_points: int | None = None) -> tuple[Spec, ...]:
    """Parse every value of a repeatable option (None → none)."""
    if values is None:
        return ()
    if isinstance(values, (str, bytes)):
        values = [values]
    if isinstance(values, dict):
        values = [values]
    out = []
    for v in values:
        spec = v if isinstance(v, Spec) else parse_spec(v, flag, min_points, max_points)
        check_shape(spec)
        out.append(spec)
    return tuple(out)
