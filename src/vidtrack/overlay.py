"""Draws what the pipeline found: boxes, ``#id class confidence`` labels, trails and a HUD.

Labels are placed by :func:`place_labels` (inside the frame, clear of each other, of the
lines' and zones' labels and of the HUD) at a scale with a floor (:data:`MIN_TEXT_SCALE`), so
they stay readable from 176x144 to 4K. The HUD of an exported video is ``clean`` (time and
counts); developer timings show in live views or with ``--hud debug`` (:data:`HUD_MODES`).

Boxes, labels and trails use supervision's annotators, coloured by track id so an
object keeps its colour. One :class:`Overlay` per source: the trail history is per
instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from vidtrack.config import HUD_MODES, OverlayConfig
from vidtrack.labels import class_names

if TYPE_CHECKING:
    from datetime import datetime

    import supervision as sv

    from vidtrack.analytics.stage import AnalyticsFrame

    from vidtrack.frames import SourceStatus


def track_labels(detections: "sv.Detections") -> list[str]:
    """``#12 person 0.87`` for each detection (no ``#id`` part for untracked ones); ``#7 car 0.91 48 km/h``
    when a ``--speed-zone`` measured its smoothed speed this frame (``data["speed_kmh"]``, NaN: unknown)."""
    names = class_names(detections)
    ids = detections.tracker_id
    speeds = detections.data.get("speed_kmh") if detections.data else None
    labels = []
    for i in range(len(detections)):
        name = names[i]
        conf = f" {float(detections.confidence[i]):.2f}" if detections.confidence is not None else ""
        prefix = f"#{int(ids[i])} " if ids is not None else ""
        speed = f" {float(speeds[i]):.0f} km/h" if speeds is not None and np.isfinite(speeds[i]) else ""
        labels.append(f"{prefix}{name}{conf}{speed}")
    return labels


#: Smallest text scale (OpenCV Hershey units, ~22 px per unit of cap height) for labels and
#: the HUD: supervision's min(w, h)/1000 gives 0.144 at 176x144, 5 px letters nobody can read.
#: At 0.35 a 176x144 label is 8 px tall, the smallest that stays legible in a player.
MIN_TEXT_SCALE = 0.35


def label_scale(width: int, height: int) -> float:
    """Label text scale for a ``width`` x ``height`` frame: 0.8/1000 of the short side, floor 0.35.

    1080p gets 0.86, 4K 1.73, 480x360 0.35 (the floor), 176x144 0.35.
    """
    return max(MIN_TEXT_SCALE, 0.0008 * min(width, height))


def text_thickness(scale: float) -> int:
    """Stroke width for a text ``scale``: 1 px below 0.7, then about 1.5 px per unit."""
    return 1 if scale < 0.7 else max(1, int(round(scale * 1.5)))


def count_text(counts: dict[str, int]) -> str:
    """``person: 2  car: 1``: the objects in the frame per class (no "2 person" grammar)."""
    return "  ".join(f"{name}: {n}" for name, n in counts.items())


@dataclass
class HudInfo:
    """The numbers shown in the corner: time, counts; in debug mode rate, per-stage ms, age.

    ``clock``: an optional first line (text). The frame's wall-clock time is not drawn here but
    by :func:`draw_timestamp` (top left, ``--timestamp``), which the pipeline calls with ``Frame.time``.
    """

    fps: float = 0.0
    stage_ms: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    frame_age_ms: float | None = None
    status: "SourceStatus | None" = None  # shown only when not CONNECTED
    tiles: int | None = None  # tiles the detector ran on this frame (--tiles); None: not tiling
    schedule: str | None = None  # --motion-gate/--detect-every: share of frames detected, gated, strided
    clock: str | None = None  # wall-clock time of the frame, when known

    def lines(self, debug: bool = True) -> list[str]:
        """The HUD's text lines: ``debug`` adds the developer lines (FPS, ms per stage, frame age)."""
        lines = []
        if self.clock:
            lines.append(self.clock)
        if debug:
            lines.append(f"{self.fps:5.1f} FPS" + (f"  {self.tiles} tiles" if self.tiles is not None else ""))
            if self.stage_ms:
                lines.append(" ".join(f"{k} {v:.1f}" for k, v in self.stage_ms.items()) + " ms")
            if self.schedule is not None:
                lines.append(self.schedule)
            if self.frame_age_ms is not None:
                lines.append(f"frame age {self.frame_age_ms:.0f} ms")
        if self.status is not None and not self.status.ok:
            lines.append(f"source {self.status}")
        if self.counts:
            lines.append(count_text(self.counts))
        return lines


