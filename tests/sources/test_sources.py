from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import make_clip, video_path
from vidtrack.config import SourceConfig
from vidtrack.errors import SourceError
from vidtrack.sources import SourceKind, classify, open_source


@pytest.mark.parametrize(
    "spec, kind",
    [
        ("0", SourceKind.WEBCAM),
        ("/dev/video2", SourceKind.WEBCAM),
        ("rtsp://cam.local/stream", SourceKind.STREAM),
        ("http://127.0.0.1:8080/video.mjpg", SourceKind.STREAM),
        ("udp://127.0.0.1:5000", SourceKind.STREAM),
        ("tcp://127.0.0.1:5000", SourceKind.STREAM),
    ],
)
def test_classify_live(spec: str, kind: SourceKind) -> None:
    assert classify(spec) is kind


def test_classify_files(tmp_path: Path, tiny_clip: Path) -> None:
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    assert classify(str(tiny_clip)) is SourceKind.VIDEO_FILE
    assert classify(str(image)) is SourceKind.IMAGES
    assert classify(str(tmp_path)) is SourceKind.IMAGES
    assert classify(str(tmp_path / "*.jpg")) is SourceKind.IMAGES


@pytest.mark.parametrize(
    "spec, words",
    [
        ("ftp://host/video.mp4", "unknown URL scheme 'ftp'"),
        ("/no/such/video.mp4", "no such file"),
        ("/no/such/*.png", "no files match"),
        ("", "empty source"),
    ],
)
def test_classify_errors_say_what_and_how(spec: str, words: str) -> None:
    with pytest.raises(SourceError) as info:
        classify(spec)
    assert words in str(info.value)
    assert ":" in str(info.value) and "\n" not in str(info.value)


def test_zero_byte_and_not_a_video(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        open_source(str(empty))
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 100)
    with pytest.raises(SourceError, match="cannot open|no decodable"):
        open_source(str(text))


def test_file_source_reads_every_frame_in_order(tiny_clip: Path) -> None:
    source = open_source(str(tiny_clip))
    assert source.info.fps == Fraction(30)
    assert source.info.frame_count == 30
    frames = list(source.frames())
    source.close()
    assert [f.index for f in frames] == list(range(30))
    assert frames[3].pts == pytest.approx(3 / 30)
    assert frames[0].image.shape == (120, 160, 3)


def test_loop_repeats_the_file(tiny_clip: Path) -> None:
    source = open_source(str(tiny_clip), SourceConfig(loop=3))
    frames = list(source.frames())
    assert len(frames) == 90
    assert frames[-1].index == 89
    assert np.array_equal(frames[0].image, frames[30].image)


def test_stop_ends_frames_early(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "long.avi", frames=200)
    source = open_source(str(clip))
    seen = 0
    for _ in source.frames():
        seen += 1
        if seen == 5:
            source.stop()
    assert seen < 20


def test_image_folder_natural_order(tmp_path: Path) -> None:
    import cv2

    for i in (1, 2, 10):
        cv2.imwrite(str(tmp_path / f"frame{i}.png"), np.full((20, 30, 3), i, np.uint8))
    source = open_source(str(tmp_path))
    values = [int(f.image[0, 0, 0]) for f in source.frames()]
    assert values == [1, 2, 10]


def test_exact_fractional_fps_from_container() -> None:
    source = open_source(str(video_path("carphone_176x144.mp4")))
    assert source.info.fps == Fraction(30000, 1001)  # not 29.97 rounded, not 29
    source.close()
    # This file's average rate (29.79) doesn't reproduce its duration; the nominal rate does.
    highway = open_source(str(video_path("highway_traffic_720p.mp4")))
    assert highway.info.fps == Fraction(30000, 1001)
    highway.close()


#: Frame counts from ../shared/README.md (what FFmpeg decodes, not what headers claim).
SHARED_FRAMES = {
    "people_street_1080p.mp4": 302,
    "highway_traffic_720p.mp4": 335,
    "pedestrians_pets_h264.avi": 795,
    "pedestrians_pets_mjpeg.avi": 100,
    "overpass_traffic_vp8.webm": 59,
    "bikes_moving_camera.mp4": 250,
    "carphone_176x144.mp4": 120,
    "person_indoor.mkv": 89,
    "raw_stream_160x120.mjpeg": 167,
    "crosswalk_3fps_320x240.mp4": 50,
}


@pytest.mark.parametrize("name", sorted(SHARED_FRAMES))
def test_every_shared_video_decodes_every_frame(name: str) -> None:
    source = open_source(str(video_path(name)))
    count = sum(1 for _ in source.frames())
    source.close()
    assert count == SHARED_FRAMES[name]


def test_constant_rate_with_millisecond_stamps_stays_exact() -> None:
    source = open_source(str(video_path("person_indoor.mkv")))  # 30 fps, stamps 0, 33, 67, 100 ms
    frames = list(source.frames())
    source.close()
    assert [f.pts for f in frames] == [i / 30 for i in range(89)]
    assert all(f.duration == pytest.approx(1 / 30) for f in frames)


def test_a_dropped_frame_keeps_its_gap() -> None:
    source = open_source(str(video_path("overpass_traffic_vp8.webm")))  # 29.97 fps with missing frames
    frames = list(source.frames())
    source.close()
    steps = np.diff([f.pts for f in frames])
    assert steps.min() == pytest.approx(1001 / 30000, abs=1e-6)
    assert steps.max() > 1.5 * 1001 / 30000  # the gap is kept, not closed up


def test_rotation_flag_turns_frames_upright(tmp_path: Path) -> None:
    import shutil
    import subprocess

    rotated = tmp_path / "rotated.mp4"
    subprocess.run(
        [shutil.which("ffmpeg") or "/usr/bin/ffmpeg", "-v", "error", "-i", str(video_path("carphone_176x144.mp4")),
         "-frames:v", "3", "-c", "copy", "-metadata:s:v:0", "rotate=90", str(rotated)],
        check=True, timeout=30,
    )
    source = open_source(str(rotated))
    image = next(iter(source.frames())).image
    source.close()
    assert (source.info.width, source.info.height) == (144, 176) and image.shape == (176, 144, 3)


def test_a_webcam_that_does_not_exist_is_a_one_line_error_not_endless_retries(tmp_path) -> None:
    from vidtrack.errors import SourceError
    from vidtrack.sources.open import check_camera_device

    (tmp_path / "video2").touch()
    check_camera_device("2", dev=tmp_path)  # present: accepted (it may still be busy, then it is retried)
    with pytest.raises(SourceError, match=r"no camera at .*video0 \(cameras here: video2\)"):
        check_camera_device("0", dev=tmp_path)
    (tmp_path / "video2").unlink()
    with pytest.raises(SourceError, match="and no camera is connected"):
        check_camera_device("/dev/video5", dev=tmp_path)
