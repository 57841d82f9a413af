"""Points, polygons and the one syntax that writes them: zones, lines, redaction and tile regions.

The config layer's geometry (pure Python and numpy; no cv2, no supervision): every option that
takes a shape (``--line``, ``--zone``, ``--redact-region``, ``--tile-region``) is parsed by
:func:`parse_spec` and every polygon is checked by :class:`Polygon`.

The syntax: ``x1,y1,x2,y2,...[:name]``; pairs may also be separated by spaces or semicolons
(``"x,y x,y x,y"``), and a config file may give a list of numbers or of ``[x, y]`` pairs.
Coordinates are pixels with x to the right and y down (image convention), or fractions of the
frame when every value is in [0, 1] (then multiplied by the frame's width and height).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from vidtrack.errors import OptionError

Point = tuple[float, float]
#: A polygon's corners as written in a config (pixels, or fractions of the frame).
Points = tuple[Point, ...]


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
            numbers = [float(v) for v in re.split(r"[,;\s]+", body.strip()) if v != ""]
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


def parse_polygon(value: Any, flag: str = "--tile-region") -> Points:
    """A polygon option (``--tile-region``) in the one shape syntax → its corners, as given.

    Coordinates are pixels, or fractions of the frame when every one is at most 1
    (``"0,0 0.5,0 0.5,0.5 0,0.5"`` is the top-left quarter of any frame).

    Raises:
        OptionError: fewer than three points, values that are not x,y pairs, a negative or
            non-finite coordinate, or a polygon that crosses itself or has no area.
    """
    spec = parse_spec(value, flag, 3)
    if any(v < 0 for v in spec.values):
        raise OptionError(f"{flag} {spec.text!r} has a negative coordinate", f"give x,y points >= 0, e.g. {flag} \"0,0 960,0 960,540 0,540\"")
    check_shape(spec)
    return tuple((float(x), float(y)) for x, y in zip(spec.values[0::2], spec.values[1::2]))
