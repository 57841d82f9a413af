"""The MP4s vidtrack writes play in a real browser (Debian's headless Chromium).

A local HTTP server on 127.0.0.1 serves the files; Playwright drives Chromium to load,
play and draw each one into a canvas and return what the browser reports. The test
checks ``readyState >= 2``, a non-zero ``videoWidth``, the duration within one frame of
the input, and that real (non-black) pictures were decoded.
"""

from __future__ import annotations

import functools
import http.server
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import SquareDetector, video_path

pytestmark = [pytest.mark.browser, pytest.mark.realdata]

CHECK = """async (name) => {
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
    const c = document.createElement("canvas"); c.width = 64; c.height = 36;
    const g = c.getContext("2d");
    g.drawImage(v, 0, 0, c.width, c.height);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0; for (let i = 0; i < px.length; i += 4) sum += (px[i] + px[i + 1] + px[i + 2]) / 3;
    out.meanPixel = sum / (px.length / 4);
  }
  return Object.assign(out, {readyState: v.readyState, videoWidth: v.videoWidth, videoHeight: v.videoHeight,
                             duration: v.duration, currentTime: v.currentTime,
                             error: v.error ? v.error.code + " " + v.error.message : null});
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def play_in_chromium(browser, folder: Path, names: list[str]) -> dict[str, dict]:
    """Serve ``folder`` on 127.0.0.1, load each file in a ``<video>`` in Chromium; what it reported."""
    (folder / "index.html").write_text("<!doctype html><html><body></body></html>")
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        results = {name: page.evaluate(CHECK, name) for name in names}
        page.close()
    finally:
        server.shutdown()
        server.server_close()
    return results


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


def test_outputs_play_in_headless_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, browser) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    pipeline_mp4, pipeline_duration = pipeline_output(folder, monkeypatch)
    expected = {pipeline_mp4.name: (pipeline_duration, 1001 / 30000), **writer_outputs(folder)}
    results = play_in_chromium(browser, folder, sorted(expected))
    for name, (duration, frame) in expected.items():
        got = results[name]
        assert got["error"] is None, got
        assert got["readyState"] >= 2, got
        assert got["videoWidth"] > 0 and got["videoHeight"] > 0, got
        assert abs(got["duration"] - duration) <= frame, got
        assert got["currentTime"] > 0, got  # it played, not just parsed the header
        assert got["meanPixel"] > 20, got  # decoded pictures, not a black frame
    assert results["pipeline.mp4"]["canH264"] == "probably"


def test_non_square_pixels_display_at_the_source_shape_in_chromium(tmp_path: Path, browser) -> None:
    """A 720x480 picture with 32:27 pixels (16:9 DVD) written by vidtrack shows 16:9 in the browser."""
    from vidtrack.sinks import VideoWriter

    folder = tmp_path / "site"
    folder.mkdir()
    writer = VideoWriter(folder / "sar.mp4", 720, 480, Fraction(30), sample_aspect_ratio=Fraction(32, 27))
    for i in range(15):
        writer.write(np.full((480, 720, 3), 60 + 8 * i, np.uint8))
    writer.close()
    got = play_in_chromium(browser, folder, ["sar.mp4"])["sar.mp4"]
    assert got["error"] is None and got["readyState"] >= 2, got
    assert got["videoWidth"] / got["videoHeight"] == pytest.approx(16 / 9, abs=0.01), got
