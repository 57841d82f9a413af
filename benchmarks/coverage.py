"""Coverage of confident detections: how many of the detector's sure boxes end up in a reported track.

Per frame, the detector's boxes at confidence >= 0.5 are matched (greedy, highest IoU
first) to the boxes ``vidtrack run`` reports for that frame, same class, IoU >= 0.5;
coverage is matched / confident, over the whole clip. The detector runs once per clip
(``vidtrack run``'s defaults: ``--conf 0.25``, the model in ``$VIDTRACK_MODEL``); its
boxes, and the camera-motion affines of ``--cmc``, are cached under ``--cache`` so the
tracker can be replayed with other settings in seconds. The replay is the lane's own
sequence of calls: ``CameraMotion.estimate`` -> ``IoUTracker.compensate`` ->
``update_all`` (with the rows a new track adopts one frame back, ``tracking.hindsight``) ->
the look-ahead of ``min_hits - 1`` frames -> ``clip_to_frame``.

    VIDTRACK_MODEL=../shared/assets/models/yolo11n_int8_openvino_model \\
    .venv/bin/python benchmarks/coverage.py [VIDEO ...] [--set iou_buffer=0] [--cmc off]

Prints per clip: confident detections, covered, coverage, reported tracks (fewer for the
same coverage: fewer id switches) and per class; the same after the tracker's "one object,
one box" merge (a confident car box that repeats a stronger truck box on one vehicle, or the
other way round, is not counted: the tracker reports the stronger); and the
coverage with ``--cmc off``, without the ``iou_buffer`` pass and with every class matched
only to its own tracks (no confusable groups) as baselines from the same cached detections.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from vidtrack.tracking import IoUTracker, TrackerConfig
from vidtrack.tracking.iou import greedy_match

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "assets" / "videos"
DEFAULT_VIDEOS = (SHARED / "overpass_traffic_vp8.webm", SHARED / "bikes_moving_camera.mp4")
CONFIDENT = 0.5
MATCH_IOU = 0.5


def detect_clip(video: Path, cache: Path) -> dict[str, np.ndarray]:
    """Per-frame detections (and CMC affines, NaN where none) of ``video``, cached as .npz."""
    key = hashlib.sha1(f"{video.resolve()}:{video.stat().st_size}".encode()).hexdigest()[:12]
    path = cache / f"{video.stem}-{key}.npz"
    if path.is_file():
        return dict(np.load(path))
    import cv2

    import vidtrack
    from vidtrack.motion import CameraMotion

    motion, auto = CameraMotion("on"), CameraMotion("auto")
    rows, affines, auto_affines, seconds = [], [], [], []
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    index = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        raw = vidtrack.detect(image)  # run's detector defaults (--conf 0.25)
        for (x1, y1, x2, y2), c, k in zip(raw.xyxy, raw.confidence, raw.class_id):
            rows.append((index, x1, y1, x2, y2, c, k))
        start = time.perf_counter()
        affine = motion.estimate(image, raw.xyxy)
        seconds.append(time.perf_counter() - start)
        affines.append(np.full((2, 3), np.nan) if affine is None else affine)
        affine = auto.estimate(image, raw.xyxy)
        auto_affines.append(np.full((2, 3), np.nan) if affine is None else affine)
        height, width = image.shape[:2]
        index += 1
    capture.release()
    data = {
        "rows": np.array(rows, dtype=np.float64).reshape(-1, 7),
        "affines": np.array(affines),
        "auto_affines": np.array(auto_affines),
        "frames": np.array(len(affines)),
        "fps": np.array(fps),
        "size": np.array([width, height]),
        "cmc_seconds": np.array(seconds),
    }
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **data)
    return data


def replay(data: dict[str, np.ndarray], config: TrackerConfig, cmc: str, strict: bool = False) -> list[np.ndarray]:
    """The reported (x1,y1,x2,y2,class) rows of every frame, as the lane would report them.

    Classes are matched as ``IoUTracker.update`` matches them from the model's (COCO)
    class names; ``strict``: each class only continues its own tracks (before issue 19's
    second session).
    """
    from vidtrack.detection.torchvision import COCO80
    from vidtrack.tracking.classes import AssociationClasses
    from vidtrack.tracking.lookahead import LookAhead

    association = AssociationClasses()

    replay.ids = set()  # the reported track ids, for the caller to count
    rows = data["rows"]
    n = int(data["frames"])
    width, height = data["size"]
    tracker = IoUTracker(config, frame_rate=float(data["fps"]))
    stage: LookAhead = LookAhead(config.min_hits - 1)
    bounds = np.searchsorted(rows[:, 0], np.arange(n + 1))
    out: list[np.ndarray] = [np.empty((0, 5))] * n
    released = []
    for index in range(n):
        chunk = rows[bounds[index] : bounds[index + 1]]
        affine = data["affines" if cmc == "on" else "auto_affines"][index]
        if cmc != "off" and not np.isnan(affine).any():
            tracker.compensate(affine)
        classes = chunk[:, 6].copy()
        if not strict:
            classes = association(classes, [COCO80[int(k)] for k in classes])
        det_index, keys, ids = tracker.step(chunk[:, 1:5].copy(), chunk[:, 5].copy(), classes)
        boxes = np.column_stack([tracker.last_boxes, chunk[det_index, 6]])
        released.extend(stage.push((index, boxes), keys, ids, tracker.last_adopted))
    released.extend(stage.flush())
    for (index, boxes), ids in released:
        kept = boxes[ids > 0].copy()
        replay.ids.update(ids[ids > 0].tolist())
        kept[:, [0, 2]] = kept[:, [0, 2]].clip(0, width)
        kept[:, [1, 3]] = kept[:, [1, 3]].clip(0, height)
        out[index] = kept
    return out


def coverage(
    data: dict[str, np.ndarray], reported: list[np.ndarray], merged: bool = False
) -> tuple[dict[int, list[int]], int, int]:
    """Per class [confident, covered], and the totals.

    ``merged``: confident boxes the tracker leaves out as a weaker duplicate of another box
    on the same object (a car box and a truck box at IoU >= ``DUPLICATE_IOU``:
    :func:`vidtrack.tracking.tracker.duplicates`) are not counted: one object, one box.
    """
    rows = data["rows"]
    if merged:
        rows = rows[~_duplicate_mask(rows)]
    per_class: dict[int, list[int]] = {}
    bounds = np.searchsorted(rows[:, 0], np.arange(len(reported) + 1))
    for index, boxes in enumerate(reported):
        chunk = rows[bounds[index] : bounds[index + 1]]
        sure = chunk[chunk[:, 5] >= CONFIDENT]
        if not len(sure):
            continue
        pairs = greedy_match(sure[:, 1:5], boxes[:, 0:4], MATCH_IOU, sure[:, 6], boxes[:, 4])
        for k in np.unique(sure[:, 6]).astype(int):
            counts = per_class.setdefault(int(k), [0, 0])
            counts[0] += int(np.count_nonzero(sure[:, 6] == k))
            counts[1] += int(np.count_nonzero(sure[pairs[:, 0], 6] == k)) if len(pairs) else 0
    total = sum(c[0] for c in per_class.values())
    covered = sum(c[1] for c in per_class.values())
    return per_class, total, covered


def _duplicate_mask(rows: np.ndarray) -> np.ndarray:
    """True for each detection row the tracker drops as a weaker same-object duplicate."""
    from vidtrack.detection.torchvision import COCO80
    from vidtrack.tracking.classes import association_class
    from vidtrack.tracking.tracker import duplicates

    mask = np.zeros(len(rows), dtype=bool)
    bounds = np.searchsorted(rows[:, 0], np.arange(int(rows[:, 0].max()) + 2)) if len(rows) else [0]
    for a, b in zip(bounds[:-1], bounds[1:]):
        chunk = rows[a:b]
        groups = [association_class(int(k), COCO80[int(k)]) for k in chunk[:, 6]]
        for i in duplicates(chunk[:, 1:5].tolist(), chunk[:, 5].tolist(), groups):
            mask[a + i] = True
    return mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path, default=list(DEFAULT_VIDEOS))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/vidtrack-coverage"))
    parser.add_argument("--set", action="append", default=[], help="tracker setting NAME=VALUE (repeatable)")
    args = parser.parse_args()
    settings = {}
    for item in args.set:
        name, value = item.split("=", 1)
        settings[name] = type(getattr(TrackerConfig(), name))(value)
    config = TrackerConfig(**settings)
    names = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}
    for video in args.videos:
        data = detect_clip(video, args.cache)
        variants = {
            "vidtrack (these settings)": (config, config.cmc),
            "  same, --cmc off": (config, "off"),
            "  same, --cmc on": (config, "on"),
            "  same, buffer and gate off": (replace(config, iou_buffer=0.0, new_track_gate=0.0), config.cmc),
            "  same, classes strict": (config, config.cmc),
        }
        cmc_ms = 1000 * float(np.median(data["cmc_seconds"])) if len(data["cmc_seconds"]) else 0.0
        print(f"{video.name}: {int(data['frames'])} frames at {float(data['fps']):.2f} fps; "
              f"CMC estimate (--cmc on) median {cmc_ms:.2f} ms/frame")
        for label, (cfg, cmc) in variants.items():
            per_class, total, covered = coverage(data, replay(data, cfg, cmc, strict=label.endswith("strict")))
            tracks = len(replay.ids)
            classes = ", ".join(
                f"{names.get(k, k)} {c[1]}/{c[0]}" for k, c in sorted(per_class.items(), key=lambda kv: -kv[1][0])
            )
            share = 100.0 * covered / total if total else 100.0
            print(f"  {label:28s} {covered:6d} of {total:6d} confident = {share:5.1f}%  {tracks:4d} tracks  ({classes})")
            if label.startswith("vidtrack"):
                per_class, total, covered = coverage(data, replay(data, cfg, cmc), merged=True)
                share = 100.0 * covered / total if total else 100.0
                print(f"  {'  same, one box per object':28s} {covered:6d} of {total:6d} confident = {share:5.1f}%  "
                      "(car+truck duplicates the tracker merges counted once)")


if __name__ == "__main__":
    main()
