"""Tiled inference: the tile rule, the size-aware merge (synthetic boxes), the wrapper, one real frame."""

from __future__ import annotations

import numpy as np
import pytest

from vidtrack.config import DetectorConfig
from vidtrack.detection.base import make_detections
from vidtrack.detection.tiling import (
    OVERLAP,
    TiledDetector,
    merge_tiled,
    parse_polygon,
    parse_tiles,
    plan_tiles,
)
from vidtrack.errors import OptionError

NAMES = {0: "person", 1: "car"}


def dets(rows: list[tuple[float, float, float, float, float, int]]):
    """``sv.Detections`` from rows of x1, y1, x2, y2, confidence, class."""
    data = np.asarray(rows, np.float32).reshape(-1, 6)
    return make_detections(data[:, :4], data[:, 4], data[:, 5].astype(int), NAMES)


# -- the tile rule ---------------------------------------------------------------------


def test_auto_tiles_a_1080p_frame_with_overlapping_tiles_that_cover_it() -> None:
    tiles = plan_tiles((1080, 1920), 640, "auto")
    assert len(tiles) == 6  # N = floor(1920 / 640) = 3 along the width, 2 rows
    side = tiles[0, 2] - tiles[0, 0]
    assert side == 768  # 1920 / (3 - 2 * 0.25)
    covered = np.zeros((1080, 1920), bool)
    for x1, y1, x2, y2 in tiles:
        covered[y1:y2, x1:x2] = True
    assert covered.all()
    xs = sorted({int(t[0]) for t in tiles})
    assert all(side - (b - a) >= OVERLAP * side - 1 for a, b in zip(xs, xs[1:]))


def test_auto_leaves_frames_near_the_model_input_alone_and_n_is_explicit() -> None:
    assert len(plan_tiles((480, 640), 640, "auto")) == 0
    assert len(plan_tiles((480, 640), 640, "off")) == 0
    assert len(plan_tiles((480, 640), 640, "2")) == 4
    assert len(plan_tiles((2160, 3840), 640, "auto")) == 24


def test_a_region_is_tiled_alone() -> None:
    quarter = parse_polygon("0,0 0.5,0 0.5,0.5 0,0.5")
    tiles = plan_tiles((1080, 1920), 640, "auto", [quarter])
    assert tiles.tolist() == [[0, 0, 960, 540]]
    ell = parse_polygon("0,0 1000,0 1000,100 100,100 100,1000 0,1000")  # an L: a 2x2 grid's bottom-right tile misses it
    assert len(plan_tiles((1080, 1920), 640, "2", [ell])) == 3


@pytest.mark.parametrize("value", ["many", "1.5", "40", "-2"])
def test_bad_tiles_values_are_one_line_errors(value: str) -> None:
    with pytest.raises(OptionError) as info:
        DetectorConfig(tiles=value)
    assert "\n" not in str(info.value) and "--tiles" in str(info.value)


@pytest.mark.parametrize("value", ["0,0 1,1", "a,b c,d e,f", "0,0 1 2,2 3,3"])
def test_bad_regions_are_one_line_errors(value: str) -> None:
    with pytest.raises(OptionError, match="--tile-region"):
        DetectorConfig(tile_regions=(value,))


def test_tiles_values_normalise() -> None:
    assert [parse_tiles(v) for v in (None, "AUTO", "off", 1, "3")] == ["off", "auto", "off", "off", "3"]


# -- the merge -------------------------------------------------------------------------

FRAME = (1000, 1000)
# two tiles side by side sharing x 400..600
TWO = np.array([[0, 0, 600, 1000], [400, 0, 1000, 1000]])
GAIN = 640 / 1000  # full-frame model-input pixels per frame pixel


def test_an_object_cut_by_a_tile_border_becomes_one_box() -> None:
    # a 30 px object at x 585..615: tile 0 sees its left part ending at its edge (600), tile 1 sees it whole
    left = dets([(585, 100, 600, 130, 0.6, 0)])
    right = dets([(585, 100, 615, 130, 0.8, 0)])
    merged = merge_tiled(dets([]), [left, right], TWO, FRAME, GAIN)
    assert merged.xyxy.tolist() == [[585, 100, 615, 130]]


def test_duplicates_from_overlapping_tiles_collapse() -> None:
    a = dets([(450, 200, 480, 240, 0.7, 0), (450, 600, 480, 640, 0.7, 1)])
    b = dets([(451, 201, 481, 241, 0.9, 0)])
    merged = merge_tiled(dets([]), [a, b], TWO, FRAME, GAIN)
    assert len(merged) == 2  # the car is another class: kept
    person = merged[merged.class_id == 0]
    assert person.confidence.tolist() == pytest.approx([0.9])


def test_a_large_object_seen_whole_in_the_full_frame_keeps_its_full_frame_box() -> None:
    full = dets([(300, 100, 700, 900, 0.9, 0)])
    # tile 0 cuts it at x=600; tile 1 cuts it at x=400 and also finds a part (its head) inside it
    left = dets([(300, 100, 598, 900, 0.8, 0)])
    right = dets([(402, 100, 700, 900, 0.8, 0), (450, 100, 550, 220, 0.5, 0)])
    merged = merge_tiled(full, [left, right], TWO, FRAME, GAIN)
    assert merged.xyxy.tolist() == [[300, 100, 700, 900]]


