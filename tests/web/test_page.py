"""The web page at / in headless Chromium: an image gets boxes and tags, a video ends up playing.

The screenshot is kept as docs/artifacts/web_page.png (a CI artifact, not tracked by git; the
README shows a copy committed as docs/web_page.png).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import PROJECT_ROOT, shared_path, wait_until
from servers import IMAGE_9, image_9, make_video, running_server

pytestmark = [pytest.mark.realdata, pytest.mark.browser]

SCREENSHOT = PROJECT_ROOT / "docs" / "artifacts" / "web_page.png"

#: How many of the canvas' pixels along a box's top edge differ from the plain image there.
EDGE_CHANGED = """async ([box, jpegBase64]) => {
  const canvas = document.getElementById("canvas");
  const plain = document.createElement("canvas");
  plain.width = canvas.width; plain.height = canvas.height;
  const bytes = Uint8Array.from(atob(jpegBase64), c => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], {type: "image/jpeg"}), {imageOrientation: "from-image"});
  plain.getContext("2d").drawImage(bitmap, 0, 0);
  const y = Math.round(box.y), x0 = Math.round(box.x), w = Math.round(box.w);
  const drawn = canvas.getContext("2d").getImageData(x0, y, w, 1).data;
  const base = plain.getContext("2d").getImageData(x0, y, w, 1).data;
  let changed = 0;
  for (let i = 0; i < drawn.length; i += 4)
    changed += Math.abs(drawn[i] - base[i]) + Math.abs(drawn[i + 1] - base[i + 1]) + Math.abs(drawn[i + 2] - base[i + 2]) > 60;
  return {changed, width: w, canvasWidth: canvas.width};
}"""


def save_screenshot(png: bytes) -> None:
    """Keep the screenshot small (a 256-colour palette) so it can live in the repository."""
    import io

    from PIL import Image

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(io.BytesIO(png)) as shot:
        shot.convert("RGB").quantize(256).save(SCREENSHOT, optimize=True)


def test_page_draws_boxes_and_tags_then_plays_a_tracked_video(
    detection_service: Any, tmp_path: Path, browser: Any
) -> None:
    clip = make_video(tmp_path / "short.mp4", 30, 30)
    with running_server(detection_service, tmp_path / "jobs") as server:
        expected = httpx.post(server.base_url + "/v1/detect", files={"image": ("a.jpg", image_9())}).json()
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.base_url + "/")
        page.set_input_files("#file", str(shared_path(*IMAGE_9)))
        wait_until(page, "document.body.dataset.detections !== undefined")
        chips = page.locator("#tags .chip").all_inner_texts()
        assert chips == [f"{name}{score}" for name, score in expected["tags"].items()]  # sorted by confidence
        best = expected["detections"][0]["box"]
        edge = page.evaluate(EDGE_CHANGED, [best, base64.b64encode(image_9()).decode()])
        assert edge["canvasWidth"] == 640 and edge["changed"] > 0.8 * edge["width"], edge  # the box is drawn
        save_screenshot(page.screenshot(clip={"x": 0, "y": 0, "width": 1000, "height": 770}))
        page.check("#single")
        wait_until(page, "document.querySelectorAll('#tags .chip').length === 1 && document.body.dataset.detections === '1'")

        page.set_input_files("#file", str(clip))
        wait_until(page, "(() => { const v = document.getElementById('video');"
                         " return v.readyState >= 2 && v.currentTime > 0; })()", timeout=90)
        links = page.locator("#downloads a").all_inner_texts()
        assert any("video.mp4" in text for text in links) and any("tracks.jsonl" in text for text in links)
        assert "30 frames" in page.locator("#summary").inner_text()
        page.close()
        assert errors == []
    assert 0 < SCREENSHOT.stat().st_size < 300 * 1024


@pytest.mark.parametrize("page", ["index.html", "live.html"])
def test_pages_declare_an_inline_icon(page: str) -> None:
    """Without one, every browser asks for /favicon.ico and logs a 404 in the page's console."""
    html = (PROJECT_ROOT / "src" / "vidtrack" / "web" / "static" / page).read_text()
    assert '<link rel="icon" href="data:,">' in html.split("</head>")[0]
