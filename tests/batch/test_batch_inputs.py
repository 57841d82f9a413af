"""Batch planning without the model: inputs, output names, fingerprints, manifest, report, CLI errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT

from vidtrack.batch.inputs import BatchInputError, check_out_dir, discover
from vidtrack.batch.manifest import Manifest, settings_fingerprint
from vidtrack.batch.report import flat_row, make_row, write_report
from vidtrack.cli.batch_cmd import expand_ray_flag
from vidtrack.errors import OptionError
from vidtrack.options import request_from_options


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "cams"
    _touch(root / "north" / "a.mp4")
    _touch(root / "north" / "notes.txt")
    _touch(root / "south" / "deep" / "b.MKV")
    _touch(root / ".hidden" / "c.mp4")
    _touch(root / "top.avi")
    return root


def test_folder_is_searched_recursively_and_mirrored(archive: Path) -> None:
    videos, folders = discover([str(archive)])
    assert [str(v.rel) for v in videos] == ["top.avi", "north/a.mp4", "south/deep/b.MKV"]
    assert folders == [archive.resolve()]
    out = Path("/out")
    assert videos[1].output_path(out, "output") == out / "north" / "a.mp4"
    assert videos[2].output_path(out, "summary") == out / "south" / "deep" / "b.summary.json"
    partial = videos[1].partial_path(out, "jsonl", "run1")
    assert partial.parent == out / "north" and partial.name.startswith(".partial-run1-")


def test_files_and_globs(archive: Path, tmp_path: Path) -> None:
    videos, folders = discover([str(archive / "top.avi"), str(archive / "*" / "*.mp4")])
    assert [str(v.rel) for v in videos] == ["top.avi", "north/a.mp4"]
    assert folders == []  # a non-recursive glob cannot pick up outputs written below it
    named = _touch(tmp_path / "clip.dat")  # a file named directly is taken whatever its extension
    assert [str(v.rel) for v in discover([str(named)])[0]] == ["clip.dat"]


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda root: [str(_touch(root / "empty" / "readme.txt").parent)], "no videos in folder"),
        (lambda root: [str(root / "missing.mp4")], "no such file or folder"),
        (lambda root: [str(root / "*.nothing")], "no videos match"),
        (lambda root: [str(_touch(root / "x" / "a.mp4")), str(_touch(root / "y" / "a.avi"))], "both write outputs"),
    ],
)
def test_bad_inputs_are_one_line_errors(tmp_path: Path, make, words: str) -> None:
    with pytest.raises(Exception) as info:
        discover(make(tmp_path))
    assert words in str(info.value) and "\n" not in str(info.value)


def test_out_dir_must_not_be_inside_an_input_or_hold_one(archive: Path) -> None:
    videos, folders = discover([str(archive)])
    with pytest.raises(BatchInputError, match="inside the input folder"):
        check_out_dir(archive / "results", videos, folders)
    with pytest.raises(BatchInputError, match="inside OUT_DIR"):
        check_out_dir(archive.parent, discover([str(archive / "top.avi")])[0], [])
    assert check_out_dir(archive.parent / "results", videos, folders) == (archive.parent / "results").resolve()


def test_ray_flag_takes_an_optional_address(tmp_path: Path) -> None:
    assert expand_ray_flag(["batch", "in", "--ray"]) == ["batch", "in", "--ray="]
    assert expand_ray_flag(["batch", "--ray", "in", "-o", "o"]) == ["batch", "--ray=", "in", "-o", "o"]
    assert expand_ray_flag(["batch", "--ray", "10.0.0.5:6379", "in"]) == ["batch", "--ray=10.0.0.5:6379", "in"]
    assert expand_ray_flag(["batch", "--ray", "ray://head:10001"]) == ["batch", "--ray=ray://head:10001"]
    assert expand_ray_flag(["batch", "--ray", "auto", "x"]) == ["batch", "--ray=auto", "x"]
    existing = _touch(tmp_path / "cam:1234")  # an input that looks like an address stays an input
    assert expand_ray_flag(["batch", "--ray", str(existing)])[1] == "--ray="


def test_fingerprint_follows_settings_not_paths(tmp_path: Path) -> None:
    def fp(**options) -> str:
        return settings_fingerprint(request_from_options(["x.mp4"], {"model": "m.pt", **options}))

    base = fp(output=tmp_path / "a.mp4", jsonl=tmp_path / "a.jsonl")
    assert base == fp(output=tmp_path / "elsewhere.mp4", jsonl=tmp_path / "b.jsonl")
    assert base == fp(output="a.mp4", jsonl="a.jsonl", conf=0.25)  # the default spelled out
    assert base != fp(output="a.mp4", jsonl="a.jsonl", conf=0.4)
    assert base != fp(output="a.mp4", jsonl="a.jsonl", max_age=10)
    assert base != fp(jsonl="a.jsonl")  # no video any more


def test_manifest_keeps_the_last_record_and_survives_a_cut_line(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path)
    manifest.append({"rel": "a.mp4", "status": "failed", "fingerprint": "f"})
    manifest.append({"rel": "a.mp4", "status": "done", "fingerprint": "f"})
    manifest.append({"rel": "b.mp4", "status": "done", "fingerprint": "f"})
    manifest.close()
    with open(tmp_path / "manifest.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"rel": "b.mp4", "status": "fa')  # a kill in the middle of a write
    again = Manifest(tmp_path)
    assert again.get("a.mp4")["status"] == "done" and again.get("b.mp4")["status"] == "done"
    again.compact()
    assert len((tmp_path / "manifest.jsonl").read_text().splitlines()) == 2


def test_report_flattens_counts_for_the_csv(tmp_path: Path) -> None:
    summary = {
        "frames": 10, "duration": 1.0, "fps": 10.0, "processing_fps": 20.0,
        "tracks": {"person": 2}, "tags": {"person": 90},
        "lines": {"gate": {"in": 3, "out": 1}}, "zones": {"lot": {"visits": 4}},
    }
    row = make_row(Path("/a/b.mp4"), "b.mp4", "done", summary=summary, outputs=["b.mp4"])
    flat = flat_row(row)
    assert flat["tracks.person"] == 2 and flat["lines.gate.in"] == 3 and flat["zones.lot.visits"] == 4
    failed = make_row(Path("/a/c.mp4"), "c.mp4", "failed", error="cannot open")
    csv_path, jsonl_path = write_report(tmp_path, [row, failed])
    header, first, second = csv_path.read_text().splitlines()
    assert "lines.gate.out" in header.split(",") and second.startswith("/a/c.mp4,c.mp4,failed,cannot open")
    assert [json.loads(line)["status"] for line in jsonl_path.read_text().splitlines()] == ["done", "failed"]


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vidtrack", *args], capture_output=True, text=True, cwd=PROJECT_ROOT,
        env=os.environ.copy(), timeout=timeout,
    )


def test_config_file_options_apply_under_explicit_ones(tmp_path: Path) -> None:
    from vidtrack.batch.driver import check_options

    config = tmp_path / "site.yaml"
    config.write_text("conf: 0.6\nmax-age: 12\njsonl: ignored.jsonl\nline: ['0.5,0,0.5,1:gate']\n")
    kinds = ["jsonl", "summary"]
    merged, fingerprint = check_options({"config": str(config), "max_age": 40, "model": "m.pt"}, kinds)
    assert merged["conf"] == 0.6 and merged["max_age"] == 40 and "jsonl" not in merged and merged["line"]
    same, again = check_options({"conf": 0.6, "max_age": 40, "model": "m.pt", "line": merged["line"]}, kinds)
    assert again == fingerprint
    assert check_options({"config": str(config), "model": "m.pt"}, kinds)[1] != fingerprint
    config.write_text("max-age: lots\n")  # coerced by the option table, blamed on the file and key
    with pytest.raises(OptionError, match=re.escape(f"{config}: key 'max_age': --max-age 'lots' is not a number")):
        check_options({"config": str(config), "model": "m.pt"}, kinds)


@pytest.mark.parametrize("case", ["no videos", "out inside input", "unreachable ray", "reserved option", "bad config"])
def test_cli_bad_input_is_one_line_exit_2_nothing_written(case: str, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    _touch(inputs / "readme.txt")
    out = tmp_path / "out"
    if case == "no videos":
        args, words = [str(inputs), "-o", str(out)], "no videos in folder"
    elif case == "out inside input":
        _touch(inputs / "a.mp4")
        out = inputs / "out"
        args, words = [str(inputs), "-o", str(out)], "inside the input folder"
    elif case == "unreachable ray":
        _touch(inputs / "a.mp4")
        args, words = [str(inputs), "-o", str(out), "--ray", "127.0.0.1:9"], "cannot reach the Ray cluster"
    elif case == "reserved option":
        _touch(inputs / "a.mp4")
        args, words = [str(inputs), "-o", str(out), "--jsonl", "x.jsonl"], "No such option"
    else:
        _touch(inputs / "a.mp4")
        config = _touch(tmp_path / "site.yaml", b"max_aeg: 3\n")
        args, words = [str(inputs), "-o", str(out), "--config", str(config)], "unknown key"
    result = _cli("batch", *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr
    assert not out.exists()


@pytest.mark.parametrize("counts", [{"workers": 0}, {"workers": -2}, {"cores_per_worker": 0}])
def test_worker_counts_below_one_are_refused(counts: dict, tmp_path: Path) -> None:
    from vidtrack.batch.driver import run_batch
    from vidtrack.errors import OptionError

    _touch(tmp_path / "in" / "a.mp4")
    with pytest.raises(OptionError, match="out of range"):
        run_batch([tmp_path / "in"], tmp_path / "out", {"model": "m.pt"}, **counts)
    assert not (tmp_path / "out").exists()


def test_a_call_from_a_spawned_worker_says_to_add_a_main_guard(tmp_path: Path, monkeypatch) -> None:
    import multiprocessing

    from vidtrack.batch.driver import run_batch
    from vidtrack.errors import OptionError

    _touch(tmp_path / "in" / "a.mp4")
    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", True, raising=False)
    with pytest.raises(OptionError) as error:
        run_batch([tmp_path / "in"], tmp_path / "out", {"model": "m.pt"})
    assert '__name__ == "__main__"' in error.value.fix
    assert not (tmp_path / "out").exists()


def test_out_dir_lock_is_exclusive_and_leaves_no_file(tmp_path) -> None:
    from vidtrack.batch.manifest import LOCK_NAME, OutDirLock
    from vidtrack.errors import VidtrackError

    first = OutDirLock(tmp_path)
    first.acquire()
    with pytest.raises(VidtrackError, match="another batch is writing"):
        OutDirLock(tmp_path).acquire()
    first.release()
    assert not (tmp_path / LOCK_NAME).exists()
    again = OutDirLock(tmp_path)
    again.acquire()  # the next batch takes a fresh lock
    again.release()
    again.release()  # idempotent


def test_events_files_only_with_lines_or_zones() -> None:
    from vidtrack.batch.driver import output_kinds

    assert "events" not in output_kinds(True)
    assert "events" not in output_kinds(True, {"conf": 0.3, "line": None})
    assert "events" in output_kinds(False, {"zone": ["0,0,1,0,1,1"]}) and "output" not in output_kinds(False)


def test_skipped_rows_say_why_and_how_to_redo(capsys) -> None:
    from vidtrack.cli.batch_report import print_batch_table

    print_batch_table([{"rel": "a.mp4", "status": "skipped", "frames": 10}], Path("/results"))
    text = " ".join(capsys.readouterr().err.split())
    assert "same settings" in text and "--overwrite" in text
