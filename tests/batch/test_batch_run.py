"""Whole batches with the real model on short ../shared videos: report, resume, SIGKILL, engines agree.

Kept short for CI (two cores): four clips of 50-120 frames, each batch run once and shared
by the tests that read it.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, model_path, video_path

from vidtrack.batch.driver import output_kinds

pytestmark = pytest.mark.realdata

#: Short clips of four containers/codecs (frames: 100, 120, 59, 50).
CLIPS = ("pedestrians_pets_mjpeg.avi", "carphone_176x144.mp4", "overpass_traffic_vp8.webm", "crosswalk_3fps_320x240.mp4")
BAD = ("empty.mp4", "notes.mp4")  # a zero-byte file and a text file named .mp4
#: A counting line and a zone (fractions of the frame), so counts and events are compared too.
ANALYTICS = ("--line", "0,0.5,1,0.5:middle", "--zone", "0,0,0.5,0,0.5,1,0,1:left")
SERVICE_FILES = {"manifest.jsonl", "report.csv", "report.jsonl", ".vidtrack-batch.lock"}


def batch(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vidtrack", "batch", *args, "--model", model_path(), "-q"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={**os.environ, **(env or {})}, timeout=timeout,
    )


def read_report(out: Path) -> dict[str, dict]:
    with open(out / "report.csv", newline="", encoding="utf-8") as handle:
        return {row["rel"]: row for row in csv.DictReader(handle)}


def manifest_records(out: Path) -> list[dict]:
    path = out / "manifest.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def decoded_frames(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def unrecorded_outputs(out: Path) -> list[Path]:
    """Output files (not hidden partials) that no done record of the manifest names."""
    recorded = set()
    for record in manifest_records(out):
        if record["status"] == "done":
            recorded |= set(record["output_sizes"])
    return [
        p for p in out.rglob("*")
        if p.is_file() and p.name not in SERVICE_FILES and not p.name.startswith(".")
        and p.relative_to(out).as_posix() not in recorded
    ]


def per_file_results(out: Path) -> dict[str, tuple]:
    """Per input: JSONL lines (track ids, classes, boxes), tracks and detections per class, events."""
    results = {}
    for clip in CLIPS:
        stem = Path(clip).stem
        summary = json.loads((out / f"{stem}.summary.json").read_text())
        events = out / f"{stem}.events.jsonl"
        results[clip] = (
            (out / f"{stem}.jsonl").read_text(),
            summary["tracks"],
            summary["detections"],
            summary.get("lines"),
            summary.get("zones"),
            events.read_text() if events.exists() else None,
        )
    return results


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("archive")
    for clip in CLIPS:
        os.symlink(video_path(clip), folder / clip)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("not a video\n")
    return folder


@pytest.fixture(scope="module")
def first_run(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("serial") / "out"
    return out, batch(str(archive), "-o", str(out), "--workers", "1", *ANALYTICS)


def test_report_lists_every_input_and_outputs_play(first_run, archive: Path) -> None:
    out, result = first_run
    assert result.returncode == 1, result.stderr  # some files failed, the batch went on
    rows = read_report(out)
    assert sorted(rows) == sorted(CLIPS + BAD)
    for name in BAD:
        assert rows[name]["status"] == "failed" and rows[name]["error"] and "\n" not in rows[name]["error"]
    assert "empty" in rows["empty.mp4"]["error"] and "cannot open" in rows["notes.mp4"]["error"]
    for clip in CLIPS:
        row, stem = rows[clip], Path(clip).stem
        frames = decoded_frames(archive / clip)
        assert row["status"] == "done" and row["error"] == ""
        assert int(row["frames"]) == frames
        assert decoded_frames(out / f"{stem}.mp4") == frames
        assert len((out / f"{stem}.jsonl").read_text().splitlines()) == frames
        assert json.loads((out / f"{stem}.summary.json").read_text())["frames"] == frames
    overpass = rows["overpass_traffic_vp8.webm"]  # counts per class, line counts, zone visits reach the report
    assert int(overpass["tracks.car"]) > 0 and int(overpass["lines.middle.in"]) + int(overpass["lines.middle.out"]) > 0
    assert int(overpass["zones.left.visits"]) > 0
    assert (out / "overpass_traffic_vp8.events.jsonl").read_text().count('"cross"') > 0
    assert not list(out.rglob(".partial-*")) and unrecorded_outputs(out) == []
    assert len((out / "report.jsonl").read_text().splitlines()) == 6


def test_second_run_skips_done_files_and_retries_failures(first_run, archive: Path) -> None:
    out, _ = first_run
    before = {p: p.stat().st_mtime_ns for clip in CLIPS for p in out.glob(Path(clip).stem + ".*")}
    assert len(before) == len(output_kinds(video=True, options={"line": ANALYTICS[1]})) * len(CLIPS)
    records_before = len(manifest_records(out))
    result = batch(str(archive), "-o", str(out), "--workers", "1", *ANALYTICS)
    assert result.returncode == 1, result.stderr
    rows = read_report(out)
    assert {rows[c]["status"] for c in CLIPS} == {"skipped"}
    assert {rows[b]["status"] for b in BAD} == {"failed"}
    assert int(rows["carphone_176x144.mp4"]["frames"]) > 0  # a skipped row keeps its numbers
    assert {p: p.stat().st_mtime_ns for p in before} == before  # outputs untouched
    new = manifest_records(out)[records_before:]
    assert sorted(r["rel"] for r in new) == sorted(BAD) and {r["status"] for r in new} == {"failed"}


def test_sigkill_then_restart_keeps_finished_files_and_redoes_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    os.symlink(video_path("crosswalk_3fps_320x240.mp4"), folder / "a_short.mp4")
    os.symlink(video_path("pedestrians_pets_mjpeg.avi"), folder / "b_long.avi")
    out = tmp_path / "out"
    args = [sys.executable, "-m", "vidtrack", "batch", str(folder), "-o", str(out), "--model", model_path(), "--workers", "1", "-q"]
    process = subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not any(r["status"] == "done" for r in manifest_records(out)):
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "no file finished in time"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    done = [r["rel"] for r in manifest_records(out) if r["status"] == "done"]
    assert done == ["a_short.mp4"]  # killed while the longer file was still running
    assert unrecorded_outputs(out) == []  # nothing looks finished without its record
    # Its outputs are in place, or (killed between its record and the renames) still under their
    # temporary names with the record written: the restart finishes those renames.
    kept = {out / p.name[len(".partial-"):].split("-", 1)[1] if p.name.startswith(".partial-") else p: p.stat().st_mtime_ns
            for p in [*out.glob("a_short.*"), *out.glob(".partial-*-a_short.*")]}
    assert len(kept) == len(output_kinds(video=True))

    result = batch(str(folder), "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = read_report(out)
    assert rows["a_short.mp4"]["status"] == "skipped" and rows["b_long.avi"]["status"] == "done"
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    assert decoded_frames(out / "b_long.mp4") == int(rows["b_long.avi"]["frames"]) > 0
    assert not list(out.rglob(".partial-*")) and unrecorded_outputs(out) == []
    assert not (out / ".vidtrack-batch.lock").exists()  # a clean finish leaves no lock file
    assert not list(out.glob("*.events.jsonl"))  # no lines or zones: no (empty) events files


def test_workers_give_the_same_results_as_serial(first_run, archive: Path, tmp_path: Path) -> None:
    serial, _ = first_run
    out = tmp_path / "out"
    result = batch(str(archive), "-o", str(out), "--workers", "2", "--no-video", *ANALYTICS)
    assert result.returncode == 1, result.stderr
    assert per_file_results(out) == per_file_results(serial)
    assert not list(out.glob("*.mp4"))
    workers = {row["worker"] for row in read_report(out).values() if row["status"] == "done"}
    assert len(workers) == 2  # both processes took files


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: Ray's token authentication, with a token of the test's own (not ~/.ray/auth_token).
RAY_ENV = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": os.urandom(16).hex()}


@pytest.fixture
def ray_head() -> str:
    """A local Ray head node on loopback (2 CPUs, its own temp dir), stopped at the end."""
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="vt-ray-")  # short: Ray's socket paths must fit in 107 bytes
    ray_bin = Path(sys.executable).with_name("ray")
    head = subprocess.Popen(
        [str(ray_bin), "start", "--head", "--num-cpus", "2", "--node-ip-address", "127.0.0.1", "--port", str(port),
         "--temp-dir", temp, "--include-dashboard", "false", "--disable-usage-stats", "--block"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, env={**os.environ, **RAY_ENV},
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert head.poll() is None, "ray start exited"
                assert time.monotonic() < deadline, "the Ray head did not start"
                time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
            try:
                os.killpg(head.pid, sig)
            except ProcessLookupError:
                break
            try:
                head.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        subprocess.run(["pkill", "-KILL", "-s", str(head.pid)], check=False)  # stragglers of this session only
        import shutil

        shutil.rmtree(temp, ignore_errors=True)


def test_ray_gives_the_same_results_as_serial(first_run, archive: Path, tmp_path: Path, ray_head: str) -> None:
    serial, _ = first_run
    out = tmp_path / "out"
    result = batch(str(archive), "-o", str(out), "--ray", ray_head, "--no-video", *ANALYTICS, env=RAY_ENV)
    assert result.returncode == 1, result.stderr
    rows = read_report(out)
    assert {rows[c]["status"] for c in CLIPS} == {"done"} and {rows[b]["status"] for b in BAD} == {"failed"}
    assert per_file_results(out) == per_file_results(serial)


def test_restart_publishes_outputs_recorded_before_a_kill(tmp_path: Path) -> None:
    """A batch killed after a file's record but before its renames: the next batch renames them."""
    from vidtrack.batch.driver import _publish_recorded_partials, _remove_partials
    from vidtrack.batch.manifest import Manifest

    out = tmp_path / "out"
    out.mkdir()
    (out / ".partial-123abc-a.jsonl").write_text("{}\n")
    (out / ".partial-123abc-a.mp4").write_bytes(b"x" * 10)  # not the recorded size: a cut copy
    (out / ".partial-123abc-b.jsonl").write_text("{}\n")  # no record: never finished
    manifest = Manifest(out)
    manifest.append({"rel": "a.mp4", "status": "done", "fingerprint": "f",
                     "output_sizes": {"a.jsonl": 3, "a.mp4": 5}})
    manifest.close()
    _publish_recorded_partials(out, Manifest(out), keep=set())
    _remove_partials(out)
    assert sorted(p.name for p in out.iterdir() if p.name != "manifest.jsonl") == ["a.jsonl"]

