"""Redaction: blur, pixelate or fill objects of chosen classes and fixed regions, failing closed.

The :class:`Redactor` works on the frame *before* anything is drawn or written, so the
video file, the ``--show`` window and the web view only ever see redacted pixels.

Fail closed: a redacted object stays redacted when the detector misses it. Boxes come
from three places each frame, all padded by ``padding`` of their size on every side:

1. every raw detection of a redacted class (tracked or not, so a person is hidden from
   the first frame, before the tracker confirms the track);
2. every track of a redacted class not seen this frame but seen within ``hold_frames``
   frames, at its predicted box (last box moved on at its last per-frame velocity), padded
   a further ``padding`` per missed frame;
3. raw detections of a redacted class that no track took, held in place for
   ``hold_frames`` frames.

Static regions (``--redact-region`` polygons) are redacted on every frame. OpenCV is
imported when the first frame is redacted; deciding *what* to redact needs numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from vidtrack.analytics.geometry import Polygon, Spec, specs
from vidtrack.errors import OptionError, check_option
from vidtrack.labels import class_names as row_class_names

REDACT_MODES = ("blur", "pixelate", "fill")


@dataclass(frozen=True)
class RedactConfig:
    """What is redacted and how (nothing by default)."""

    classes: tuple[str, ...] = ()  # class names (or ids) to redact, e.g. ("person",)
    regions: tuple[Spec, ...] = ()  # polygons always redacted (pixels or fractions)
    mode: str = "blur"  # blur | pixelate | fill
    # Frames a redacted object stays redacted after its last detection. Raise: safer through
    # missed detections; stale blurs linger longer.
    hold_frames: int = 5
    # Extra margin on each side, as a fraction of the box size. Raise: safer; more is hidden.
    padding: float = 0.15
    labels: bool = False  # draw labels over redacted objects

    def __post_init__(self) -> None:
        if self.mode not in REDACT_MODES:
            raise OptionError(f"--redact-mode {self.mode!r} is unknown", f"use {', '.join(REDACT_MODES)}")
        if self.hold_frames < 0:
            raise OptionError(f"--redact-hold {self.hold_frames} is negative", "use frames, e.g. 5")
        check_option(0 <= self.padding <= 2, "redaction padding", self.padding, "use a fraction 0-2, e.g. 0.15")

    @classmethod
    def from_options(
        cls,
        classes: str | Iterable[Any] | None = None,
        regions: Iterable[Any] | None = None,
        mode: str | None = None,
        hold_frames: int | None = None,
        labels: bool | None = None,
    ) -> "RedactConfig":
        """From run option values (``redact``, ``redact_region``, ``redact_mode``, ``redact_hold``, ``redact_labels``)."""
        names: tuple[str, ...] = ()
        if classes is not None:
            parts = classes.split(",") if isinstance(classes, str) else [str(c) for c in classes]
            names = tuple(p.strip() for p in parts if p.strip())
            if not names:
                raise OptionError("--redact names no class", "give class names such as person, or omit it")
        return cls(
            classes=names,
            regions=specs(regions, "--redact-region", 3),
            **({"mode": mode} if mode is not None else {}),
            **({"hold_frames": int(hold_frames)} if hold_frames is not None else {}),
            **({"labels": bool(labels)} if labels is not None else {}),
        )

    @property
    def active(self) -> bool:
        """True when redaction has anything to do: some class or region is given."""
        return bool(self.classes or self.regions)

    def check_classes(self, names: Mapping[int, str]) -> None:
        """Raise :class:`OptionError` for a class the model does not have (names or ids)."""
        known = {str(v) for v in names.values()} | {str(k) for k in names}
        for c in self.classes:
            if c not in known:
                import difflib

                close = difflib.get_close_matches(c, [str(v) for v in names.values()], n=1)
                hint = f"did you mean {close[0]!r}?" if close else "use class names of the model, e.g. person"
                raise OptionError(f"--redact class {c!r} is not a class of this model", hint)


@dataclass
class _Held:
    box: np.ndarray  # xyxy pixels at the last sighting
    velocity: np.ndarray  # xyxy pixels per frame
    missed: int = 0


class Redactor:
    """Decides which boxes to hide each frame and hides them (one instance per source)."""

    def __init__(self, config: RedactConfig, class_names: Mapping[int, str] | None = None) -> None:
        self.config = config
        wanted = set(config.classes)
        self._ids = {int(k) for k, v in (class_names or {}).items() if v in wanted or str(k) in wanted}
        self._names = wanted
        self._tracks: dict[int, _Held] = {}
        self._loose: list[_Held] = []
        self._region_size: tuple[int, int] | None = None
        self._region_mask: np.ndarray | None = None
        self._region_polygons: list[Polygon] = []

    def _selected(self, detections: Any) -> np.ndarray:
        n = len(detections)
        if n == 0 or not self._names:
            return np.zeros(n, bool)
        by_name = np.isin(np.asarray(row_class_names(detections), dtype=str), list(self._names))
        by_id = np.isin(np.asarray(detections.class_id), list(self._ids)) if detections.class_id is not None else by_name
        return by_name | by_id

    def boxes(self, raw: Any, tracked: Any) -> tuple[np.ndarray, np.ndarray]:
        """Padded boxes to hide this frame (M,4 pixels) and which rows of ``tracked`` are hidden (N,) bool."""
        cfg = self.config
        chosen_raw = self._selected(raw)
        chosen_tracked = self._selected(tracked)
        out: list[np.ndarray] = []
        raw_xyxy = np.asarray(raw.xyxy, dtype=np.float64).reshape(-1, 4)
        out.extend(self._pad(b, cfg.padding) for b in raw_xyxy[chosen_raw])
        seen: set[int] = set()
        used_raw: set[int] = set()
        if len(tracked) and tracked.tracker_id is not None:
            det_index = tracked.data.get("det_index") if tracked.data else None
            xyxy = np.asarray(tracked.xyxy, dtype=np.float64).reshape(-1, 4)
            for i in np.flatnonzero(chosen_tracked):
                tid = int(tracked.tracker_id[i])
                seen.add(tid)
                if det_index is not None:
                    used_raw.add(int(det_index[i]))
                held = self._tracks.get(tid)
                box = xyxy[i]
                if held is None:
                    self._tracks[tid] = _Held(box.copy(), np.zeros(4))
                else:
                    step = (box - held.box) / (held.missed + 1)
                    held.velocity = 0.5 * held.velocity + 0.5 * step
                    held.box, held.missed = box.copy(), 0
                out.append(self._pad(box, cfg.padding))
        for tid in list(self._tracks):
            if tid in seen:
                continue
            held = self._tracks[tid]
            held.missed += 1
            if held.missed > cfg.hold_frames:
                del self._tracks[tid]
                continue
            predicted = held.box + held.velocity * held.missed
            out.append(self._pad(predicted, cfg.padding * (1 + held.missed)))
        kept = []
        for h in self._loose:
            h.missed += 1
            if h.missed <= cfg.hold_frames:
                kept.append(h)
                out.append(self._pad(h.box, cfg.padding * (1 + h.missed)))
        self._loose = kept
        for j in np.flatnonzero(chosen_raw):
            if int(j) not in used_raw:
                self._loose.append(_Held(raw_xyxy[j].copy(), np.zeros(4)))
        hidden = chosen_tracked if not cfg.labels else np.zeros(len(tracked), bool)
        return (np.array(out).reshape(-1, 4), hidden)

    @staticmethod
    def _pad(box: np.ndarray, fraction: float) -> np.ndarray:
        w, h = box[2] - box[0], box[3] - box[1]
        return np.array([box[0] - fraction * w, box[1] - fraction * h, box[2] + fraction * w, box[3] + fraction * h])

    def set_regions(self, polygons: list[Polygon]) -> None:
        """Static regions in pixels (validated by the caller for this frame size)."""
        self._region_polygons = polygons
        self._region_size = None

    def apply(self, image: np.ndarray, boxes: np.ndarray) -> None:
        """Hide ``boxes`` (M,4 pixels, clipped to the image) and the static regions, in place."""
        h, w = image.shape[:2]
        for x1, y1, x2, y2 in np.asarray(boxes).reshape(-1, 4):
            a, b = int(max(0, np.floor(x1))), int(max(0, np.floor(y1)))
            c, d = int(min(w, np.ceil(x2))), int(min(h, np.ceil(y2)))
            if c > a and d > b:
                roi = image[b:d, a:c]
                roi[:] = self._hide(roi)
        if self._region_polygons:
            if self._region_size != (w, h):
                self._region_mask = self._mask(w, h)
                self._region_size = (w, h)
            mask = self._region_mask
            assert mask is not None
            ys, xs = np.nonzero(mask)
            if len(xs):
                a, b, c, d = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
                roi = image[b:d, a:c]
                hidden = self._hide(roi)
                m = mask[b:d, a:c]
                roi[m] = hidden[m]

    def _mask(self, w: int, h: int) -> np.ndarray:
        import cv2

        mask = np.zeros((h, w), np.uint8)
        for poly in self._region_polygons:
            pts = np.round(np.array(poly.points)).astype(np.int32)
            cv2.fillPoly(mask, [pts], 255)
        return mask.astype(bool)

    def _hide(self, roi: np.ndarray) -> np.ndarray:
        """A redacted copy of ``roi``: strong blur (downscale, blur, upscale), big pixels, or black."""
        import cv2

        h, w = roi.shape[:2]
        mode = self.config.mode
        if mode == "fill":
            return np.zeros_like(roi)
        if mode == "pixelate":
            block = max(8, min(w, h) // 6)
            small = cv2.resize(roi, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
            return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        small = cv2.resize(roi, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
        k = 2 * (max(3, min(small.shape[:2]) // 3) // 2) + 1
        small = cv2.GaussianBlur(small, (k, k), 0)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
