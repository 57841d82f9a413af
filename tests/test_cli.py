"""The command line as a user meets it: instant help, one-line errors, nothing half-written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, make_clip

PY = sys.executable


def vidtrack(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [PY, "-m", "vidtrack", *args], capture_output=True, text=True, cwd=cwd or PROJECT_ROOT, env=full_env,
        timeout=timeout,
    )


HEAVY = ("torch", "ultralytics", "cv2", "openvino", "onnxruntime", "supervision", "trackeval", "scipy", "av",
         "fastapi", "starlette", "uvicorn", "multipart", "python_multipart", "PIL", "httpx")


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [PY, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=True,
    ).stdout.split()
    return {name for name in out if name.split(".")[0] in HEAVY}


def test_import_is_light() -> None:
    assert _loaded_after("import vidtrack") == set()


def test_help_is_light_and_lists_commands() -> None:
    heavy = _loaded_after(
        "import contextlib, io\nfrom vidtrack.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()): main(['--help'])"
    )
    assert heavy == set()
    result = vidtrack("--help")
    assert result.returncode == 0
    for command in ("run", "demo", "eval", "bench", "serve"):
        assert command in result.stdout


def test_import_writes_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    subprocess.run([PY, "-c", "import vidtrack, vidtrack.cli"], cwd=tmp_path, env=env, check=True)
    assert list(tmp_path.iterdir()) == []


def _assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "clip.avi", frames=10)


def _mp4_clip(path: Path, frames: int = 30) -> Path:
    """A small synthetic MP4 (OpenCV's mp4v), written the usual way: its index at the end."""
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (160, 120))
    for i in range(frames):
        writer.write(np.full((120, 160, 3), (i * 8) % 255, np.uint8))
    writer.release()
    return path


def _bad_input_cases(tmp: Path, clip: Path) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    empty = tmp / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp / "text.mp4"
    text.write_text("not a video\n" * 50)
    whole = _mp4_clip(tmp / "whole.mp4")
    cut = tmp / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # index (moov) at the end: cut off
    fake_model = tmp / "fake.pt"
    fake_model.write_text("not weights")
    return {
        "missing source": (["run", str(tmp / "nope.mp4")], ("no such file",)),
        "zero bytes": (["run", str(empty)], ("empty",)),
        "not a video": (["run", str(text)], ("cannot open",)),
        "truncated mp4": (["run", str(cut)], ("truncated",)),
        "unknown scheme": (["run", "gopher://example/video"], ("unknown URL scheme",)),
        "missing model": (["run", str(clip), "--model", str(tmp / "none" / "model.pt")], ("no model at", "--model")),
        "not a model": (["run", str(clip), "--model", str(fake_model)], ("not a model", "--model")),
        "conf out of range": (["run", str(clip), "--conf", "1.5"], ("--conf 1.5", "between")),
        "conf not a number": (["run", str(clip), "--conf", "high"], ("--conf", "--help")),
        "missing output dir": (["run", str(clip), "-o", str(tmp / "no" / "dir" / "out.mp4")], ("does not exist", "mkdir")),
        "unwritable output": (["run", str(clip), "-o", "/proc/vidtrack-out.mp4"], ("cannot create files",)),
        "bad extension": (["run", str(clip), "-o", str(tmp / "out.gif")], ("unsupported extension",)),
        "video into a folder": (["run", str(clip), "-o", str(tmp)], ("is a folder", "clip.mp4")),
        "video into an image": (["run", str(clip), "-o", str(tmp / "still.jpg")], ("is an image", ".mp4")),
    }


CASES = [
    "missing source", "zero bytes", "not a video", "truncated mp4", "unknown scheme", "missing model",
    "not a model", "conf out of range", "conf not a number", "missing output dir", "unwritable output",
    "bad extension", "video into a folder", "video into an image",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case: str, tmp_path: Path, clip: Path) -> None:
    """Inputs, outputs and options are checked before the model is loaded: no real model needed."""
    args, words = _bad_input_cases(tmp_path, clip)[case]
    out_dir = tmp_path / "outputs"
    out_dir.mkdir()
    if "-o" not in args:
        args = [*args, "-o", str(out_dir / "out.mp4"), "--jsonl", str(out_dir / "out.jsonl")]
    if "--model" not in args:  # never reached: the bad input is reported first
        args = [*args, "--model", str(tmp_path / "never_loaded.pt")]
    result = vidtrack(*args)
    _assert_one_line_error(result, *words)
    assert list(out_dir.iterdir()) == []


