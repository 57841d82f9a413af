"""Item 2 of issue 24: damage in the middle of a file is counted, located and reported, never hidden.

Inputs are made from a shared clip with ffmpeg and damaged byte by byte, as the hunt did.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest

from conftest import SquareDetector, video_path
from vidtrack.sources.files import VideoFileSource


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=60)


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 s of the street clip at 320x180, 30 fps, a keyframe and a Matroska cluster each second."""
    path = tmp_path_factory.mktemp("damage") / "street.mkv"
    ffmpeg("-i", str(video_path("people_street_1080p.mp4")), "-vf", "scale=320:180", "-c:v", "libx264",
           "-preset", "ultrafast", "-g", "30", "-cluster_time_limit", "1000", "-an", str(path))
    return path


def ffmpeg_frame_count(path: Path) -> int:
    out = subprocess.run(["ffprobe", "-v", "quiet", "-count_frames", "-select_streams", "v:0", "-show_entries",
                          "stream=nb_read_frames", "-of", "csv=p=0", str(path)], capture_output=True, text=True)
    return int(out.stdout.strip())


def read_all(path: Path) -> tuple[VideoFileSource, list[float]]:
    source = VideoFileSource(path)
    try:
        times = [f.pts for f in source.frames()]
    finally:
        source.close()
    return source, times


def test_a_damaged_matroska_cluster_is_located_and_counted(street: Path, tmp_path: Path) -> None:
    data = bytearray(street.read_bytes())
    clusters = [i for i in range(len(data) - 4) if data[i : i + 4] == b"\x1f\x43\xb6\x75"]
    middle = clusters[len(clusters) // 2]
    data[middle : middle + 64] = b"\xff" * 64  # 64 bad bytes over a cluster header
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(data)
    source, times = read_all(bad)
    assert len(times) == ffmpeg_frame_count(bad) < 302  # every frame FFmpeg gets, no more, no fewer
    [entry] = source.damage
    assert entry["kind"] == "undecodable" and 5 <= entry["frames"] <= 60
    assert entry["frames"] == 302 - len(times)
    assert entry["from"] in [round(t, 3) for t in times] and entry["to"] in [round(t, 3) for t in times]
    assert f"{entry['frames']} frames ({entry['from']:.3f}–{entry['to']:.3f} s) could not be decoded" in (
        source.damage_messages()[0]
    )
    assert not source.truncated  # the end is fine: the loss is where it is


def test_lost_mp4_packets_are_reported_in_the_middle_not_blamed_on_the_end(street: Path, tmp_path: Path) -> None:
    mp4 = tmp_path / "street.mp4"
    ffmpeg("-i", str(street), "-c", "copy", str(mp4))
    with av.open(str(mp4)) as container:
        spots = [(p.pos, p.size) for p in container.demux(video=0) if p.size][140:150]
    data = bytearray(mp4.read_bytes())
    for pos, size in spots:  # NAL sizes and headers of 10 packets at ~4.7 s made garbage
        data[pos : pos + 8] = b"\xff" * 8
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(data)
    source, times = read_all(bad)
    assert len(times) >= ffmpeg_frame_count(bad)  # never fewer frames than FFmpeg returns
    missing = [d for d in source.damage if d["kind"] == "undecodable"]
    assert missing and all(4.0 <= d["from"] <= 5.5 for d in missing)
    assert sum(d["frames"] for d in missing) == 302 - len(times)
    assert not source.truncated  # so no "truncated file or wrong header"


def test_concealed_errors_are_counted_and_the_frames_kept(street: Path, tmp_path: Path) -> None:
    import random

    mp4 = tmp_path / "street.mp4"
    ffmpeg("-i", str(street), "-c", "copy", str(mp4))
    data = bytearray(mp4.read_bytes())
    rng = random.Random(1)
    for k in range(len(data) * 45 // 100, len(data) * 55 // 100, 2000):
        data[k : k + 64] = bytes(rng.randrange(256) for _ in range(64))
    bad = tmp_path / "noisy.mp4"
    bad.write_bytes(data)
    source, times = read_all(bad)
    assert len(times) == ffmpeg_frame_count(bad)
    corrupt = [d for d in source.damage if d["kind"] == "corrupt"]
    assert corrupt and 3.0 <= corrupt[0]["from"] <= 6.0 and "decoded with errors" in source.damage_messages()[0]


def test_a_hole_in_a_recorder_ts_is_named_and_the_run_summary_lists_the_damage(street: Path, tmp_path: Path) -> None:
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    a, b = tmp_path / "a.ts", tmp_path / "b.ts"
    ffmpeg("-i", str(street), "-t", "2", "-c", "copy", str(a))
    ffmpeg("-ss", "5", "-i", str(street), "-t", "2", "-c", "copy", "-output_ts_offset", "5", str(b))
    dvr = tmp_path / "dvr.ts"
    dvr.write_bytes(a.read_bytes() + b.read_bytes())  # the recorder lost 3 s
    request = request_from_options([str(dvr)], {"summary": str(tmp_path / "s.json")})
    outcome = execute(request, detector=SquareDetector())
    [entry] = outcome.summaries[0]["damaged"]
    assert entry["kind"] == "gap" and entry["to"] - entry["from"] == pytest.approx(3.0, abs=0.1)
    assert any("no picture for 3.0" in w and "hole" in w for w in outcome.warnings), outcome.warnings
