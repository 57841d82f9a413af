"""Draws what the pipeline found: boxes, ``#id class confidence`` labels, trails and a HUD.

Boxes, labels and trails use supervision's annotators, coloured by track id so an
object keeps its colour. One :class:`Overlay` per source: the trail history is per
instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from vidtrack.config import OverlayConfig
from vidtrack.labels import class_names

if TYPE_CHECKING:
    from datetime import datetime

    import supervision as sv

    from vidtrack.analytics.stage import AnalyticsFrame

    from vidtrack.frames import SourceStatus


def track_labels(detections: "sv.Detections") -> list[str]:
    """``#12 person 0.87`` for each detection (no ``#id`` part for untracked ones)."""
    names = class_names(detections)
    ids = detections.tracker_id
    labels = []
    for i in range(len(detections)):
        name = names[i]
        conf = f" {float(detections.confidence[i]):.2f}" if detections.confidence is not None else ""
        prefix = f"#{int(ids[i])} " if ids is not None else ""
        labels.append(f"{prefix}{name}{conf}")
    return labels


@dataclass
class HudInfo:
    """The numbers shown in the corner: rate, per-stage ms, counts, stream state."""

    fps: float = 0.0
    stage_ms: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    frame_age_ms: float | None = None
    status: "SourceStatus | None" = None  # shown only when not CONNECTED
    tiles: int | None = None  # tiles the detector ran on this frame (--tiles); None: not tiling

    def lines(self) -> list[str]:
        lines = [f"{self.fps:5.1f} FPS" + (f"  {self.tiles} tiles" if self.tiles is not None else "")]
        if self.stage_ms:
            lines.append(" ".join(f"{k} {v:.1f}" for k, v in self.stage_ms.items()) + " ms")
        if self.frame_age_ms is not None:
            lines.append(f"frame age {self.frame_age_ms:.0f} ms")
        if self.status is not None and not self.status.ok:
            lines.append(f"source {self.status}")
        if self.counts:
            lines.append(", ".join(f"{n} {name}" for name, n in self.counts.items()))
        return lines


