"""An http(s) URL of a video file runs like a file; MJPEG and live HLS stay live."""

from __future__ import annotations

import functools
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import av
import numpy as np
import pytest

from conftest import SquareDetector
from vidtrack.config import SourceConfig
from vidtrack.pipeline import Lane, Pipeline
from vidtrack.runner import tracking_stages
from vidtrack.sinks import JsonlSink
from vidtrack.sources import open_source
from vidtrack.sources.http import HttpResource, probe_http
from vidtrack.tracking import TrackerConfig


def _mp4(path: Path, frames: int = 60, fps: int = 30) -> Path:
    """A 2 s H.264 MP4 of SquareDetector's square moving right."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(frames):
            image = np.full((120, 160, 3), 30, np.uint8)
            image[40:70, 5 + 2 * i : 30 + 2 * i] = (40, 200, 250)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@contextmanager
def _serve(handler) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_url_of_an_mp4_runs_like_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "www"
    folder.mkdir()
    _mp4(folder / "clip.mp4")
    quiet = type("Quiet", (SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    with _serve(functools.partial(quiet, directory=str(folder))) as base:  # as `python -m http.server`
        source = open_source(f"{base}/clip.mp4", SourceConfig())
        assert not source.info.is_live and source.info.name == "clip.mp4"
        lane = Lane(source=source, sinks=[JsonlSink(tmp_path / "out.jsonl")], **tracking_stages(source.info, TrackerConfig()))
        start = time.monotonic()
        report = Pipeline(SquareDetector(), [lane]).run()[0]
    assert report.error is None and not report.stopped
    assert report.frames == 60  # every frame, once: the end of the file ends the run
    assert time.monotonic() - start < 30
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 60


class _Fake(BaseHTTPRequestHandler):
    """Answers by path: what a camera, an HLS server or a file server would send."""

    routes: dict[str, tuple[str, bytes, bool]] = {}  # path -> (content type, body, send length)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        content_type, body, with_length = self.routes.get(self.path, ("text/plain", b"no", True))
        self.send_response(200 if self.path in self.routes else 404)
        self.send_header("Content-Type", content_type)
        if with_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


LIVE_HLS = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n#EXTINF:2.0,\nseg41.ts\n"
VOD_HLS = LIVE_HLS + b"#EXT-X-ENDLIST\n"
MASTER = b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nvod.m3u8\n"


@pytest.mark.parametrize(
    ("path", "route", "expected"),
    [
        ("/clip.mp4", ("video/mp4", b"\0" * 1000, True), HttpResource.FINITE),
        ("/cam.mjpg", ("multipart/x-mixed-replace; boundary=frame", b"--frame\r\n", False), HttpResource.LIVE),
        ("/live.m3u8", ("application/vnd.apple.mpegurl", LIVE_HLS, True), HttpResource.LIVE),
        ("/vod.m3u8", ("application/vnd.apple.mpegurl", VOD_HLS, True), HttpResource.FINITE),
        ("/master.m3u8", ("application/x-mpegURL", MASTER, True), HttpResource.FINITE),
        ("/page.html", ("text/html", b"<html></html>", True), HttpResource.UNKNOWN),
        ("/missing.mp4", None, HttpResource.UNKNOWN),
    ],
)
def test_finite_or_live_is_read_from_the_response(path: str, route, expected: HttpResource) -> None:
    routes = {"/vod.m3u8": ("application/vnd.apple.mpegurl", VOD_HLS, True)}
    if route is not None:
        routes[path] = route
    handler = type("Routes", (_Fake,), {"routes": routes})
    with _serve(handler) as base:
        assert probe_http(base + path, timeout=3) is expected
