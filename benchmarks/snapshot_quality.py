"""Snapshot quality on a real clip: is each track's snapshot its best (largest, uncut) view?

Runs ``vidtrack run VIDEO --snapshots DIR --jsonl F --summary S`` (or reads the outputs of
such a run with ``--outputs DIR``) and prints, for each track of a class, the snapshot
box's area as a share of the track's largest box not cut by the frame edge, and whether
an edge-cut box was chosen while an uncut one existed. Issue 22's target, on
``pedestrians_pets_h264.avi``: every person track >= 90 %, never edge-cut when avoidable.

    python benchmarks/snapshot_quality.py ../shared/assets/videos/pedestrians_pets_h264.avi
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

EDGE_PX = 1.0  # as vidtrack.sinks.snapshots.EDGE_PX


def measure(jsonl: Path, summary: dict, cls: str = "person") -> list[dict]:
    """One row per track of ``cls`` with a snapshot: ratio to the largest uncut box, edge-cut flags."""
    import cv2

    snaps = summary["snapshots"]["tracks"]
    folder = Path(summary["snapshots"]["folder"])
    frame = cv2.imread(str(folder / next(iter(snaps.values()))["frame_file"]))
    height, width = frame.shape[:2]
    largest: dict[str, float] = {}
    any_uncut: dict[str, bool] = {}
    for line in jsonl.read_text().splitlines():
        for d in json.loads(line)["detections"]:
            if d["track_id"] is None or d["class"] != cls:
                continue
            key = str(d["track_id"])
            cut = d["x"] <= EDGE_PX or d["y"] <= EDGE_PX or d["x"] + d["w"] >= width - EDGE_PX or d["y"] + d["h"] >= height - EDGE_PX
            if not cut:
                largest[key] = max(largest.get(key, 0.0), d["w"] * d["h"])
                any_uncut[key] = True
    rows = []
    for key, snap in snaps.items():
        if snap["class"] != cls:
            continue
        x1, y1, x2, y2 = snap["box"]
        area = (x2 - x1) * (y2 - y1)
        rows.append({
            "track": int(key),
            "ratio": area / largest[key] if key in largest else None,
            "edge_cut": snap["edge_cut"],
            "avoidable_cut": snap["edge_cut"] and any_uncut.get(key, False),
        })
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--cls", default="person")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        cmd = [sys.executable, "-m", "vidtrack", "run", str(args.video), "--snapshots", str(out / "snaps"),
               "--jsonl", str(out / "run.jsonl"), "--summary", str(out / "run.json"), "-q"]
        if args.model:
            cmd += ["--model", args.model]
        subprocess.run(cmd, check=True)
        rows = measure(out / "run.jsonl", json.loads((out / "run.json").read_text()), args.cls)
    ratios = sorted(r["ratio"] for r in rows if r["ratio"] is not None)
    bad = [r for r in rows if r["avoidable_cut"] or (r["ratio"] is not None and r["ratio"] < 0.9)]
    print(f"{len(rows)} {args.cls} tracks with a snapshot")
    if ratios:
        print(f"snapshot area / largest uncut box area: min {ratios[0]:.3f}, median {ratios[len(ratios) // 2]:.3f}")
    print(f"edge-cut snapshots while an uncut box existed: {sum(r['avoidable_cut'] for r in rows)}")
    print(f"tracks below target (< 0.90 or avoidable edge cut): {len(bad)}")
    for r in bad:
        print("  ", r)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
