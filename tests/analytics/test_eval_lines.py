"""``vidtrack eval --line``: the ground-truth crossing definition and the printed totals."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_ROOT, shared_path
from vidtrack.analytics import Segment
from vidtrack.evaluation import true_crossings


def test_true_crossings_follow_the_definition(tmp_path: Path):
    # Line y=100 across a 200-px-wide frame; rows frame,id,x,y,w,h,conf (bottom-centre = x+w/2, y+h).
    rows = [
        # id 1 goes down across the line twice (counts once "in"), then up once ("out").
        (1, 1, 40, 0, 20, 90, 1), (2, 1, 40, 5, 20, 90, 1), (3, 1, 40, 10, 20, 90, 1), (4, 1, 40, 0, 20, 90, 1),
        (5, 1, 40, 20, 20, 90, 1), (6, 1, 40, -10, 20, 90, 1),
        # id 2 is past the line only in a row with confidence 0 (ignored): nothing.
        (1, 2, 100, 0, 20, 90, 1), (2, 2, 100, 20, 20, 90, 0), (3, 2, 100, 0, 20, 90, 1),
        # id 3 crosses beside the segment (x=300 > 200): nothing; id 4 jumps over it between
        # two observations 5 frames apart: "in".
        (1, 3, 290, 0, 20, 90, 1), (2, 3, 290, 30, 20, 90, 1),
        (1, 4, 150, 0, 20, 50, 1), (6, 4, 150, 80, 20, 50, 1),
    ]
    gt = tmp_path / "gt.txt"
    gt.write_text("".join(",".join(str(v) for v in r) + ",-1,-1,-1\n" for r in rows))
    assert true_crossings(gt, Segment((0.0, 100.0), (200.0, 100.0))) == (2, 1)


def test_eval_line_prints_per_sequence_rows_and_the_total_line():
    root = shared_path("assets", "mot", "MOT15", "train")
    result = subprocess.run(
        [sys.executable, "-m", "vidtrack", "eval", str(root), "--seqs", "TUD-Campus,TUD-Stadtmitte",
         "--line", "0.5,0,0.5,1", "--line", "0,0.6,1,0.6"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"total count error: (\d+) of (\d+) true crossings \((\d+\.\d)%\)", last)
    assert match, last
    error, true = int(match[1]), int(match[2])
    rows = [line for line in result.stdout.splitlines() if re.match(r"│ TUD-", line)]
    assert len(rows) == 4
    cells = [[c.strip() for c in row.strip("│").split("│")] for row in rows]
    assert sum(int(c[1]) + int(c[2]) for c in cells) == true > 0
    assert sum(int(c[5]) for c in cells) == error
    assert float(match[3]) == round(100 * error / true, 1)


def test_an_anchor_exactly_on_the_line_takes_no_side(tmp_path: Path):
    # Line y=100. id 1 steps 90 -> 100 (on the line) -> 110: one crossing, tested between
    # the sided observations either side. id 2 touches the line and goes back: nothing.
    rows = [
        (1, 1, 40, 0, 20, 90, 1), (2, 1, 40, 10, 20, 90, 1), (3, 1, 40, 20, 20, 90, 1),
        (1, 2, 100, 0, 20, 90, 1), (2, 2, 100, 10, 20, 90, 1), (3, 2, 100, 0, 20, 90, 1),
    ]
    gt = tmp_path / "gt.txt"
    gt.write_text("".join(",".join(str(v) for v in r) + ",-1,-1,-1\n" for r in rows))
    ins, outs = true_crossings(gt, Segment((0.0, 100.0), (200.0, 100.0)))
    assert ins + outs == 1
