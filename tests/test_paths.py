"""OS errors on user-given paths: one line, exit 2, the fix for that errno, nothing written."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from conftest import make_clip
from test_cli import _assert_one_line_error, vidtrack

from vidtrack.errors import ModelError, OutputError, SourceError

LONG = "a" * 300  # one name over the 255-byte limit of ext4, xfs, btrfs, tmpfs...


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "clip.avi", frames=5)


def _cases(tmp: Path, clip: Path) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    (tmp / "loop").symlink_to(tmp / "loop")
    (tmp / "afile").write_text("x")
    (tmp / "notes.txt").write_text("not a model\n")
    out = tmp / "outputs"
    return {
        "long -o": (["run", str(clip), "-o", str(out / f"{LONG}.mp4")], ("File name too long", "255 bytes")),
        "long --jsonl": (["run", str(clip), "--jsonl", str(out / f"{LONG}.jsonl")], ("File name too long",)),
        "long --summary": (["run", str(clip), "--summary", str(out / f"{LONG}.json")], ("File name too long",)),
        "long input": (["run", str(tmp / f"{LONG}.mp4")], ("cannot read source", "File name too long")),
        "input through a loop": (["run", str(tmp / "loop" / "x.mp4")], ("symbolic link",)),
        "output through a loop": (["run", str(clip), "-o", str(tmp / "loop" / "x.mp4")], ("symbolic link",)),
        "input under a file": (["run", str(tmp / "afile" / "x.mp4")], ("Not a directory", "not a folder")),
        "long model": (["run", str(clip), "--model", str(tmp / LONG)], ("cannot read model", "File name too long")),
        "text model": (["run", str(clip), "--model", str(tmp / "notes.txt")], ("not a model", "--model")),
        "huge imgsz": (["run", str(clip), "--imgsz", "100000"], ("--imgsz 100000", "4096")),
    }


CASES = [
    "long -o", "long --jsonl", "long --summary", "long input", "input through a loop", "output through a loop",
    "input under a file", "long model", "text model", "huge imgsz",
]


def _args(case: str, tmp_path: Path, clip: Path) -> tuple[list[str], tuple[str, ...], Path]:
    args, words = _cases(tmp_path, clip)[case]
    out = tmp_path / "outputs"
    out.mkdir()
    if "-o" not in args and "--jsonl" not in args:
        args = [*args, "-o", str(out / "out.mp4"), "--jsonl", str(out / "out.jsonl")]
    if "--model" not in args:  # the path checks come first: this model is never opened
        args = [*args, "--model", str(tmp_path / "unused_model.xml")]
    return args, words, out


@pytest.mark.parametrize("case", CASES)
def test_os_error_on_a_path_is_one_line(case: str, tmp_path: Path, clip: Path, capsys, monkeypatch) -> None:
    """In-process (the CLI's own entry point), so ten cases cost one start-up."""
    from vidtrack.cli import main

    args, words, out = _args(case, tmp_path, clip)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main([*args, "-q"])
    err = capsys.readouterr().err
    _assert_one_line_error(subprocess.CompletedProcess(args, info.value.code, "", err), *words)
    assert "--device" not in err
    assert list(out.iterdir()) == []


def test_name_too_long_from_the_shell(tmp_path: Path, clip: Path) -> None:
    """The issue's command, as a user types it: a 300-byte -o name."""
    args, words, out = _args("long -o", tmp_path, clip)
    _assert_one_line_error(vidtrack(*args, cwd=tmp_path), *words)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.EACCES, ("Permission denied", "permissions")),
        (errno.EROFS, ("Read-only file system", "read-only")),
        (errno.ENOSPC, ("No space left", "disk space")),
    ],
)
def test_check_writable_reports_the_errno(code: int, words: tuple[str, ...], tmp_path: Path, monkeypatch) -> None:
    from vidtrack.sinks import check_writable

    target = tmp_path / "out.mp4"
    target.write_bytes(b"keep")
    real_open = open

    def failing_open(path, *args, **kwargs):
        if Path(path) == target:
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(OutputError) as info:
        check_writable(target)
    for word in words:
        assert word in str(info.value)
    assert target.read_bytes() == b"keep"


def test_unreadable_input_names_the_permission(tmp_path: Path, monkeypatch) -> None:
    from vidtrack.sources import open_source

    video = make_clip(tmp_path / "clip.avi", frames=2)

    def refuse(path, flags, *args):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(SourceError, match="Permission denied.*permissions"):
        open_source(str(video))


def test_any_exception_while_loading_a_model_is_a_model_error(tmp_path: Path, monkeypatch) -> None:
    import vidtrack.detection.ultralytics as backend
    from vidtrack.config import DetectorConfig
    from vidtrack.detection import load_detector

    weights = tmp_path / "weights.onnx"  # auto: through Ultralytics
    weights.write_bytes(b"\0" * 10)

    class Broken:
        def __init__(self, config):
            raise KeyError("model")  # what a broken checkpoint can raise deep inside torch

    monkeypatch.setattr(backend, "UltralyticsDetector", Broken)
    with pytest.raises(ModelError, match=r"weights\.onnx is not a model vidtrack can load \(KeyError"):
        load_detector(DetectorConfig(model=str(weights)))


@pytest.mark.parametrize(
    ("device", "message", "words", "not_words"),
    [
        (None, "Exception from core.cpp:117:\nException from allocator.cpp:79:\nstd::bad_alloc\n\n", ("not enough memory", "std::bad_alloc", "--imgsz"), ("--device",)),
        ("intel:gpu", "Exception from core.cpp:117:\nDevice with \"GPU\" name is not registered", ("GPU", "not registered", "--device"), ("memory",)),
    ],
)
def test_compile_errors_name_the_real_cause(device, message, words, not_words) -> None:
    from vidtrack.config import DetectorConfig
    from vidtrack.detection.openvino import OpenVINODetector, _ov_device

    detector = OpenVINODetector.__new__(OpenVINODetector)  # only the message is under test
    detector.config = DetectorConfig(model="m", device=device, imgsz=640)
    detector.xml = Path("m/yolo.xml")
    detector._device = _ov_device(device)
    text = str(detector._compile_error(RuntimeError(message), (384, 640)))
    for word in words:
        assert word in text
    for word in not_words:
        assert word not in text


def test_runtime_failures_print_one_line_naming_the_cause(capsys) -> None:
    from vidtrack.cli import fail

    exc = RuntimeError("Exception from src/inference/src/cpp/infer_request.cpp:223:\nException from plugin.cpp:54:\nstd::bad_alloc\n\n")
    exit_ = fail(exc, 1)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["error: RuntimeError: std::bad_alloc"]
    assert exit_.exit_code == 1