class Overlay:
    """Draws boxes, labels, trails and the HUD on a frame (on a copy unless ``in_place``)."""

    def __init__(self, config: OverlayConfig | None = None) -> None:
        self.config = config or OverlayConfig()
        self._size: tuple[int, int] | None = None
        self._trace: "sv.TraceAnnotator | None" = None  # made on the first frame, kept over size changes

    def _build(self, size: tuple[int, int]) -> None:
        import supervision as sv

        self._size = size
        thickness = sv.calculate_optimal_line_thickness(size)
        scale = sv.calculate_optimal_text_scale(size)
        lookup = sv.ColorLookup.TRACK
        self._box = sv.BoxAnnotator(thickness=thickness, color_lookup=lookup)
        self._label = sv.LabelAnnotator(
            text_scale=scale, text_thickness=max(1, thickness // 2), color_lookup=lookup
        )
        # A new trail annotator only on the first frame: a size change must not wipe history.
        if self._trace is None:
            self._trace = sv.TraceAnnotator(
                trace_length=self.config.trail_length, thickness=thickness, color_lookup=lookup,
                position=sv.Position.BOTTOM_CENTER,
            )
        self._hud_scale = max(0.4, scale * 0.9)
        self._hud_thickness = max(1, thickness // 2)

    def draw(
        self,
        image: np.ndarray,
        detections: "sv.Detections",
        hud: HudInfo | None = None,
        in_place: bool = False,
        scene: "AnalyticsFrame | None" = None,
        when: "datetime | None" = None,
    ) -> np.ndarray:
        """The annotated frame. ``in_place`` draws on ``image`` itself, saving a full-frame copy.

        ``scene`` adds the analytics layer: zones and lines under the boxes, and no labels
        on the rows it marks ``hidden`` (redacted objects). ``when`` is the frame's
        wall-clock time (``Frame.time``): burnt in at the top left unless ``timestamp`` is False.
        """
        size = (image.shape[1], image.shape[0])
        if size != self._size:
            self._build(size)
        cfg = self.config
        canvas = image if in_place else image.copy()
        tracked = detections.tracker_id is not None
        if scene is not None and (scene.lines or scene.zones):
            from vidtrack.analytics.draw import draw_analytics

            draw_analytics(canvas, scene, self._hud_scale, self._hud_thickness)
        if len(detections) and tracked:
            if cfg.trails:
                canvas = self._trace.annotate(canvas, detections)
            if cfg.boxes:
                canvas = self._box.annotate(canvas, detections)
            if cfg.labels:
                shown = detections
                if scene is not None and scene.hidden is not None and scene.hidden.any():
                    shown = detections[~scene.hidden]
                if len(shown):
                    canvas = self._label.annotate(canvas, shown, labels=track_labels(shown))
        if cfg.hud and hud is not None:
            self._draw_hud(canvas, hud.lines())
        if when is not None and cfg.timestamp is not False:
            draw_timestamp(canvas, when)
        return canvas

    def _draw_hud(self, canvas: np.ndarray, lines: list[str]) -> None:
        """Text on a darkened panel in the bottom-left corner, clear of the box labels above boxes."""
        import cv2

        font = cv2.FONT_HERSHEY_SIMPLEX
        scale, thick = self._hud_scale, self._hud_thickness
        h, w = canvas.shape[:2]
        sizes = [cv2.getTextSize(line, font, scale, thick) for line in lines]
        line_h = max(th + base for (_, th), base in sizes) + 6
        # On a small frame a line wider than the frame is shrunk to fit, not cut at the edge;
        # the others keep their size.
        fits = [min(1.0, (w - 16) / max(1, tw)) for (tw, _), _ in sizes]
        width = min(w, max(tw * f for ((tw, _), _), f in zip(sizes, fits)) + 16)
        height = min(h, line_h * len(lines) + 8)
        top = h - height
        region = canvas[top:h, 0:int(width)]
        region[:] = (region * 0.4).astype(np.uint8)
        for i, (line, fit) in enumerate(zip(lines, fits)):
            y = top + 4 + line_h * (i + 1) - 6
            line_thick = thick if fit == 1.0 else 1
            cv2.putText(canvas, line, (8, y), font, scale * fit, (255, 255, 255), line_thick, cv2.LINE_AA)


def timestamp_text(when: "datetime") -> str:
    """``2026-12-06 14:30:05 +01:00``: the CCTV burn-in text (whole seconds, the time's own UTC offset)."""
    offset = when.strftime("%z")
    return when.strftime("%Y-%m-%d %H:%M:%S") + (f" {offset[:3]}:{offset[3:]}" if offset else "")


def draw_timestamp(canvas: np.ndarray, when: "datetime", corner: str = "top-left") -> None:
    """Burn ``when`` into ``canvas`` (BGR, in place), CCTV style: white text on a dark band.

    The hook the HUD uses for the wall-clock time (``Frame.time``); text height about 1/24
    of the frame height (at least 10 px) so it reads on a phone without hiding much.
    ``corner``: ``top-left`` or ``top-right``.
    """
    import cv2

    text = timestamp_text(when)
    h, w = canvas.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw1, th1), _ = cv2.getTextSize(text, font, 1.0, 2)
    scale = max(10, h / 24) / th1
    scale = min(scale, (w - 12) / max(1, tw1))  # never wider than the frame
    thick = max(1, int(round(scale * 1.5)))
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    pad = max(3, th // 3)
    x0 = 0 if corner == "top-left" else max(0, w - tw - 2 * pad)
    region = canvas[0 : min(h, th + base + 2 * pad), x0 : min(w, x0 + tw + 2 * pad)]
    region[:] = (region * 0.35).astype(np.uint8)
    cv2.putText(canvas, text, (x0 + pad, pad + th), font, scale, (255, 255, 255), thick, cv2.LINE_AA)
