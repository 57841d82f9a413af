"""The --serve web view: address rules, endpoints, token, and the page in headless Chromium (Playwright)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Iterator

import numpy as np
import pytest

from conftest import wait_until
from vidtrack.errors import OptionError
from vidtrack.frames import Frame, FrameResult
from vidtrack.sources.base import SourceState, SourceStatus
from vidtrack.web.view import WebView, is_loopback, parse_serve_address

pytestmark = pytest.mark.live


def result(source_id: int, i: int, name: str = "cam") -> FrameResult:
    """A synthetic annotated frame: a bar that moves with ``i``, and a person count."""
    import supervision as sv

    image = np.zeros((120, 160, 3), np.uint8)
    x = (i * 9) % 140
    image[:, x : x + 20] = (40, 200, 250)
    detections = sv.Detections(
        xyxy=np.array([[10.0, 10.0, 50.0, 60.0]]),
        confidence=np.array([0.9]),
        class_id=np.array([0]),
        data={"class_name": np.array(["person"])},
    )
    return FrameResult(
        Frame(image, i, i / 15, time.monotonic(), source_id), detections, image, fps=15.0, frame_age_ms=40.0 + i % 7,
        status=SourceStatus(SourceState.CONNECTED), source_name=f"{name}{source_id}", counts={"person": 1 + i % 3},
    )


class Feeder:
    """Writes frames for ``sources`` into a view at ``fps`` from a thread, like the pipeline's output thread."""

    def __init__(self, view: WebView, sources: int = 1, fps: float = 15.0) -> None:
        self.view, self.sources, self.fps = view, sources, fps
        self.written = 0
        self._stop = threading.Event()
        self._first_round = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for source_id in range(self.sources):
                self.view.write(result(source_id, self.written))
            self.written += 1
            self._first_round.set()
            time.sleep(1 / self.fps)

    def __enter__(self) -> "Feeder":
        self._thread.start()
        assert self._first_round.wait(30), "the feeder wrote nothing"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


@pytest.fixture
def view() -> Iterator[WebView]:
    with WebView("127.0.0.1:0") as web:
        yield web


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


def read_jpegs(url: str, count: int, timeout: float = 10.0) -> list[bytes]:
    """The first ``count`` JPEG parts of an MJPEG stream."""
    jpegs: list[bytes] = []
    with urllib.request.urlopen(url, timeout=timeout) as response:
        assert response.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        while len(jpegs) < count:
            line = response.readline()
            assert line, "stream ended"
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
                response.readline()  # blank line after the part headers
                jpegs.append(response.read(length))
    return jpegs


# ---------------------------------------------------------------- address rules


@pytest.mark.parametrize(
    "text, expected",
    [("8080", ("127.0.0.1", 8080)), (":0", ("127.0.0.1", 0)), ("0.0.0.0:9000", ("0.0.0.0", 9000)),
     ("[::1]:8080", ("::1", 8080)), ("localhost:80", ("localhost", 80))],
)
def test_parse_serve_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_serve_address(text) == expected


@pytest.mark.parametrize("text", ["", "http://x:80", "70000", "host:port", "1.2.3.4:"])
def test_bad_serve_address_is_an_option_error(text: str) -> None:
    with pytest.raises(OptionError, match="HOST:"):
        parse_serve_address(text)


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("cam.example")


def test_non_loopback_bind_needs_a_token() -> None:
    with pytest.raises(OptionError) as info:
        WebView("0.0.0.0:0")
    assert "--token" in str(info.value)


def test_port_in_use_is_an_option_error(view: WebView) -> None:
    with pytest.raises(OptionError, match="another port"):
        WebView(f"127.0.0.1:{view.port}")


# ------------------------------------------------------------------- endpoints


def test_serves_page_stats_and_stream_only(view: WebView) -> None:
    base = f"http://127.0.0.1:{view.port}"
    assert view.url == base + "/live"
    with Feeder(view, sources=2):
        for page in ("/", "/live"):  # / redirects to the live page
            status, body, kind = get(base + page)
            assert status == 200 and kind.startswith("text/html") and b"/stats" in body
        status, body, kind = get(base + "/stats")
        assert status == 200 and kind == "application/json"
        stats = json.loads(body)
        assert [s["id"] for s in stats["sources"]] == [0, 1]
        first = stats["sources"][0]
        assert first["name"] == "cam0" and first["state"] == "connected" and first["fps"] == 15.0
        assert first["counts"]["person"] in (1, 2, 3) and first["frames"] > 0
        assert 40 <= first["frame_age_ms"]["p50"] <= first["frame_age_ms"]["p95"] <= 46
        jpegs = read_jpegs(base + "/stream/1.mjpg", 3)
    import cv2

    images = [cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_COLOR) for j in jpegs]
    assert all(image.shape == (120, 160, 3) for image in images)
    assert np.abs(images[0].astype(int) - images[-1].astype(int)).sum() > 0  # the stream moves
    for path in ("/stream/7.mjpg", "/favicon.ico", "/stats/../etc/passwd", "/index.html"):
        assert get(base + path)[0] == 404


