"""Drawing lines (with in/out counts and the direction arrow) and zones (filled by occupancy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from vidtrack.analytics.stage import AnalyticsFrame

LINE_COLOUR = (0, 215, 255)  # BGR amber
ZONE_COLOUR = (255, 160, 0)  # BGR azure
FLASH_COLOUR = (255, 255, 255)


def draw_analytics(canvas: np.ndarray, scene: "AnalyticsFrame", scale: float, thickness: int) -> None:
    """Draw ``scene``'s zones then lines on ``canvas`` (BGR uint8, in place).

    Zones are filled with an opacity that grows with their occupancy (0.12 empty, up to 0.45)
    and labelled ``name: N``; lines carry an arrow at their middle pointing to the "in" side
    and ``name in N out M``. A line or zone with a fresh event is drawn white and thicker.
    """
    import cv2

    font = cv2.FONT_HERSHEY_SIMPLEX
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
        _label(canvas, f"{zone.name}: {zone.occupancy}", (int(cx), int(cy)), font, scale, thickness)
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
        _label(canvas, f"{line.name}  in {line.count_in}  out {line.count_out}", (int(mid[0] - nx * reach), int(mid[1] - ny * reach)), font, scale, thickness)


def _label(canvas: np.ndarray, text: str, centre: tuple[int, int], font: int, scale: float, thickness: int) -> None:
    import cv2

    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    x = int(min(max(2, centre[0] - tw // 2), max(2, canvas.shape[1] - tw - 2)))
    y = int(min(max(th + 4, centre[1] + th // 2), canvas.shape[0] - base - 2))
    cv2.rectangle(canvas, (x - 3, y - th - 3), (x + tw + 3, y + base + 1), (0, 0, 0), -1)
    cv2.putText(canvas, text, (x, y), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