def test_unknown_class_name(clip: Path, real_model: str, tmp_path: Path) -> None:
    result = vidtrack("run", str(clip), "--model", real_model, "--classes", "person,unicorn", "-o", str(tmp_path / "o.mp4"))
    _assert_one_line_error(result, "unknown class 'unicorn'")
    assert not (tmp_path / "o.mp4").exists()
    typo = vidtrack("run", str(clip), "--model", real_model, "--classes", "persn")
    _assert_one_line_error(typo, "unknown class 'persn'", "did you mean 'person'?")


@pytest.mark.realdata
def test_photos_in_photos_out(real_model: str, tmp_path: Path) -> None:
    """-o photo.jpg writes an annotated photo of the input's size; -o folder/ one per input photo."""
    import cv2

    from conftest import shared_path

    photos = tmp_path / "photos"
    photos.mkdir()
    names = ["000000000009.jpg", "000000000025.jpg"]
    for name in names:
        (photos / name).symlink_to(shared_path("assets/coco128/images/train2017", name))
    one = vidtrack("run", str(photos / names[0]), "--model", real_model, "-o", str(tmp_path / "one.png"), "-q")
    assert one.returncode == 0, one.stderr
    written, original = cv2.imread(str(tmp_path / "one.png")), cv2.imread(str(photos / names[0]))
    assert written.shape == original.shape and not (written == original).all()  # annotated, same size
    many = vidtrack("run", str(photos), "--model", real_model, "-o", str(tmp_path / "out"), "-q")
    assert many.returncode == 0, many.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    two = vidtrack("run", str(photos), "--model", real_model, "-o", str(tmp_path / "two.jpg"))
    _assert_one_line_error(two, "2 photos", "folder")


@pytest.mark.realdata
def test_a_run_that_saves_nothing_says_how_to(real_model: str, clip: Path) -> None:
    result = vidtrack("run", str(clip), "--model", real_model)
    assert result.returncode == 0, result.stderr
    hint = result.stderr.strip().splitlines()[-1]
    assert "saved nothing" in hint and "-o" in hint and "--jsonl" in hint and "--show" in hint


