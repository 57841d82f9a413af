"""`vidtrack eval` on real MOT15 data: ground truth given as detections scores HOTA > 95."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import shared_path
from vidtrack.errors import OptionError
from vidtrack.evaluation import evaluate, load_sequence
from vidtrack.tracking import RefineConfig, TrackerConfig

SEQS = ("TUD-Campus", "KITTI-17")


def gt_as_detections(tmp_path: Path) -> Path:
    """A MOT root whose det.txt files are the sequences' own ground truth (score 1)."""
    root = tmp_path / "mot"
    for name in SEQS:
        source = shared_path("assets", "mot", "MOT15", "train", name)
        seq = root / name
        (seq / "det").mkdir(parents=True)
        (seq / "gt").mkdir()
        (seq / "gt" / "gt.txt").symlink_to(source / "gt" / "gt.txt")
        (seq / "seqinfo.ini").symlink_to(source / "seqinfo.ini")
        gt = np.loadtxt(source / "gt" / "gt.txt", delimiter=",", ndmin=2)
        gt = gt[gt[:, 6] != 0]
        rows = np.hstack([gt[:, :2] * [1, 0] - [0, 1], gt[:, 2:6], np.ones((len(gt), 1)), -np.ones((len(gt), 3))])
        np.savetxt(seq / "det" / "det.txt", rows, delimiter=",", fmt="%g")
    return root


@pytest.mark.realdata
def test_ground_truth_as_detections_scores_near_perfect(tmp_path: Path) -> None:
    # Equal scores all rank 1.0, so every box is confident under the default ranks. Box
    # smoothing (on by default: +1.5 MOTA on real detections) lags perfect boxes and
    # costs about 5 HOTA here (91.7), so it is switched off, as --raw-boxes does.
    root = gt_as_detections(tmp_path)
    report = evaluate(root, config=TrackerConfig(smooth_boxes=False), out_dir=tmp_path / "out")
    assert sorted(s.name for s in report.sequences) == sorted(SEQS)
    assert report.combined.hota > 95.0, report.combined
    assert report.combined.idf1 > 95.0
    lines = (tmp_path / "out" / "TUD-Campus.txt").read_text().splitlines()
    first = lines[0].split(",")
    assert len(first) == 10 and first[-3:] == ["-1", "-1", "-1"]
    refined = evaluate(root, config=TrackerConfig(smooth_boxes=False), refine=RefineConfig(smooth_window=1))
    assert refined.combined.hota > 95.0


@pytest.mark.realdata
def test_eval_command_prints_table(tmp_path: Path) -> None:
    from vidtrack.cli import app

    root = gt_as_detections(tmp_path)
    result = CliRunner().invoke(app, ["eval", str(root), "--seqs", "TUD-Campus", "--raw-boxes", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "COMBINED" in result.output and "HOTA" in result.output and "frames/s" in result.output
    assert (tmp_path / "o" / "TUD-Campus.txt").is_file()
    row = next(line for line in result.output.splitlines() if "COMBINED" in line)
    hota = float(row.replace("│", " ").split()[2])
    assert hota > 95.0


@pytest.mark.realdata
def test_real_detections_score_in_a_sane_range(tmp_path: Path) -> None:
    root = shared_path("assets", "mot", "MOT15", "train")
    report = evaluate(root, sequences=["TUD-Campus"])
    assert 30.0 < report.combined.hota < 80.0
    assert report.combined.frames == 71


def test_bad_inputs_raise_option_errors(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="not a folder"):
        evaluate(tmp_path / "missing")
    with pytest.raises(OptionError, match="no sequences"):
        evaluate(tmp_path)
    seq = tmp_path / "S1" / "det"
    seq.mkdir(parents=True)
    (seq / "det.txt").write_text("1,-1,0,0,10,10,0.9\n")
    with pytest.raises(OptionError, match="unknown sequence NOPE"):
        evaluate(tmp_path, sequences=["NOPE"])
    with pytest.raises(OptionError, match="gt/gt.txt"):
        evaluate(tmp_path)


def test_eval_command_bad_root_exits_2(tmp_path: Path) -> None:
    from vidtrack.cli import app

    result = CliRunner().invoke(app, ["eval", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "error:" in result.output and "not a folder" in result.output


def test_load_sequence_groups_by_frame_and_filters(tmp_path: Path) -> None:
    seq = tmp_path / "S1"
    (seq / "det").mkdir(parents=True)
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=S1\nseqLength=4\nframeRate=10\n")
    (seq / "det" / "det.txt").write_text("3,-1,1,2,10,20,0.9\n1,-1,0,0,5,5,0.2\n1,-1,5,5,5,5,0.8\n")
    loaded = load_sequence(seq, min_confidence=0.5)
    assert loaded.length == 4 and loaded.frame_rate == 10
    assert [len(s) for s in loaded.scores] == [1, 0, 1, 0]
    np.testing.assert_allclose(loaded.boxes[2], [[1, 2, 11, 22]])


def test_subsample_rows_keeps_every_kth_frame_renumbered() -> None:
    from vidtrack.evaluation import subsample_rows, subsampled_length

    rows = np.array([[f, 1, 0, 0, 1, 1, 1] for f in range(1, 8)], dtype=float)
    assert subsample_rows(rows, 3)[:, 0].tolist() == [1, 2, 3]  # frames 1, 4, 7
    assert subsample_rows(rows, 1) is rows
    assert subsampled_length(7, 3) == 3 and subsampled_length(6, 3) == 2


@pytest.mark.realdata
def test_subsampled_eval_scores_ground_truth_near_perfect(tmp_path: Path) -> None:
    # Ground truth as detections, every 3rd frame: still near perfect when ground truth is
    # subsampled the same way (a wrong renumbering on either side would ruin it).
    root = gt_as_detections(tmp_path)
    report = evaluate(root, sequences=["TUD-Campus"], config=TrackerConfig(smooth_boxes=False), subsample=3)
    assert report.combined.frames == 24  # 71 frames -> 1, 4, ..., 70
    assert report.combined.hota > 90.0, report.combined
    loaded = load_sequence(root / "TUD-Campus", subsample=3)
    assert loaded.frame_rate == pytest.approx(25 / 3) and loaded.length == 24
    with pytest.raises(OptionError, match="--subsample"):
        evaluate(root, subsample=0)
