"""Fingerprint of every tracker output, to prove a speed change changed no result bit.

Runs the tracker over the seven MOT15 sequences at ``--subsample`` 1, 2 and 3 with three
configurations, through each public entry point (``step``, ``update_arrays``, ``update``
and ``update_all`` on ``sv.Detections``), on both per-frame paths (plain-Python small
frames, and the numpy path forced with ``SMALL_PAIRS = 0``), plus the synthetic scenes of
``tests/tracking/test_small_path.py`` (NaN scores, degenerate boxes, confusable classes,
duplicates). Every returned array is hashed with its dtype and shape; one SHA-256 per
case and one over all is printed. Run it before and after a change: equal digests mean
equal outputs, to the last bit.

    PYTHONPATH=src .venv/bin/python benchmarks/tracker_outputs_hash.py [MOT_ROOT]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import supervision as sv

import vidtrack.tracking.tracker as tracker_module
from vidtrack.evaluation import find_sequences, load_sequence
from vidtrack.tracking import IoUTracker, TrackerConfig

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "assets" / "mot" / "MOT15" / "train"

CONFIGS = {
    "default": TrackerConfig(),
    "min_hits1": TrackerConfig(min_hits=1),
    "raw_nobuffer": TrackerConfig(smooth_boxes=False, iou_buffer=0.0),
}


def _feed(digest: "hashlib._Hash", *arrays: object) -> None:
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        # Object arrays (class names) hold pointers: hash their values instead.
        digest.update(repr(a.tolist()).encode() if a.dtype == object else a.tobytes())


def _feed_detections(digest: "hashlib._Hash", d: sv.Detections) -> None:
    _feed(digest, d.xyxy, d.confidence, d.class_id, d.tracker_id)
    for key in sorted(d.data):
        digest.update(key.encode())
        _feed(digest, d.data[key])


def run_case(frames: list, rate: float, config: TrackerConfig, entry: str) -> str:
    """Hash of every output of one entry point over one sequence's frames."""
    tracker = IoUTracker(config, frame_rate=rate)
    digest = hashlib.sha256()
    for boxes, scores, classes, detections in frames:
        if entry == "step":
            det_index, keys, ids = tracker.step(boxes, scores, classes)
            _feed(digest, det_index, keys, ids, tracker.last_boxes, scores[det_index], classes[det_index])
            _feed(digest, tracker.last_adopted)  # the hindsight rows' adoptions (tracking.hindsight)
        elif entry == "update_arrays":
            _feed(digest, *tracker.update_arrays(boxes, scores, classes))
        elif entry == "update":
            _feed_detections(digest, tracker.update(detections))
        else:
            _feed_detections(digest, tracker.update_all(detections))
    return digest.hexdigest()


def mot_frames(path: Path, subsample: int) -> tuple[list, float]:
    seq = load_sequence(path, subsample=subsample)
    frames = [
        (b, s, c, sv.Detections(xyxy=b.astype(np.float32), confidence=s.astype(np.float32), class_id=c.astype(int)))
        for b, s, c in zip(seq.boxes, seq.scores, seq.classes)
    ]
    return frames, seq.frame_rate


def synthetic_frames(seed: int) -> list:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tracking"))
    from test_small_path import scene

    out = []
    names = {0.0: "person", 2.0: "car", 7.0: "truck", -1.0: "bus"}
    for b, s, c in scene(seed):
        ids = np.where(c < 0, 5, c).astype(int)
        data = {"class_name": np.array([names[v] for v in c.tolist()], dtype=object)}
        out.append((b, s, c, sv.Detections(xyxy=b.copy(), confidence=s.copy(), class_id=ids, data=data)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mot_root", nargs="?", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--quick", action="store_true", help="K=1 only, default config, small path only")
    args = parser.parse_args()
    overall = hashlib.sha256()
    subsamples = (1,) if args.quick else (1, 2, 3)
    configs = {"default": CONFIGS["default"]} if args.quick else CONFIGS
    paths = (("small", tracker_module.SMALL_PAIRS),) if args.quick else (("small", tracker_module.SMALL_PAIRS), ("numpy", 0))
    sequences = find_sequences(args.mot_root)
    cases = []
    for k in subsamples:
        loaded = [mot_frames(p, k) for p in sequences]
        for cname, config in configs.items():
            for entry in ("step", "update_arrays", "update", "update_all"):
                for pname, small in paths:
                    if pname == "numpy" and (k != 1 or entry not in ("step", "update")):
                        continue
                    tracker_module.SMALL_PAIRS = small
                    case = hashlib.sha256()
                    for frames, rate in loaded:
                        case.update(run_case(frames, rate, config, entry).encode())
                    cases.append((f"MOT15 K={k} {cname:13s} {entry:13s} {pname}", case.hexdigest()))
    tracker_module.SMALL_PAIRS = paths[0][1]
    if not args.quick:
        synth_configs = [
            TrackerConfig(),
            TrackerConfig(min_hits=1, smooth_boxes=False, low_iou_threshold=0.1, high_score_rank=0.5),
            TrackerConfig(min_score_rank=0.2, new_track_gate=3.0, iou_buffer=0.6, max_age=0.3),
            TrackerConfig(min_hits=4, new_track_gate=1.0, new_track_score_rank=0.6, position_gain=0.3),
        ]
        scenes = [synthetic_frames(seed) for seed in range(6)]
        for n, config in enumerate(synth_configs):
            for entry in ("step", "update", "update_all"):
                case = hashlib.sha256()
                for frames in scenes:
                    case.update(run_case(frames, 15.0, config, entry).encode())
                cases.append((f"synthetic config{n} {entry}", case.hexdigest()))
    for name, digest in cases:
        overall.update(digest.encode())
        print(f"{digest[:16]}  {name}")
    print(f"ALL {overall.hexdigest()}")


if __name__ == "__main__":
    main()