@pytest.mark.realdata
def test_config_paths_are_relative_to_the_file_and_bad_values_name_it(real_model: str, clip: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    config = site / "site.yaml"
    config.write_text(f"model: {real_model}\njsonl: tracks.jsonl\n")
    result = vidtrack("run", str(clip), "--config", str(config), "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (site / "tracks.jsonl").exists() and not (tmp_path / "tracks.jsonl").exists()
    config.write_text("conf: 2\n")
    bad = vidtrack("run", str(clip), "--config", str(config), cwd=tmp_path)
    _assert_one_line_error(bad, str(config), "conf")


def test_undownloadable_model_name(clip: Path, tmp_path: Path) -> None:
    result = vidtrack("run", str(clip), "--model", "yolo11n.pt", cwd=tmp_path, env={"VIDTRACK_MODEL": ""})
    _assert_one_line_error(result, "could not be downloaded", "VIDTRACK_MODEL")


def test_model_from_environment_is_used(clip: Path, tmp_path: Path) -> None:
    result = vidtrack("run", str(clip), "-q", env={"VIDTRACK_MODEL": str(tmp_path / "missing_model")})
    _assert_one_line_error(result, "no model at", str(tmp_path / "missing_model"))


def test_end_of_run_table_fits_80_columns_without_wrapping(capsys) -> None:
    """Each source's row stays one line at 80 columns; stage timings are their own line."""
    from types import SimpleNamespace

    from vidtrack.cli.report import print_summary

    summary = {
        "source": "people_street_1080p.mp4", "frames": 302, "processing_fps": 22.6,
        "tracks": {"person": 14, "bicycle": 2, "suitcase": 1},
        "timings_ms": {"decode": 7.3, "detect": 42.0, "track": 0.4, "draw": 3.1, "encode": 6.2},
        "frame_age_ms": {"p50": None, "p95": None},
    }
    summary["frame_age_ms"] = {"p50": 2117.0, "p95": 2771.0}  # measured for files too: shown for live runs only
    print_summary(SimpleNamespace(summaries=[summary], outputs=[], folders=[]), width=80)  # type: ignore[arg-type]
    lines = capsys.readouterr().err.splitlines()
    assert not any("frame age" in line for line in lines)
    assert max(len(line) for line in lines) <= 80
    row = [line for line in lines if "people_street_1080p.mp4" in line]
    assert len(row) == 1 and "302" in row[0] and "14 person, 2 bicycle, 1 suitcase" in row[0]
    assert any("ms/frame by stage: decode 7.3 detect 42.0" in line for line in lines)


def test_end_of_run_says_what_the_detector_skipped(capsys) -> None:
    """With --motion-gate/--detect-every the table's output names frames detected, gated and strided
    (from the summary's ``detector`` block); a full-rate run (no block) prints no such line."""
    from types import SimpleNamespace

    from vidtrack.cli.report import print_summary

    base = {"source": "cam.mp4", "frames": 302, "processing_fps": 40.0, "tracks": {"person": 3},
            "timings_ms": {"decode": 3.0, "detect": 31.0}}
    gated = dict(base, detector={"frames_detected": 125, "frames_gated": 20, "frames_strided": 157, "detections_per_s": 8.26})
    print_summary(SimpleNamespace(summaries=[gated], outputs=[], folders=[]), width=200)  # type: ignore[arg-type]
    text = capsys.readouterr().err
    assert "detector: 125/302 frames detected (41%), 20 gated, 157 strided, 8.3 detections/s" in text
    assert "detect 31.0/run" in text
    print_summary(SimpleNamespace(summaries=[base], outputs=[], folders=[]), width=200)  # type: ignore[arg-type]
    text = capsys.readouterr().err
    assert "detector:" not in text and "/run" not in text and "detect 31.0" in text


def test_end_of_run_table_shows_no_rate_for_one_photo(capsys) -> None:
    """One frame has no first-to-last interval: the fps cell is "-", never a made-up 0.0."""
    from types import SimpleNamespace

    from vidtrack.cli.report import print_summary

    photo = {"source": "000000000009.jpg", "frames": 1, "processing_fps": 0.0, "tracks": {"bowl": 4}}
    clip = {"source": "clip.mp4", "frames": 30, "processing_fps": 12.5, "tracks": {"person": 1}}
    print_summary(SimpleNamespace(summaries=[photo, clip], outputs=[], folders=[]), width=80)  # type: ignore[arg-type]
    lines = capsys.readouterr().err.splitlines()
    photo_row = next(line for line in lines if "000000000009.jpg" in line)
    clip_row = next(line for line in lines if "clip.mp4" in line)
    assert "0.0" not in photo_row and " - " in photo_row
    assert "12.5" in clip_row


def test_end_of_run_names_the_folders_it_filled(capsys, tmp_path: Path) -> None:
    """--snapshots and --clips folders are named with their file count beside the files written."""
    from types import SimpleNamespace

    from vidtrack.cli.report import print_summary

    snaps, clips, video = tmp_path / "snaps", tmp_path / "clips", tmp_path / "out.mp4"
    snaps.mkdir()
    clips.mkdir()
    for name in ("track-1.jpg", "track-1-frame.jpg", "event-3.jpg"):
        (snaps / name).write_bytes(b"x")
    (clips / "clip-000000.mp4").write_bytes(b"x")
    video.write_bytes(b"x")
    print_summary(SimpleNamespace(summaries=[], outputs=[video], folders=[snaps, clips]), width=200)  # type: ignore[arg-type]
    text = capsys.readouterr().err
    assert f"wrote {video}" in text
    assert f"wrote {snaps}/ (3 files)" in text and f"wrote {clips}/ (1 file)" in text


def test_help_keeps_square_brackets() -> None:
    """Rich reads ``[word]`` as markup and drops it: help texts must escape it (``\\[``)."""
    out = vidtrack("run", "--help-all", env={"COLUMNS": "250"})
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "[HOST:]PORT" in text
    assert "mqtt://[user:pass@]HOST:PORT/TOPIC" in text and "'vidtrack[notify]'" in text


@pytest.mark.parametrize("flag", ["-h", "--help-all"])
def test_run_help_reads_at_80_columns(flag: str) -> None:
    """Every option's help, from the option table, fits an 80-column terminal whole: no line is
    cut short with an ellipsis (a wide metavar or flag squeezes a panel's help column)."""
    out = vidtrack("run", flag, env={"COLUMNS": "80"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert not [line for line in lines if "…" in line]
