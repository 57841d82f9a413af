"""The whole app on real videos with the real model (VIDTRACK_MODEL or ../shared)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest

from conftest import PROJECT_ROOT, video_path

PY = sys.executable


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "vidtrack", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=timeout)


def probe(path: Path) -> dict:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        return {
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "rate": Fraction(video.average_rate),
            "frames": frames,
            "width": video.codec_context.width,
            "audio": audio,
            "duration": float(container.duration) / av.time_base if container.duration else None,
        }


@pytest.fixture(scope="module")
def street_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from conftest import model_path

    out = tmp_path_factory.mktemp("street")
    source = video_path("people_street_1080p.mp4")
    result = run_cli(
        "run", str(source), "--model", model_path(), "-o", str(out / "out.mp4"), "--jsonl", str(out / "out.jsonl"),
        "--mot", str(out / "out.txt"), "--summary", str(out / "summary.json"), "-q",
    )
    assert result.returncode == 0, result.stderr
    return {"dir": out, "stderr": result.stderr}


def test_street_finds_and_tracks_people(street_run: dict) -> None:
    summary = json.loads((street_run["dir"] / "summary.json").read_text())
    assert summary["frames"] == 302
    assert summary["tags"]["person"] >= 70
    assert 9 <= summary["tracks"]["person"] <= 60  # ~9 people in view at a time
    lines = (street_run["dir"] / "out.jsonl").read_text().splitlines()
    assert len(lines) == 302
    per_frame = [len([d for d in json.loads(line)["detections"] if d["class"] == "person"]) for line in lines]
    assert sorted(per_frame)[len(per_frame) // 2] >= 5  # median frame has several tracked persons
    first = next(json.loads(line) for line in lines if json.loads(line)["detections"])
    det = first["detections"][0]
    assert {"track_id", "class", "confidence", "x", "y", "w", "h"} <= det.keys()
    assert 0 <= det["x"] < 1920 and 0 < det["w"] <= 1920


def test_street_video_matches_input(street_run: dict) -> None:
    info = probe(street_run["dir"] / "out.mp4")
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["frames"] == 302
    assert info["rate"] == 30
    assert info["width"] == 1920
    head = (street_run["dir"] / "out.mp4").read_bytes()[:4096]
    assert 0 <= head.find(b"moov") < head.find(b"mdat") or head.find(b"mdat") == -1  # +faststart


def test_street_mot_rows(street_run: dict) -> None:
    rows = [line.split(",") for line in (street_run["dir"] / "out.txt").read_text().splitlines()]
    assert rows and all(len(r) == 10 for r in rows)
    assert {int(r[0]) for r in rows} <= set(range(1, 303))


def test_fractional_rate_and_audio_are_kept(tmp_path: Path, real_model: str) -> None:
    source = video_path("pedestrians_pets_h264.avi")  # 10 fps with an AAC track
    out = tmp_path / "pets.mp4"
    # Frame rate and sound are the question here, not detection: the detector runs on every 10th
    # frame (tracks interpolated between), which keeps every frame and cuts the test's time 5x.
    result = run_cli("run", str(source), "--model", real_model, "-o", str(out), "-q", "--detect-every", "10")
    assert result.returncode == 0, result.stderr
    info = probe(out)
    assert info["frames"] == 795 and info["rate"] == 10
    assert info["audio"] == "aac"
    carphone = tmp_path / "carphone.mp4"
    result = run_cli("run", str(video_path("carphone_176x144.mp4")), "--model", real_model, "-o", str(carphone), "-q")
    assert result.returncode == 0, result.stderr
    info = probe(carphone)
    assert info["rate"] == Fraction(30000, 1001) and info["frames"] == 120


def test_truncated_avi_processes_what_decodes(tmp_path: Path, real_model: str) -> None:
    data = video_path("pedestrians_pets_mjpeg.avi").read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "cut.mp4"
    result = run_cli("run", str(cut), "--model", real_model, "-o", str(out), "--jsonl", str(tmp_path / "cut.jsonl"), "-q")
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "header said 100" in result.stderr
    frames = probe(out)["frames"]
    assert 40 <= frames < 100
    assert len((tmp_path / "cut.jsonl").read_text().splitlines()) == frames


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_run_leaves_valid_outputs(sig: signal.Signals, tmp_path: Path, real_model: str) -> None:
    out, jsonl = tmp_path / "out.mp4", tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [PY, "-m", "vidtrack", "run", str(video_path("people_street_1080p.mp4")), "--model", real_model,
         "-o", str(out), "--jsonl", str(jsonl), "--loop", "5", "-q"],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not jsonl.exists() or len(jsonl.read_bytes().splitlines()) < 15):
        time.sleep(0.2)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    lines = jsonl.read_text().splitlines()
    assert all(json.loads(line)["frame"] >= 0 for line in lines)  # every line whole
    assert 15 <= len(lines) < 1510
    assert probe(out)["frames"] == len(lines)
