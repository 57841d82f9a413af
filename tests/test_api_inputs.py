"""Item 7 of issue 24: what Python users pass to ``vidtrack.track`` / ``detect`` besides paths."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import vidtrack
from conftest import SquareDetector, make_clip, video_path
from vidtrack.errors import SourceError


@pytest.fixture
def square_model(monkeypatch: pytest.MonkeyPatch) -> SquareDetector:
    import vidtrack.detection

    detector = SquareDetector()
    monkeypatch.setattr(vidtrack.detection, "load_detector", lambda config: detector)
    monkeypatch.setattr("vidtrack.api._detector", lambda config: detector)
    return detector


def _clip_frames(tmp_path: Path, count: int = 12) -> list[np.ndarray]:
    from live_servers import load_frames

    return load_frames(make_clip(tmp_path / "clip.avi", frames=count), count=count, width=None)


def _every(run) -> list:
    return [r for r in run]


def test_numpy_frame_list_generator_and_4d_array_are_tracked(tmp_path: Path, square_model: SquareDetector) -> None:
    frames = _clip_frames(tmp_path)
    one = _every(vidtrack.track(frames[3], min_hits=1))
    assert len(one) == 1 and len(one[0].detections) == 1
    listed = _every(vidtrack.track(frames, min_hits=2))
    assert [r.frame.index for r in listed] == list(range(len(frames)))
    assert all(list(r.detections.tracker_id) == [1] for r in listed)  # one video: one object, one id
    generated = _every(vidtrack.track((f for f in frames), min_hits=2))
    assert len(generated) == len(frames)
    assert len(_every(vidtrack.track(np.stack(frames), min_hits=2))) == len(frames)


def test_an_endless_generator_is_streamed_never_drained(tmp_path: Path, square_model: SquareDetector) -> None:
    frame = _clip_frames(tmp_path, 1)[0]
    pulled = 0

    def endless():
        nonlocal pulled
        while True:
            pulled += 1
            yield frame

    run = vidtrack.track(endless())
    for result in run:
        if result.frame.index == 20:
            break
    run.close()
    assert 21 <= pulled < 80  # read as the pipeline asked, a few frames ahead at most


def test_pil_images_bytes_and_videocapture(tmp_path: Path, square_model: SquareDetector) -> None:
    import cv2
    from PIL import Image

    frames = _clip_frames(tmp_path)
    pil = Image.fromarray(frames[2][:, :, ::-1])
    assert len(vidtrack.detect(pil)) == 1
    assert len(_every(vidtrack.track(pil, min_hits=1))[0].detections) == 1
    jpeg = cv2.imencode(".jpg", frames[2])[1].tobytes()
    assert len(vidtrack.detect(jpeg)) == 1
    assert len(_every(vidtrack.track(jpeg, min_hits=1))[0].detections) == 1
    capture = cv2.VideoCapture(str(tmp_path / "clip.avi"))
    assert len(_every(vidtrack.track(capture, min_hits=2))) == len(frames)
    capture.release()


def test_shared_video_frames_and_photo_bytes(tmp_path: Path, square_model: SquareDetector) -> None:
    """Frames of a shared clip decoded by ffmpeg into numpy, and a JPEG ffmpeg made from it."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(video_path("carphone_176x144.mp4")), "-frames:v", "6",
         "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
        check=True, capture_output=True,
    ).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(6, 144, 176, 3)
    assert [r.frame.image.shape for r in vidtrack.track(iter(frames))] == [(144, 176, 3)] * 6
    jpg = tmp_path / "still.jpg"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video_path("carphone_176x144.mp4")), "-frames:v", "1", str(jpg)],
                   check=True)
    results = _every(vidtrack.track(jpg.read_bytes()))
    assert len(results) == 1 and results[0].frame.image.shape == (144, 176, 3)


@pytest.mark.parametrize(
    ("given", "match"),
    [
        (b"definitely not a jpeg", "not an image file"),
        (np.zeros((8, 8, 3), np.float32), "float32 array"),
        ({"a": 1}, "cannot track a dict"),
        (3.5, "cannot track a float"),
        ([1.5, 2.5], "first item given is a float"),
        (iter([]), "empty"),
    ],
)
def test_anything_else_is_refused_at_the_call_naming_what_is_accepted(given, match: str) -> None:
    with pytest.raises(SourceError, match=match) as caught:
        vidtrack.track(given)
    assert "cv2.VideoCapture" in caught.value.fix or "pass" in caught.value.fix


def test_detect_refuses_a_non_picture_with_what_it_takes() -> None:
    with pytest.raises(SourceError, match="cannot detect in a dict"):
        vidtrack.detect({"x": 1}, model="m.pt")
