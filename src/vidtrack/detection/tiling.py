"""Sliced ("tiled") inference for small objects: a detector wrapper, nothing else changes.

A YOLO model sees a 1920x1080 frame at 640 px, a third of its size, so a person 30 px
tall becomes 10 px and is missed. :class:`TiledDetector` runs the wrapped detector on the
whole frame *and* on overlapping tiles of it (each tile enlarged to the model input), then
merges the two views so that every object is reported once, by the view that sees it best.

The tile rule (:func:`plan_tiles`), for a frame (or a ``--tile-region`` bounding box) whose
longer side is ``L`` pixels and a model input of ``S`` pixels:

- ``N`` tiles along the longer side: ``--tiles N``, or with ``auto`` ``N = floor(L / S)``,
  so each tile is shown to the model at about its own resolution; ``auto`` tiles a frame
  only when ``N >= 2`` (the frame is at least twice the model input), and a region always;
- square tiles of side ``T = L / (N - (N - 1) * OVERLAP)`` (``OVERLAP = 0.25`` of a tile),
  clipped to the frame; the shorter side gets as many tiles as keep that overlap, spread
  evenly. Any object no larger than ``OVERLAP * T`` lies whole inside at least one tile.

The merge (:func:`merge_tiled`), class by class:

1. a tile box that touches an inner edge of its tile (an edge that is not the frame's) is
   a fragment of a cut object and is dropped; so is one longer than ``MAX_TILE_OBJECT`` of
   the tile side (large objects belong to the full-frame view);
2. tile boxes seen twice in overlapping tiles collapse (greedy, IoU > ``DUPLICATE_IOU``
   between boxes of different tiles; within a tile the model's NMS already decided), and a
   tile box mostly inside a much larger box from another tile (a cut part whose edge
   stopped short of the tile border) is dropped;
3. a tile box and a full-frame box of the same object (IoU > ``DUPLICATE_IOU``) become one:
   the full-frame box when the object is at least ``FULL_FRAME_MIN_PX`` model-input pixels
   long in the full-frame view (it sees it whole and well), else the tile box, with the
   higher of the two confidences;
4. a tile box mostly inside (``NESTED_FRACTION``) a full-frame box of the same class that
   is too large for a tile to have seen whole is a part of it, and is dropped.

These constants were chosen on coco128 and one crowded street frame
(``benchmarks/small_objects.py`` prints the resulting AP and nested-pair counts).
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

from vidtrack.config import parse_tiles  # re-exported: the old import path
from vidtrack.detection.base import BatchDetector, FixedInputDetector
from vidtrack.errors import OptionError
from vidtrack.geometry import Points, parse_polygon  # parse_polygon re-exported: the old import path

if TYPE_CHECKING:
    import supervision as sv

    from vidtrack.config import DetectorConfig
    from vidtrack.detection.base import Detector

#: Share of a tile's side that neighbouring tiles overlap. Raise: more tiles, bigger objects
#: fit whole in one tile; lower: fewer tiles, more objects are only seen cut.
OVERLAP = 0.25
#: Tile boxes longer than this share of the tile side are left to the full-frame view.
MAX_TILE_OBJECT = 0.5
#: A tile box edge this close to an inner tile edge (share of the tile side, at least 2 px)
#: means the tile cut the object.
EDGE_MARGIN = 0.01
#: Two boxes of one class overlapping more than this are one object.
DUPLICATE_IOU = 0.5
#: Objects at least this long (model-input pixels, in the full-frame view) keep the
#: full-frame box; smaller ones take the tile's, which sees them enlarged.
FULL_FRAME_MIN_PX = 64.0
#: A tile box this much inside (share of its area) a full-frame box too big for a tile, or a
#: box from another tile ``FRAGMENT_AREA`` times its area, is a part of that object.
NESTED_FRACTION = 0.6
FRAGMENT_AREA = 1.5
#: Most tiles per frame: a guard against ``--tiles 40`` on a 4K stream.
MAX_TILES = 256

def _polygon_pixels(polygon: Points, frame_hw: tuple[int, int]) -> np.ndarray:
    """The polygon in frame pixels, (P, 2) float: fractions are scaled, pixels are clipped."""
    h, w = frame_hw
    points = np.asarray(polygon, dtype=np.float64)
    if points.max() <= 1.0:
        points = points * np.array([w, h], dtype=np.float64)
    return np.clip(points, 0, [w, h])


def _axis_starts(length: int, side: int, overlap: float) -> list[int]:
    """Starts of tiles of ``side`` that cover ``length`` with at least ``overlap`` shared, evenly spread."""
    if length <= side:
        return [0]
    count = math.ceil((length - side) / (side * (1.0 - overlap)) - 1e-9) + 1
    return [round(x) for x in np.linspace(0, length - side, count)]


def tiles_along_long_side(length: int, model_input: int, mode: str, region: bool = False) -> int:
    """``N`` of the tile rule: the number asked for, or ``floor(L / S)`` for ``auto`` (0 = don't tile)."""
    if mode == "off":
        return 0
    if mode == "auto":
        n = length // max(1, model_input)
        return max(1, n) if region else (n if n >= 2 else 0)
    return int(mode)


def plan_tiles(
    frame_hw: tuple[int, int],
    model_input: int,
    mode: str = "auto",
    regions: Sequence[Points] = (),
    overlap: float = OVERLAP,
) -> np.ndarray:
    """Tile boxes ``(K, 4)`` int ``x1, y1, x2, y2`` in frame pixels for one frame size.

    Args:
        frame_hw: frame height and width in pixels.
        model_input: the model's input side in pixels (``S``; 640 for YOLO11n).
        mode: ``"off"``, ``"auto"`` or ``"N"`` (see the module docstring for the rule).
        regions: polygons to tile instead of the whole frame (each one's bounding box is
            tiled with the same rule; tiles that miss the polygon are skipped).
        overlap: share of a tile's side shared with its neighbour.

    Returns an empty ``(0, 4)`` array when nothing is to be tiled.
    """
    h, w = frame_hw
    if mode == "off" or h < 1 or w < 1:
        return np.zeros((0, 4), np.int64)
    areas: list[tuple[int, int, int, int, np.ndarray | None]] = []
    if regions:
        for polygon in regions:
            pts = _polygon_pixels(polygon, frame_hw)
            x1, y1 = np.floor(pts.min(axis=0)).astype(int)
            x2, y2 = np.ceil(pts.max(axis=0)).astype(int)
            if x2 - x1 >= 2 and y2 - y1 >= 2:
                areas.append((x1, y1, x2, y2, pts))
    else:
        areas.append((0, 0, w, h, None))
    tiles: list[tuple[int, int, int, int]] = []
    for x1, y1, x2, y2, pts in areas:
        aw, ah = x2 - x1, y2 - y1
        n = tiles_along_long_side(max(aw, ah), model_input, mode, region=pts is not None)
        if n < 1:
            continue
        side = math.ceil(max(aw, ah) / (n - (n - 1) * overlap))
        tw, th = min(side, aw), min(side, ah)
        for ty in _axis_starts(ah, th, overlap):
            for tx in _axis_starts(aw, tw, overlap):
                box = (x1 + tx, y1 + ty, x1 + tx + tw, y1 + ty + th)
                if pts is None or _rect_meets_polygon(box, pts):
                    tiles.append(box)
    unique = list(dict.fromkeys(tiles))
    if len(unique) > MAX_TILES:
        raise OptionError(f"{len(unique)} tiles per frame is too many", f"use fewer tiles (at most {MAX_TILES})")
    return np.asarray(unique, dtype=np.int64).reshape(-1, 4)


def _rect_meets_polygon(box: tuple[int, int, int, int], pts: np.ndarray) -> bool:
    """True when the rectangle and the polygon overlap (rasterised on a coarse grid)."""
    import cv2

    x1, y1, x2, y2 = box
    scale = 64.0 / max(x2 - x1, y2 - y1)
    mask = np.zeros((max(1, round((y2 - y1) * scale)), max(1, round((x2 - x1) * scale))), np.uint8)
    local = np.round((pts - [x1, y1]) * scale).astype(np.int32)
    cv2.fillPoly(mask, [local], 1)
    return bool(mask.any())


def _pairwise_iou_ioa(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IoU ``(A, B)`` and the share of each ``a`` box's area inside each ``b`` box ``(A, B)``."""
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
        ioa = np.where(area_a[:, None] > 0, inter / area_a[:, None], 0.0)
    return iou, ioa


def cut_by_tile(xyxy: np.ndarray, tile: np.ndarray, frame_hw: tuple[int, int], margin: float) -> np.ndarray:
    """Mask of boxes (frame pixels) touching an edge of ``tile`` that is not an edge of the frame."""
    h, w = frame_hw
    x1, y1, x2, y2 = (float(v) for v in tile)
    cut = np.zeros(len(xyxy), bool)
    if x1 > 0:
        cut |= xyxy[:, 0] <= x1 + margin
    if y1 > 0:
        cut |= xyxy[:, 1] <= y1 + margin
    if x2 < w:
        cut |= xyxy[:, 2] >= x2 - margin
    if y2 < h:
        cut |= xyxy[:, 3] >= y2 - margin
    return cut


@dataclass(frozen=True)
class MergeSettings:
    """The merge's knobs (defaults: the module constants; see the module docstring)."""

    max_tile_object: float = MAX_TILE_OBJECT
    edge_margin: float = EDGE_MARGIN
    duplicate_iou: float = DUPLICATE_IOU
    full_frame_min_px: float = FULL_FRAME_MIN_PX
    nested_fraction: float = NESTED_FRACTION


def _cross_tile_duplicates(
    xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray, tile: np.ndarray, settings: "MergeSettings"
) -> np.ndarray:
    """Indices of tile boxes kept once copies and fragments seen by *other* tiles are removed.

    Boxes of one tile were already separated by the model's own NMS (at its ``--iou``), so
    two close people in one tile stay two. Across tiles, (a) of two boxes of one class with
    IoU above ``duplicate_iou`` the more confident stays (greedy), and (b) a box mostly
    inside (``nested_fraction`` of its area) a more confident box at least ``FRAGMENT_AREA``
    times larger from another tile is the part of an object that its tile cut without the cut touching
    the tile edge; the other tile saw it whole.
    """
    order = np.argsort(-conf, kind="stable")
    box, kind, where = xyxy[order], cls[order], tile[order]
    iou, ioa = _pairwise_iou_ioa(box, box)
    other = (kind[:, None] == kind[None, :]) & (where[:, None] != where[None, :])
    clash = (iou > settings.duplicate_iou) & other
    alive = np.ones(len(order), bool)
    for i in range(len(order)):
        if alive[i]:
            alive[i + 1 :] &= ~clash[i, i + 1 :]
    area = np.clip(box[:, 2] - box[:, 0], 0, None) * np.clip(box[:, 3] - box[:, 1], 0, None)
    part = other & (ioa > settings.nested_fraction) & (area[None, :] >= FRAGMENT_AREA * area[:, None])
    part &= np.triu(np.ones_like(part), 1).T.astype(bool)  # the whole is the more confident one
    alive &= ~(part & alive[None, :]).any(axis=1)
    return np.sort(order[alive])


def merge_tiled(
    full: "sv.Detections",
    tile_detections: Sequence["sv.Detections"],
    tiles: np.ndarray,
    frame_hw: tuple[int, int],
    full_gain: float,
    settings: MergeSettings = MergeSettings(),
) -> "sv.Detections":
    """Merge the full-frame detections with per-tile detections (already in frame pixels).

    Args:
        full: the full-frame pass, ``xyxy`` in frame pixels.
        tile_detections: one ``sv.Detections`` per row of ``tiles``, in frame pixels.
        tiles: ``(K, 4)`` tile boxes in frame pixels (from :func:`plan_tiles`).
        frame_hw: frame height and width in pixels.
        full_gain: model-input pixels per frame pixel in the full-frame pass (0.333 for a
            1920-wide frame at 640); decides which view "sees an object well".
        settings: merge thresholds.

    Returns one ``sv.Detections`` (class names kept), most confident first; see the module
    docstring for the rules.
    """
    import supervision as sv

    kept_tiles: list[sv.Detections] = []
    origin: list[np.ndarray] = []
    for index, (dets, tile) in enumerate(zip(tile_detections, tiles)):
        if not len(dets):
            continue
        side = float(max(tile[2] - tile[0], tile[3] - tile[1]))
        margin = max(2.0, settings.edge_margin * side)
        size = np.maximum(dets.xyxy[:, 2] - dets.xyxy[:, 0], dets.xyxy[:, 3] - dets.xyxy[:, 1])
        ok = ~cut_by_tile(dets.xyxy, tile, frame_hw, margin) & (size <= settings.max_tile_object * side)
        if ok.any():
            kept_tiles.append(dets[ok])
            origin.append(np.full(int(ok.sum()), index))
    if not kept_tiles:
        return full
    tiled = sv.Detections.merge(kept_tiles) if len(kept_tiles) > 1 else kept_tiles[0]
    tile_of = np.concatenate(origin)
    tiled = tiled[_cross_tile_duplicates(tiled.xyxy, tiled.confidence, tiled.class_id, tile_of, settings)]
    if not len(full):
        return tiled
    biggest_tile = float(np.max(np.maximum(tiles[:, 2] - tiles[:, 0], tiles[:, 3] - tiles[:, 1])))
    iou, ioa = _pairwise_iou_ioa(tiled.xyxy, full.xyxy)
    same = tiled.class_id[:, None] == full.class_id[None, :]
    iou = np.where(same, iou, 0.0)
    full_size = np.maximum(full.xyxy[:, 2] - full.xyxy[:, 0], full.xyxy[:, 3] - full.xyxy[:, 1])
    keep_tile = np.ones(len(tiled), bool)
    keep_full = np.ones(len(full), bool)
    tile_conf = tiled.confidence.copy()
    full_conf = full.confidence.copy()
    # 4. parts of objects too large for any tile
    too_big = full_size > settings.max_tile_object * biggest_tile
    keep_tile &= ~((ioa >= settings.nested_fraction) & same & too_big[None, :]).any(axis=1)
    # 3. one object seen by both views: match greedily, best overlap first
    pairs = np.argwhere((iou > settings.duplicate_iou) & keep_tile[:, None])
    if len(pairs):
        order = np.argsort(-iou[pairs[:, 0], pairs[:, 1]], kind="stable")
        used_t: set[int] = set()
        used_f: set[int] = set()
        for t, f in pairs[order]:
            if t in used_t or f in used_f:
                continue
            used_t.add(int(t))
            used_f.add(int(f))
            best = max(tile_conf[t], full_conf[f])
            if full_size[f] * full_gain >= settings.full_frame_min_px:
                keep_tile[t] = False
                full_conf[f] = best
            else:
                keep_full[f] = False
                tile_conf[t] = best
    parts = []
    if keep_full.any():
        chosen = full[keep_full]
        chosen.confidence = full_conf[keep_full].astype(np.float32)
        parts.append(chosen)
    if keep_tile.any():
        chosen = tiled[keep_tile]
        chosen.confidence = tile_conf[keep_tile].astype(np.float32)
        parts.append(chosen)
    merged = sv.Detections.merge(parts) if len(parts) > 1 else parts[0]
    return merged[np.argsort(-merged.confidence, kind="stable")]


def _shift(detections: "sv.Detections", dx: float, dy: float) -> "sv.Detections":
    """Move tile-pixel boxes into frame pixels (in place; returns the same object)."""
    if len(detections):
        detections.xyxy = detections.xyxy + np.array([dx, dy, dx, dy], dtype=detections.xyxy.dtype)
    return detections


class TiledDetector:
    """A :class:`~vidtrack.detection.base.Detector` that adds tiles to another detector's full-frame pass.

    Thread-safe when the wrapped detector is. Each ``detect`` sends the full frame and its
    tiles to the wrapped detector's ``detect_many`` (one batched model call per group of
    same-sized inputs). A frame detected alone is split into ``max_in_flight`` batches run
    at once, so every infer request works on it; when the pipeline already keeps
    ``max_in_flight`` frames here, each frame goes as one batch. Detectors without
    ``detect_many`` get one ``detect`` call per tile.
    The returned detections carry ``metadata["tiles"]``, the number of tiles used.

    Args:
        inner: the detector that sees the full frame and each tile.
        config: the run's detector settings (``tiles``, ``tile_regions``, ``imgsz``,
            ``max_det``, ``single``).
        model_input: the model's input side in pixels (default ``config.imgsz``).
    """

    def __init__(self, inner: "Detector", config: "DetectorConfig", model_input: int | None = None) -> None:
        self.inner = inner
        self.config = config
        self.class_names = inner.class_names
        self.max_in_flight = max(1, int(inner.max_in_flight))
        self.model_input = int(model_input or config.imgsz)
        self.mode = parse_tiles(config.tiles)
        self.regions = tuple(config.tile_regions)
        if self.regions and self.mode == "off":
            self.mode = "auto"
        self.settings = MergeSettings()
        self._plans: dict[tuple[int, int], np.ndarray] = {}
        self._lock = threading.Lock()
        self._active = 0  # detect calls running now
        self._pool = ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="tiles")

    def tiles_for(self, frame_hw: tuple[int, int]) -> np.ndarray:
        """The ``(K, 4)`` tile boxes used for frames of ``frame_hw`` (cached per size)."""
        plan = self._plans.get(frame_hw)
        if plan is None:
            plan = plan_tiles(frame_hw, self.model_input, self.mode, self.regions)
            with self._lock:
                self._plans[frame_hw] = plan
        return plan

    def _chunks(self, count: int, workers: int) -> list[list[int]]:
        """Split ``count`` inputs (0 = full frame, then tiles) into one batch per worker."""
        per = math.ceil(count / max(1, workers))
        return [list(range(i, min(count, i + per))) for i in range(0, count, per)]

    def warmup(self, frame_hw: tuple[int, int]) -> None:
        """Compile the model for this frame size's full-frame and tile batches (if the backend compiles)."""
        warm = self.inner.warmup  # declared by the Detector protocol (a no-op where nothing compiles)
        tiles = self.tiles_for(frame_hw)
        warm(frame_hw)
        if not len(tiles):
            return
        x1, y1, x2, y2 = (int(v) for v in tiles[0])
        sizes = {len(c) for workers in {1, self.max_in_flight} for c in self._chunks(len(tiles) + 1, workers)}
        for batch in sorted(sizes):
            try:
                warm((y2 - y1, x2 - x1), batch)
            except TypeError:  # a backend whose warmup knows no batches
                warm((y2 - y1, x2 - x1))

    def _run(self, images: list[np.ndarray]) -> list["sv.Detections"]:
        if isinstance(self.inner, BatchDetector):
            return self.inner.detect_many(images)
        return [self.inner.detect(image) for image in images]

    def detect(self, image: np.ndarray) -> "sv.Detections":
        """Detect in one BGR uint8 frame: full frame + tiles, merged (boxes in frame pixels)."""
        from vidtrack.detection.base import keep_most_confident

        frame_hw = (int(image.shape[0]), int(image.shape[1]))
        tiles = self.tiles_for(frame_hw)
        if not len(tiles):
            detections = self.inner.detect(image)
            detections.metadata["tiles"] = 0
            return detections
        crops = [image] + [image[y1:y2, x1:x2] for x1, y1, x2, y2 in tiles]
        with self._lock:
            self._active += 1
            # Requests not taken by other frames in flight (the pipeline keeps max_in_flight
            # frames here at once): alone, a frame's batch is split over every request, for
            # latency; in a busy pipeline each frame sends one batch, the fewest model calls.
            workers = max(1, self.max_in_flight // self._active)
        try:
            chunks = self._chunks(len(crops), workers)
            if len(chunks) == 1:
                results = self._run(crops)
            else:
                futures = [self._pool.submit(self._run, [crops[i] for i in chunk]) for chunk in chunks]
                results = [d for future in futures for d in future.result()]
        finally:
            with self._lock:
                self._active -= 1
        full, per_tile = results[0], results[1:]
        for dets, (x1, y1, _, _) in zip(per_tile, tiles):
            _shift(dets, float(x1), float(y1))
        gain = self.model_input / max(frame_hw)
        merged = merge_tiled(full, per_tile, tiles, frame_hw, gain, self.settings)
        merged = merged[: self.config.max_det]
        if self.config.single:
            merged = keep_most_confident(merged)
        merged.metadata["tiles"] = len(tiles)
        return merged


def wrap_for_tiles(inner: "Detector", config: "DetectorConfig") -> "Detector":
    """``inner`` itself when tiling is off, else a :class:`TiledDetector` around it.

    The wrapped detector must not apply ``single`` itself (the caller loads it with
    ``single=False``; the merge applies it once at the end).
    """
    if parse_tiles(config.tiles) == "off" and not config.tile_regions:
        return inner
    return TiledDetector(inner, config, inner.model_input if isinstance(inner, FixedInputDetector) else None)


def inner_config(config: "DetectorConfig") -> "DetectorConfig":
    """The settings for the detector that a :class:`TiledDetector` wraps (``single`` off)."""
    return replace(config, single=False)
