"""The MP4s vidtrack writes play in a real browser (Debian's headless Chromium).

A local HTTP server on 127.0.0.1 serves a page with one ``<video>`` per file; the page
loads, plays and draws each one into a canvas, then POSTs what the browser reports back
to the same server. The test checks ``readyState >= 2``, a non-zero ``videoWidth``, the
duration within one frame of the input, and that real (non-black) pictures were decoded.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import SquareDetector, in_ci, video_path

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

PAGE = """<!doctype html>
<html><body><canvas id="c" width="64" height="36"></canvas>
<script>
const files = %s;
async function check(name) {
  const v = document.createElement("video");
  v.muted = true; v.playsInline = true; v.preload = "auto"; v.src = name;
  document.body.appendChild(v);
  const out = {name, canH264: v.canPlayType('video/mp4; codecs="avc1.640028"')};
  await new Promise(resolve => {
    v.addEventListener("loadeddata", resolve, {once: true});
    v.addEventListener("error", resolve, {once: true});
    setTimeout(resolve, 10000);
  });
  if (!v.error && v.readyState >= 2) {
    try { await v.play(); } catch (e) { out.playError = String(e); }
    const until = Math.min(0.5, v.duration / 2);
    await new Promise(resolve => {
      const tick = () => (v.currentTime >= until || v.ended) ? resolve() : setTimeout(tick, 20);
      tick(); setTimeout(resolve, 8000);
    });
    v.pause();
    const c = document.getElementById("c"), g = c.getContext("2d");
    g.drawImage(v, 0, 0, c.width, c.height);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0; for (let i = 0; i < px.length; i += 4) sum += (px[i] + px[i + 1] + px[i + 2]) / 3;
    out.meanPixel = sum / (px.length / 4);
  }
  Object.assign(out, {readyState: v.readyState, videoWidth: v.videoWidth, videoHeight: v.videoHeight,
                      duration: v.duration, currentTime: v.currentTime,
                      error: v.error ? v.error.code + " " + v.error.message : null});
  await fetch("/result", {method: "POST", body: JSON.stringify(out)});
}
Promise.all(files.map(check));
</script></body></html>
"""


def chromium_binary() -> str:
    found = shutil.which("chromium")
    if found is None:
        if in_ci():
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return found


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, folder: Path, expected: int) -> None:
        self.folder = folder
        self.results: dict[str, dict] = {}
        self.expected = expected
        self.all_in = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: _Server

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, directory=str(args[2].folder), **kwargs)

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        result = json.loads(body)
        self.server.results[result["name"]] = result
        if len(self.server.results) >= self.server.expected:
            self.server.all_in.set()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def play_in_chromium(folder: Path, names: list[str], tmp_path: Path, timeout: float = 60) -> dict[str, dict]:
    """Open the page in headless Chromium and return what it reported for each file."""
    (folder / "index.html").write_text(PAGE % json.dumps(names))
    server = _Server(folder, len(names))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
    command = [
        chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--autoplay-policy=no-user-gesture-required", url,
    ]
    log = open(tmp_path / "chromium.log", "wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        finished = server.all_in.wait(timeout)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # chromium's own process group only
        proc.wait(timeout=10)
        log.close()
        server.shutdown()
        server.server_close()
    if not finished:
        tail = (tmp_path / "chromium.log").read_text(errors="replace")[-2000:]
        pytest.fail(f"chromium reported {sorted(server.results)} of {names} within {timeout}s; log:\n{tail}")
    return server.results


def pipeline_output(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, float]:
    """vidtrack's own annotated output of a real 29.97 fps clip (detector faked: the model is
    not what this test is about, and the fake keeps it fast)."""
    import vidtrack.detection
    from vidtrack.config import OutputConfig
    from vidtrack.runner import RunRequest, execute

    clip = video_path("carphone_176x144.mp4")  # 120 frames at 30000/1001
    out = folder / "pipeline.mp4"
    monkeypatch.setattr(vidtrack.detection, "load_detector", lambda config: SquareDetector())
    outcome = execute(RunRequest(sources=[str(clip)], output=OutputConfig(video=out)))
    assert outcome.error is None
    return out, 120 * 1001 / 30000


def writer_outputs(folder: Path) -> dict[str, tuple[float, float]]:
    """Files from the writer alone: MP4 with AAC copied from a real clip, and VP9 WebM."""
    from vidtrack.sinks import VideoWriter

    y, x = np.mgrid[0:360, 0:480]
    base = np.stack([x % 256, y % 256, (x + y) % 256], axis=2).astype(np.uint8)
    made = {}
    for name, fps, count, audio in (("audio.mp4", Fraction(10), 50, True), ("vp9.webm", Fraction(30), 30, False)):
        source = video_path("pedestrians_pets_h264.avi") if audio else None
        writer = VideoWriter(folder / name, 480, 360, fps, audio_source=source)
        for i in range(count):
            writer.write(np.roll(base, 4 * i, axis=1))
        writer.close()
        made[name] = (count / float(fps), 1 / float(fps))
    return made


def test_outputs_play_in_headless_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    pipeline_mp4, pipeline_duration = pipeline_output(folder, monkeypatch)
    expected = {pipeline_mp4.name: (pipeline_duration, 1001 / 30000), **writer_outputs(folder)}
    results = play_in_chromium(folder, sorted(expected), tmp_path)
    for name, (duration, frame) in expected.items():
        got = results[name]
        assert got["error"] is None, got
        assert got["readyState"] >= 2, got
        assert got["videoWidth"] > 0 and got["videoHeight"] > 0, got
        assert abs(got["duration"] - duration) <= frame, got
        assert got["currentTime"] > 0, got  # it played, not just parsed the header
        assert got["meanPixel"] > 20, got  # decoded pictures, not a black frame
    assert results["pipeline.mp4"]["canH264"] == "probably"