def test_foreign_host_header_is_refused(view: WebView) -> None:
    """DNS rebinding: a page on evil.example must not read a loopback view without a token."""
    base = f"http://127.0.0.1:{view.port}"
    assert get(base + "/stats", {"Host": f"evil.example:{view.port}"})[0] == 403
    assert get(base + "/stats", {"Host": f"localhost:{view.port}"})[0] == 200


def test_token_is_required_on_every_request() -> None:
    with WebView("127.0.0.1:0", token="s3cret") as view, Feeder(view):
        base = f"http://127.0.0.1:{view.port}"
        assert view.url == base + "/live?token=s3cret"
        for path in ("/", "/live", "/stats", "/stream/0.mjpg", "/nope"):
            assert get(base + path)[0] == 403
            assert get(base + path + "?token=wrong")[0] == 403
        assert get(base + "/stats?token=s3cret")[0] == 200
        assert get(base + "/stats", {"X-Vidtrack-Token": "s3cret"})[0] == 200
        assert get(base + "/stats", {"Authorization": "Bearer s3cret"})[0] == 200
        status, page, _ = get(view.url)
        assert status == 200 and b"?token=s3cret" in page  # the page passes it on to stream and stats
        assert get(base + "/?token=s3cret")[0] == 200  # the redirect to /live keeps the token
        assert len(read_jpegs(base + "/stream/0.mjpg?token=s3cret", 2)) == 2


def test_each_frame_is_encoded_once_for_all_clients(view: WebView) -> None:
    base = f"http://127.0.0.1:{view.port}"
    view.write(result(0, 0))
    clients = [threading.Thread(target=read_jpegs, args=(base + "/stream/0.mjpg", 4)) for _ in range(3)]
    for client in clients:
        client.start()
    time.sleep(0.3)
    for i in range(1, 6):
        view.write(result(0, i))
        time.sleep(0.15)  # slower than max_fps, so every frame is due for encoding
    for client in clients:
        client.join(timeout=10)
    assert view.frames_encoded <= 6  # one encode per new frame, not per client


def test_write_never_waits_for_a_stalled_client(view: WebView) -> None:
    """A client that stops reading must not slow the pipeline: write only swaps a reference."""
    import socket

    base_port = view.port
    with socket.create_connection(("127.0.0.1", base_port)) as stuck:
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.sendall(f"GET /stream/0.mjpg HTTP/1.1\r\nHost: 127.0.0.1:{base_port}\r\n\r\n".encode())
        view.write(result(0, 0))
        big = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), np.uint8)  # incompressible

        def pipeline_output_thread() -> None:
            for i in range(200):
                r = result(0, i)
                r.annotated = big if i % 2 else big[::-1].copy()
                view.write(r)

        writer = threading.Thread(target=pipeline_output_thread)
        writer.start()
        writer.join(timeout=10)
        assert not writer.is_alive(), "write() blocked behind a client that stopped reading"
        assert view.stats()["sources"][0]["frames"] == 201


# ------------------------------------------------------------------- browser

BROWSER_CHECK = """(async () => {
  const img = document.querySelector('#video-0');
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  const grab = () => { ctx.drawImage(img, 0, 0); return Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data); };
  const before = grab(), statsBefore = document.querySelector('#stats-0').textContent;
  await new Promise(r => setTimeout(r, 1500));
  const after = grab(), statsAfter = document.querySelector('#stats-0').textContent;
  let changed = 0;
  for (let i = 0; i < before.length; i++) changed += before[i] !== after[i];
  return {images: document.querySelectorAll('#sources img').length, width: img.naturalWidth,
          changed, statsBefore, statsAfter};
})()"""


@pytest.mark.browser
def test_page_in_headless_chromium_shows_moving_video_and_live_stats(browser) -> None:
    with WebView("127.0.0.1:0", token="s3cret") as view, Feeder(view, sources=2):
        page = browser.new_page()
        page.goto(view.url)
        wait_until(
            page,
            "document.querySelectorAll('#sources img').length === 2 && "
            "[...document.querySelectorAll('#sources img')].every(i => i.naturalWidth > 0)",
        )
        seen = page.evaluate(BROWSER_CHECK)
        page.close()
    assert seen["images"] == 2 and seen["width"] == 160
    assert seen["changed"] > 1000, "the <img> did not show new frames"
    assert "state connected" in seen["statsAfter"] and "person" in seen["statsAfter"]
    assert seen["statsAfter"] != seen["statsBefore"], "the stats text did not update"
