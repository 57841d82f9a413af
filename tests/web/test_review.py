"""``vidtrack serve --review DIR``: events with snapshots and clips from run outputs, filters, tokens, phone width."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import SquareDetector, make_clip, wait_until


@pytest.fixture(scope="module")
def review_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two cameras' runs with every review output, in one folder (as a user would keep them)."""
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    root = tmp_path_factory.mktemp("review")
    for cam, start in (("cam1", "2026-12-06T14:59:58+01:00"), ("cam2", "2026-12-06T16:00:00+01:00")):
        clip = make_clip(root / f"{cam}.avi", frames=60, fps=10.0)
        out = root / cam
        out.mkdir()
        request = request_from_options([str(clip)], {
            "min_hits": 1, "line": ["0.5,0,0.5,1:gate"], "zone": ["0.6,0,1,0,1,1,0.6,1:right"], "start_time": start,
            "output": out / "annotated.mp4", "events": out / "events.jsonl", "summary": out / "summary.json",
            "snapshots": out / "snaps", "clips": out / "clips", "heatmap": out / "heat.png", "pre": 1, "post": 1,
        })
        outcome = execute(request, detector=SquareDetector())
        assert outcome.error is None
        assert outcome.folders == [out / "snaps", out / "clips"]  # named at the end of `vidtrack run`
    return root


def _server(review_dir: Path, token: str | None = None) -> Any:
    from vidtrack.web.app import create_app
    from vidtrack.web.review import ReviewIndex
    from vidtrack.web.server import Server

    return Server(create_app(token=token, review=ReviewIndex(review_dir)), "127.0.0.1", 0)


def test_review_data_names_every_file_and_serves_only_media_under_the_folder(review_dir: Path) -> None:
    server = _server(review_dir, token="tok")
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, headers={"Authorization": "Bearer tok"}) as http:
            data = http.get("/v1/review").json()
            assert sorted(r["name"] for r in data["runs"]) == ["cam1.avi", "cam2.avi"]
            events = data["events"]
            assert {e["type"] for e in events} >= {"cross", "enter"}
            for e in events:
                assert e["time"].startswith("2026-12-06T1") and e["where"] in ("gate", "right")
                if e["type"] != "exit":  # exits at the end of the stream have a picture but no clip
                    assert e["clip"] and e["clip_offset"] is not None
                assert e["snapshot"]
                assert http.get(e["snapshot"]).headers["content-type"] == "image/jpeg"
                assert e["crop"] and e["crop"].endswith(f"/track-{e['track_id']}.jpg")  # the card's close-up of the object
                assert http.get(e["crop"]).headers["content-type"] == "image/jpeg"
            clip = http.get(events[0]["clip"], headers={"Range": "bytes=0-99"})
            assert clip.status_code == 206 and clip.headers["content-type"] == "video/mp4"
            assert all(r["heatmaps"] and r["video"] for r in data["runs"])
            assert http.get("/review/files/cam1/summary.json").status_code == 404  # not a picture or video
            assert http.get("/review/files/..%2F..%2Fetc%2Fpasswd").status_code == 404
            assert http.get("/review/files/../cam1.avi").status_code == 404
        with httpx.Client(base_url=server.base_url) as anonymous:
            assert anonymous.get("/v1/review").status_code == 403
            assert anonymous.get(events[0]["snapshot"]).status_code == 403
            assert anonymous.get(events[0]["snapshot"] + "?token=tok").status_code == 200
    finally:
        server.stop()


def test_review_page_filters_plays_clips_and_fits_a_phone(review_dir: Path, browser: Any, tmp_path: Path) -> None:
    server = _server(review_dir, token="tok")
    server.start()
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(server.base_url + "/review?token=tok")
        total = wait_until(page, "document.querySelectorAll('.ev').length")
        assert total >= 4
        wait_until(page, "[...document.querySelectorAll('.ev img')].every(i => i.complete && i.naturalWidth > 0)")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
        assert wait_until(page, "document.querySelectorAll('#hours .row').length") == 2  # 14:59 and 15:00 (+01:00)
        page.select_option("#f-type", "cross")
        crosses = page.evaluate("document.querySelectorAll('.ev').length")
        assert 0 < crosses < total and page.evaluate("[...document.querySelectorAll('.ev')].every(e => e.dataset.type === 'cross')")
        page.select_option("#f-run", label="cam2.avi")
        assert page.evaluate("document.querySelectorAll('.ev').length") < crosses
        page.fill("#f-from", "2026-12-06T16:00:03")
        page.dispatch_event("#f-from", "change")
        late = page.evaluate("document.querySelectorAll('.ev').length")
        page.click("#f-clear")
        assert page.evaluate("document.querySelectorAll('.ev').length") == total and late < crosses
        page.click(".ev >> nth=0")
        wait_until(page, "document.getElementById('player').readyState >= 2 && document.getElementById('player').videoWidth > 0")
        assert "/review/files/" in page.evaluate("document.getElementById('player').currentSrc")
        assert all(url.startswith(server.base_url) for url in requests)  # offline: nothing from elsewhere
        assert errors == []
        page.screenshot(path=str(tmp_path / "review.png"))
    finally:
        server.stop()
