"""Drawing lines (with in/out counts and the direction arrow), zones (filled by occupancy) and speed zones."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vidtrack.analytics.stage import AnalyticsFrame

LINE_COLOUR = (0, 215, 255)  # BGR amber
ZONE_COLOUR = (255, 160, 0)  # BGR azure
SPEED_COLOUR = (120, 220, 60)  # BGR green
FLASH_COLOUR = (255, 255, 255)


Rect = tuple[int, int, int, int]  # x1, y1, x2, y2 in pixels, x2/y2 exclusive


def draw_analytics(
    canvas: np.ndarray, scene: "AnalyticsFrame", scale: float, thickness: int, defer_labels: bool = False
) -> list[tuple[str, Rect]]:
    """Draw ``scene``'s zones, speed zones, then lines on ``canvas`` (BGR uint8, in place).

    Zones are filled with an opacity that grows with their occupancy (0.12 empty, up to 0.45)
    and labelled ``name: N``; lines carry an arrow at their middle pointing to the "in" side
    and ``name in N out M``; speed zones (``--speed-zone``) are outlined in green and labelled
    with their name and limit. A line or zone with a fresh event is drawn white and thicker.
    Labels lie inside the frame and clear of each other where they can.

    ``defer_labels``: return the labels (text, rect) instead of drawing them, so the caller
    draws them last, over the boxes, and keeps the objects' labels off them; else ``[]``.
    """
    import cv2

    labels: list[tuple[str, Rect]] = []
    for zone in scene.zones:
        pts = np.round(np.array(zone.points)).astype(np.int32)
        x, y, w, h = cv2.boundingRect(pts)
        x2, y2 = min(canvas.shape[1], x + w), min(canvas.shape[0], y + h)
        x, y = max(0, x), max(0, y)
        if x2 > x and y2 > y:
            roi = canvas[y:y2, x:x2]
            alpha = min(0.45, 0.12 + 0.08 * zone.occupancy)
            # Outside the polygon the overlay equals the picture, so the blend leaves it as it was.
            overlay = roi.copy()
            cv2.fillPoly(overlay, [pts - [x, y]], ZONE_COLOUR)
            cv2.addWeighted(overlay, alpha, roi, 1 - alpha, 0, dst=roi)
        colour = FLASH_COLOUR if zone.flash else ZONE_COLOUR
        cv2.polylines(canvas, [pts], True, colour, thickness * (2 if zone.flash else 1), cv2.LINE_AA)
        cx, cy = pts.mean(axis=0).astype(int)
        labels.append(_place(canvas, f"{zone.name}: {zone.occupancy}", (int(cx), int(cy)), scale, thickness, labels))
    for quad in scene.speed_zones:
        # Outline only (no fill: the road under it stays readable); white and thicker on 'speeding'.
        pts = np.round(np.array(quad.points)).astype(np.int32)
        colour = FLASH_COLOUR if quad.flash else SPEED_COLOUR
        cv2.polylines(canvas, [pts], True, colour, thickness * (3 if quad.flash else 2), cv2.LINE_AA)
        limit = f" max {quad.limit_kmh:g} km/h" if quad.limit_kmh is not None else " km/h"
        cx, cy = pts.mean(axis=0).astype(int)
        labels.append(_place(canvas, f"{quad.name}{limit}", (int(cx), int(cy)), scale, thickness, labels))
    for line in scene.lines:
        a = (int(round(line.a[0])), int(round(line.a[1])))
        b = (int(round(line.b[0])), int(round(line.b[1])))
        colour = FLASH_COLOUR if line.flash else LINE_COLOUR
        cv2.line(canvas, a, b, colour, thickness * (3 if line.flash else 2), cv2.LINE_AA)
        # Arrow from the middle towards the "in" side (the right of a -> b on screen).
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = max(1.0, float(np.hypot(dx, dy)))
        nx, ny = -dy / length, dx / length
        mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        reach = max(20.0, 40.0 * scale)
        tip = (int(mid[0] + nx * reach), int(mid[1] + ny * reach))
        cv2.arrowedLine(canvas, (int(mid[0]), int(mid[1])), tip, colour, thickness * 2, cv2.LINE_AA, tipLength=0.35)
        centre = (int(mid[0] - nx * reach), int(mid[1] - ny * reach))
        labels.append(_place(canvas, f"{line.name}  in {line.count_in}  out {line.count_out}", centre, scale, thickness, labels))
    if defer_labels:
        return labels
    for text, rect in labels:
        draw_label(canvas, text, rect, scale, thickness)
    return []


def _place(
    canvas: np.ndarray, text: str, centre: tuple[int, int], scale: float, thickness: int, placed: list[tuple[str, Rect]]
) -> tuple[str, Rect]:
    """A label rect centred on ``centre``, shifted inside the frame and, if it can, below the
    labels already ``placed`` that it would cover (a line's label over a zone's)."""
    import cv2

    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    h, w = canvas.shape[:2]
    rw, rh = min(w, tw + 6), min(h, th + base + 6)
    x = int(min(max(0, centre[0] - rw // 2), w - rw))
    y = int(min(max(0, centre[1] - rh // 2), h - rh))
    for _ in range(len(placed)):
        hit = [r for _, r in placed if min(r[2], x + rw) > max(r[0], x) and min(r[3], y + rh) > max(r[1], y)]
        if not hit:
            break
        below = max(r[3] for r in hit)
        y = below if below + rh <= h else max(0, min(r[1] for r in hit) - rh)
    return text, (x, y, x + rw, y + rh)


def draw_label(canvas: np.ndarray, text: str, rect: Rect, scale: float, thickness: int) -> None:
    """White ``text`` on a black box filling ``rect`` (from :func:`draw_analytics` with ``defer_labels``)."""
    import cv2

    x1, y1, x2, y2 = rect
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    fit = min(1.0, (x2 - x1 - 6) / max(1, tw))  # a label wider than the frame shrinks, never cut
    cv2.rectangle(canvas, (x1, y1), (x2 - 1, y2 - 1), (0, 0, 0), -1)
    cv2.putText(canvas, text, (x1 + 3, y1 + 3 + th), cv2.FONT_HERSHEY_SIMPLEX, scale * fit, (255, 255, 255), thickness, cv2.LINE_AA)
