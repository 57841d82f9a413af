"""A real vidtrack server (uvicorn on a free 127.0.0.1 port) for the web tests, stopped on exit."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from conftest import shared_path

IMAGE_9 = ("assets", "coco128", "images", "train2017", "000000000009.jpg")


@contextlib.contextmanager
def running_server(service: Any, jobs_dir: Path | None = None, token: str | None = None,
                   max_upload_bytes: int | None = None, max_jobs: int = 1, jobs_options: dict | None = None,
                   **app_options: Any) -> Iterator[Any]:
    """Serve the app with ``service`` (and video jobs in ``jobs_dir``); yields the Server (``base_url``).

    ``jobs_options``: more JobManager arguments (max_queued, disk_budget); ``app_options``:
    more ``create_app`` arguments (cors_origins...).
    """
    from vidtrack.web.app import create_app
    from vidtrack.web.jobs import JobManager
    from vidtrack.web.server import Server

    from vidtrack.runner import execute

    jobs = JobManager(service, jobs_dir, max_jobs, run=execute, **(jobs_options or {})) if jobs_dir is not None else None
    app = create_app(token=token, max_upload_bytes=max_upload_bytes, service=service, jobs=jobs, **app_options)
    server = Server(app, "127.0.0.1", 0)
    server.jobs = jobs  # type: ignore[attr-defined]  # for tests that look inside
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if jobs is not None:
            jobs.close()


def image_9() -> bytes:
    """coco128's 000000000009.jpg (bowls and broccoli, 640x480)."""
    return shared_path(*IMAGE_9).read_bytes()


def rotated_jpeg(data: bytes, orientation: int = 6) -> bytes:
    """The image stored turned a quarter left, with EXIF orientation 6 so viewers turn it back."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        turned = im.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise; orientation 6 undoes it
        exif = Image.Exif()
        exif[0x0112] = orientation
        out = io.BytesIO()
        turned.save(out, "JPEG", quality=98, exif=exif.tobytes())
    return out.getvalue()


def iou(a: dict[str, float], b: dict[str, float]) -> float:
    """IoU of two ``{"x", "y", "w", "h"}`` boxes."""
    ax2, ay2, bx2, by2 = a["x"] + a["w"], a["y"] + a["h"], b["x"] + b["w"], b["y"] + b["h"]
    w = max(0.0, min(ax2, bx2) - max(a["x"], b["x"]))
    h = max(0.0, min(ay2, by2) - max(a["y"], b["y"]))
    inter = w * h
    return inter / (a["w"] * a["h"] + b["w"] * b["h"] - inter)


def make_video(path: Path, frames: int = 60, fps: int = 30) -> Path:
    """A short H.264 MP4 (320x240) of real pictures: coco128's image 9 panning sideways."""
    import av
    import cv2

    image = cv2.imdecode(np.frombuffer(image_9(), np.uint8), cv2.IMREAD_COLOR)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(frames):
            crop = image[40:440, 2 * i : 2 * i + 533]
            frame = av.VideoFrame.from_ndarray(cv2.resize(crop, (320, 240))[:, :, ::-1].copy(), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