Rect = tuple[int, int, int, int]  # x1, y1, x2, y2 in pixels, x2/y2 exclusive


def _overlap(a: Rect, b: Rect) -> int:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0


def place_labels(
    boxes: np.ndarray, sizes: list[tuple[int, int]], frame: tuple[int, int], taken: list[Rect] | None = None
) -> list[Rect]:
    """Where each box's label goes: inside the frame, clear of the others where possible.

    Greedy, in the given order (put the most important first): for box ``i`` (``x1, y1, x2, y2``)
    and label size ``sizes[i]`` (w, h px), try above the box, inside its top, below it and
    inside its bottom, each left-aligned then right-aligned, every candidate shifted into the
    ``frame`` (w, h); take the first that overlaps nothing placed so far nor ``taken`` (the
    HUD, line and zone labels), else the one that overlaps least. A box touching the top
    edge so gets its label inside, a box at the right edge a label ending at the edge.

    Returns: one rect per box, in the input order.
    """
    fw, fh = frame
    placed: list[Rect] = list(taken or [])
    out: list[Rect] = []
    for (x1, y1, x2, y2), (tw, th) in zip(np.asarray(boxes, dtype=float).tolist(), sizes):
        tw, th = min(tw, fw), min(th, fh)
        best: Rect | None = None
        best_cost = None
        for y in (y1 - th, y1, y2, y2 - th):
            for x in (x1, x2 - tw):
                cx = int(min(max(0, round(x)), fw - tw))
                cy = int(min(max(0, round(y)), fh - th))
                rect = (cx, cy, cx + tw, cy + th)
                cost = sum(_overlap(rect, other) for other in placed)
                if best_cost is None or cost < best_cost:
                    best, best_cost = rect, cost
                if cost == 0:
                    break
            if best_cost == 0:
                break
        assert best is not None
        placed.append(best)
        out.append(best)
    return out


