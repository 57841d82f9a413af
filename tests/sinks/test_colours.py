"""Item 3 of issue 24: the colours written are the colours players show.

Green 220 drawn into an HD output must decode as green ~220 with BT.709 (what VLC,
QuickTime, mpv and TVs use for HD), and the stream must say BT.709; SD says BT.601.
Inputs: tagged, untagged, full-range and HDR clips made with ffmpeg.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import SquareDetector
from vidtrack.sinks.video import VideoWriter
from vidtrack.sources.files import VideoFileSource

GREEN = (0, 220, 0)  # BGR


def tags(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "quiet", "-select_streams", "v:0", "-show_entries",
                          "stream=color_space,color_transfer,color_primaries,color_range", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["streams"][0]


def rgb_709(path: Path, x: int, y: int) -> tuple[float, float, float]:
    """The pixel at x, y of the first frame, turned to RGB with the BT.709 limited-range matrix."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    planes = frame.to_ndarray(format="yuv420p")
    h, w = frame.height, frame.width
    Y = float(planes[y, x]) - 16
    U = float(planes[h + (y // 2) // 2, (y // 2) % 2 * (w // 2) + x // 2]) - 128
    V = float(planes[h + h // 4 + (y // 2) // 2, (y // 2) % 2 * (w // 2) + x // 2]) - 128
    return 1.164 * Y + 1.793 * V, 1.164 * Y - 0.213 * U - 0.533 * V, 1.164 * Y + 2.112 * U


@pytest.mark.parametrize(("size", "standard"), [((1280, 720), "bt709"), ((640, 480), "smpte170m")])
def test_outputs_are_tagged_and_converted_with_the_matrix_they_say(tmp_path: Path, size, standard: str) -> None:
    width, height = size
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = GREEN
    out = tmp_path / "green.mp4"
    writer = VideoWriter(out, width, height, 30)
    for i in range(5):
        writer.write(image, i / 30)
    writer.close()
    assert tags(out) == {"color_range": "tv", "color_space": standard, "color_transfer": standard,
                         "color_primaries": standard}
    if standard == "bt709":
        r, g, b = rgb_709(out, 100, 100)
        assert abs(g - 220) <= 3 and abs(r) <= 4 and abs(b) <= 4, (r, g, b)
    assert b"colr" in out.read_bytes()[:4096] or b"colr" in out.read_bytes()  # the MP4 box players read


def ffmpeg_green(path: Path, size: str, vf: str, *tags_: str) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=0x00DC00:s={size}:d=0.3", "-vf", vf,
                    *tags_, "-c:v", "libx264", "-preset", "ultrafast", str(path)], check=True, timeout=60)
    return path


@pytest.mark.parametrize(
    ("name", "size", "vf", "tags_"),
    [
        ("untagged HD (BT.709 as players assume)", "1280x720", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p", ()),
        ("tagged HD", "1280x720", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
         ("-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709")),
        ("full-range HD", "1280x720", "scale=out_color_matrix=bt709:out_range=pc,format=yuvj420p",
         ("-colorspace", "bt709", "-color_range", "pc")),
        ("SD BT.601", "640x480", "scale=out_color_matrix=bt601:out_range=tv,format=yuv420p", ()),
    ],
)
def test_inputs_are_read_with_their_own_matrix_and_range(tmp_path: Path, name: str, size: str, vf: str, tags_) -> None:
    clip = ffmpeg_green(tmp_path / "in.mp4", size, vf, *tags_)
    source = VideoFileSource(clip)
    try:
        image = next(iter(source.frames())).image
    finally:
        source.close()
    assert np.abs(image[50, 50].astype(int) - GREEN).max() <= 4, (name, image[50, 50])


def test_hdr_input_is_tone_mapped_with_a_warning_and_written_as_sdr_bt709(tmp_path: Path) -> None:
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    clip = ffmpeg_green(tmp_path / "pq.mp4", "1280x720", "scale=out_color_matrix=bt2020nc:out_range=tv,format=yuv420p10le",
                        "-colorspace", "bt2020nc", "-color_primaries", "bt2020", "-color_trc", "smpte2084")
    out = tmp_path / "out.mp4"
    outcome = execute(request_from_options([str(clip)], {"output": str(out)}), detector=SquareDetector())
    assert any("HDR (PQ (HDR10))" in w and "tone-mapped" in w for w in outcome.warnings), outcome.warnings
    assert outcome.summaries[0]["colour"].startswith("PQ")
    assert tags(out)["color_transfer"] == "bt709"