def test_a_small_object_takes_the_tile_box_and_the_best_confidence() -> None:
    full = dets([(100, 100, 122, 130, 0.9, 0)])  # 30 px -> 19 model px in the full view
    tile = dets([(101, 101, 121, 131, 0.4, 0)])
    merged = merge_tiled(full, [tile, dets([])], TWO, FRAME, GAIN)
    assert merged.xyxy.tolist() == [[101, 101, 121, 131]]
    assert merged.confidence.tolist() == pytest.approx([0.9])


def test_full_frame_objects_and_new_small_ones_are_all_kept() -> None:
    full = dets([(10, 10, 300, 500, 0.8, 1)])
    tile = dets([(700, 700, 712, 730, 0.3, 0)])
    merged = merge_tiled(full, [dets([]), tile], TWO, FRAME, GAIN)
    assert sorted(merged.class_id.tolist()) == [0, 1] and merged.confidence[0] == pytest.approx(0.8)


# -- the wrapper -----------------------------------------------------------------------


class BlobDetector:
    """Finds bright squares, but (like a real model) only those at least 8 px in its 640 px input."""

    class_names = NAMES
    max_in_flight = 2

    def __init__(self) -> None:
        self.batches: list[int] = []

    def warmup(self, image_hw: tuple[int, int]) -> None:
        pass  # nothing to prepare

    def detect(self, image: np.ndarray):
        return self.detect_many([image])[0]

    def detect_many(self, images):
        import cv2

        self.batches.append(len(images))
        out = []
        for image in images:
            gain = 640 / max(image.shape[:2])
            small = cv2.resize(image[:, :, 0], None, fx=gain, fy=gain, interpolation=cv2.INTER_AREA)
            count, _, stats, _ = cv2.connectedComponentsWithStats((small > 100).astype(np.uint8))
            rows = [
                (x / gain, y / gain, (x + w) / gain, (y + h) / gain, 0.9, 0)
                for x, y, w, h, _ in stats[1:count]
                if min(w, h) >= 8
            ]
            out.append(dets(rows))
        return out


def test_tiled_detector_finds_small_objects_and_reports_its_tiles() -> None:
    frame = np.zeros((1080, 1920, 3), np.uint8)
    frame[100:500, 100:400] = 255  # large: seen by the full frame
    small = [(1000 + 60 * i, 800) for i in range(5)]
    for x, y in small:
        frame[y : y + 16, x : x + 16] = 255  # 16 px -> 5 px at full scale: too small for the full view
    inner = BlobDetector()
    plain = inner.detect(frame)
    assert len(plain) == 1
    tiled = TiledDetector(inner, DetectorConfig(model="x", tiles="auto"), 640)
    found = tiled.detect(frame)
    assert found.metadata["tiles"] == 6
    assert len(found) == 6
    large = found.xyxy[found.xyxy[:, 0] < 500]
    assert len(large) == 1 and large[0].tolist() == pytest.approx([100, 100, 400, 500], abs=3)
    assert sorted(inner.batches[-2:]) == [3, 4]  # 1 full frame + 6 tiles in 2 batches, one per request


def test_untiled_frames_pass_straight_through() -> None:
    inner = BlobDetector()
    tiled = TiledDetector(inner, DetectorConfig(model="x", tiles="auto"), 640)
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[10:50, 10:50] = 255
    assert tiled.detect(frame).metadata["tiles"] == 0 and inner.batches == [1]


# -- one real frame --------------------------------------------------------------------


@pytest.mark.realdata
def test_tiles_keep_the_confident_untiled_boxes_and_add_small_ones(real_model: str) -> None:
    import av

    from conftest import video_path
    from vidtrack.detection import load_detector
    from vidtrack.detection.tiling import _pairwise_iou_ioa

    with av.open(str(video_path("people_street_1080p.mp4"))) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="bgr24")
    detector = load_detector(DetectorConfig(model=real_model, tiles="2"))
    tiled = detector.detect(frame)
    plain = detector.inner.detect(frame)  # the wrapped detector alone: the untiled pass
    assert tiled.metadata["tiles"] == 2
    confident = plain[plain.confidence >= 0.5]
    assert len(confident) >= 3
    iou, _ = _pairwise_iou_ioa(confident.xyxy, tiled.xyxy)
    same = confident.class_id[:, None] == tiled.class_id[None, :]
    assert (np.where(same, iou, 0).max(axis=1) >= 0.5).all()  # every confident box is still there
    iou_all, _ = _pairwise_iou_ioa(tiled.xyxy, plain.xyxy)
    matched = np.where(tiled.class_id[:, None] == plain.class_id[None, :], iou_all, 0).max(axis=1) >= 0.5
    new = tiled[~matched]
    heights = new.xyxy[:, 3] - new.xyxy[:, 1]
    assert len(new) >= 3 and np.median(heights) < 100  # and new, small ones


def test_the_hud_shows_tiles_per_frame_only_when_tiling() -> None:
    from vidtrack.overlay import HudInfo

    assert HudInfo(fps=12.0, tiles=6).lines()[0].endswith("6 tiles")
    assert "tiles" not in HudInfo(fps=12.0).lines()[0]