class Overlay:
    """Draws boxes, labels, trails and the HUD on a frame (on a copy unless ``in_place``).

    ``live``: the frames go to a live view (``--show``/``--serve``), where the ``auto`` HUD
    shows developer timings; exported videos get the clean HUD (time, counts).
    """

    def __init__(self, config: OverlayConfig | None = None, live: bool = False) -> None:
        self.config = config or OverlayConfig()
        mode = self.config.hud_mode
        self.debug_hud = mode == "debug" or (mode == "auto" and live)
        self._size: tuple[int, int] | None = None
        self._trace: "sv.TraceAnnotator | None" = None  # made on the first frame, kept over size changes

    def _build(self, size: tuple[int, int]) -> None:
        import supervision as sv

        self._size = size
        thickness = sv.calculate_optimal_line_thickness(size)
        lookup = sv.ColorLookup.TRACK
        self._palette = sv.ColorPalette.DEFAULT
        self._box = sv.BoxAnnotator(thickness=thickness, color_lookup=lookup)
        self._label_scale = label_scale(*size)
        self._label_thickness = text_thickness(self._label_scale)
        # A new trail annotator only on the first frame: a size change must not wipe history.
        if self._trace is None:
            self._trace = sv.TraceAnnotator(
                trace_length=self.config.trail_length, thickness=thickness, color_lookup=lookup,
                position=sv.Position.BOTTOM_CENTER,
            )
        self._hud_scale = max(0.4, self._label_scale * 0.9)
        self._hud_thickness = text_thickness(self._hud_scale)

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

        ``scene`` adds the analytics layer: zones and lines under the boxes, their labels on
        top of everything (object labels keep clear of them), and no labels on the rows it
        marks ``hidden`` (redacted objects). The HUD is drawn last, and labels avoid it too.
        ``when`` is the frame's wall-clock time (``Frame.time``): burnt in at the top left
        unless ``timestamp`` is False; labels keep clear of that band too.
        """
        size = (image.shape[1], image.shape[0])
        if size != self._size:
            self._build(size)
        cfg = self.config
        canvas = image if in_place else image.copy()
        tracked = detections.tracker_id is not None
        scene_labels: list[tuple[str, Rect]] = []
        if scene is not None and (scene.lines or scene.zones or scene.speed_zones):
            from vidtrack.analytics.draw import draw_analytics

            scene_labels = draw_analytics(canvas, scene, self._hud_scale, self._hud_thickness, defer_labels=True)
        hud_lines = hud.lines(self.debug_hud) if (cfg.hud and cfg.hud_mode != "off" and hud is not None) else []
        hud_rect = self._hud_rect(canvas, hud_lines) if hud_lines else None
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
                    taken = [rect for _, rect in scene_labels] + ([hud_rect[0]] if hud_rect else [])
                    if when is not None and cfg.timestamp is not False:
                        taken.append(timestamp_rect(canvas, when))
                    self._draw_labels(canvas, shown, taken)
        if scene_labels:
            from vidtrack.analytics.draw import draw_label

            for text, rect in scene_labels:
                draw_label(canvas, text, rect, self._hud_scale, self._hud_thickness)
        if hud_rect is not None:
            self._draw_hud(canvas, hud_lines, hud_rect)
        if when is not None and cfg.timestamp is not False:
            draw_timestamp(canvas, when)
        return canvas

    def _draw_labels(self, canvas: np.ndarray, detections: "sv.Detections", taken: list[Rect]) -> None:
        """``#id class conf`` on the track's colour, placed by :func:`place_labels` (most confident first)."""
        import cv2

        font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, self._label_scale, self._label_thickness
        texts = track_labels(detections)
        pad = max(2, int(round(4 * scale)))
        sizes = []
        for text in texts:
            (tw, th), base = cv2.getTextSize(text, font, scale, thick)
            sizes.append((tw + 2 * pad, th + base + 2 * pad))
        conf = detections.confidence if detections.confidence is not None else np.zeros(len(detections))
        order = np.argsort(-np.asarray(conf), kind="stable")
        rects = place_labels(detections.xyxy[order], [sizes[i] for i in order], (canvas.shape[1], canvas.shape[0]), taken)
        h, w = canvas.shape[:2]
        for i, (x1, y1, x2, y2) in zip(order, rects):
            colour = self._palette.by_idx(int(detections.tracker_id[i])).as_bgr()
            cv2.rectangle(canvas, (x1, y1), (x2 - 1, y2 - 1), colour, -1)
            luminance = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2]
            ink = (0, 0, 0) if luminance > 150 else (255, 255, 255)
            (_, th), base = cv2.getTextSize(texts[i], font, scale, thick)
            # Shrink the text of a label wider than the frame instead of cutting it.
            fit = min(1.0, (x2 - x1 - 2 * pad) / max(1, sizes[i][0] - 2 * pad))
            cv2.putText(canvas, texts[i], (x1 + pad, min(h - 1, y1 + pad + th)), font, scale * fit, ink, thick, cv2.LINE_AA)

    def _hud_rect(self, canvas: np.ndarray, lines: list[str]) -> tuple[Rect, int, list[float]]:
        """The HUD panel (bottom-left), its line height and each line's shrink factor."""
        import cv2

        font = cv2.FONT_HERSHEY_SIMPLEX
        scale, thick = self._hud_scale, self._hud_thickness
        h, w = canvas.shape[:2]
        sizes = [cv2.getTextSize(line, font, scale, thick) for line in lines]
        line_h = max(th + base for (_, th), base in sizes) + 6
        # On a small frame a line wider than the frame is shrunk to fit, not cut at the edge;
        # the others keep their size.
        fits = [min(1.0, (w - 16) / max(1, tw)) for (tw, _), _ in sizes]
        width = min(w, int(max(tw * f for ((tw, _), _), f in zip(sizes, fits))) + 16)
        height = min(h, line_h * len(lines) + 8)
        return (0, h - height, width, h), line_h, fits

    def _draw_hud(self, canvas: np.ndarray, lines: list[str], layout: tuple[Rect, int, list[float]]) -> None:
        """Text on a darkened panel in the bottom-left corner."""
        import cv2

        font = cv2.FONT_HERSHEY_SIMPLEX
        (x1, top, width, h), line_h, fits = layout
        region = canvas[top:h, 0:width]
        region[:] = (region * 0.4).astype(np.uint8)
        for i, (line, fit) in enumerate(zip(lines, fits)):
            y = top + 4 + line_h * (i + 1) - 6
            line_thick = self._hud_thickness if fit == 1.0 else 1
            cv2.putText(canvas, line, (8, y), font, self._hud_scale * fit, (255, 255, 255), line_thick, cv2.LINE_AA)


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


def timestamp_rect(canvas: np.ndarray, when: "datetime") -> Rect:
    """The band :func:`draw_timestamp` darkens at the top left (x1, y1, x2, y2), for label placement."""
    import cv2

    text = timestamp_text(when)
    h, w = canvas.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw1, th1), _ = cv2.getTextSize(text, font, 1.0, 2)
    scale = min(max(10, h / 24) / th1, (w - 12) / max(1, tw1))
    thick = max(1, int(round(scale * 1.5)))
    (tw, th), base = cv2.getTextSize(text, font, scale, thick)
    pad = max(3, th // 3)
    return (0, 0, min(w, tw + 2 * pad), min(h, th + base + 2 * pad))
