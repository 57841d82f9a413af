"""Video jobs through a real server: progress, outputs, a seekable MP4 in Chromium, delete, restart."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import make_video, running_server

pytestmark = pytest.mark.realdata

FRAMES, FPS = 60, 30

PLAY_AND_SEEK = """async (url) => {
  const v = document.createElement("video");
  v.muted = true; v.preload = "auto"; v.src = url;
  document.body.append(v);
  await new Promise((resolve, reject) => {
    v.addEventListener("loadeddata", resolve, {once: true});
    v.addEventListener("error", () => reject(new Error("video error " + (v.error && v.error.code))), {once: true});
  });
  const ready = v.readyState, duration = v.duration;
  await v.play(); await new Promise(r => setTimeout(r, 300)); v.pause();
  const played = v.currentTime;
  const sought = new Promise(r => v.addEventListener("seeked", r, {once: true}));
  v.currentTime = duration / 2;
  await sought;
  return {ready, duration, played, afterSeek: v.currentTime, readyAfterSeek: v.readyState};
}"""


def test_video_job_progress_outputs_playback_and_delete(detection_service: Any, tmp_path: Path, browser: Any) -> None:
    clip = make_video(tmp_path / "clip.mp4", FRAMES, FPS)
    jobs_dir = tmp_path / "jobs"
    with running_server(detection_service, jobs_dir) as server, httpx.Client(base_url=server.base_url, timeout=60) as http:
        submitted = http.post("/v1/jobs", files={"video": ("my clip.mp4", clip.read_bytes(), "video/mp4")},
                              data={"conf": "0.3", "max_age": "20", "line": ["0,120,320,120:mid", "160,0,160,240"]})
        assert submitted.status_code == 202, submitted.text
        job = submitted.json()
        assert len(job["id"]) == 22 and job["status_url"] == f"/v1/jobs/{job['id']}"
        queued = http.post("/v1/jobs", files={"video": ("second.mp4", clip.read_bytes())}).json()
        assert http.delete(queued["status_url"]).json() == {"id": queued["id"], "deleted": True}  # while queued
        assert http.get(queued["status_url"]).status_code == 404
        assert not (jobs_dir / queued["id"]).exists()

        seen: list[int] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            state = http.get(job["status_url"]).json()
            seen.append(state["progress"]["frames_done"])
            if state["state"] in ("finished", "failed"):
                break
            time.sleep(0.02)
        assert state["state"] == "finished", state
        assert seen == sorted(seen) and any(0 < n < FRAMES for n in seen), seen  # progress advanced
        assert state["progress"] == {"frames_done": FRAMES, "frames_total": FRAMES, "fraction": 1.0}
        assert state["filename"] == "my clip.mp4"
        assert state["options"] == {"conf": 0.3, "max_age": 20, "line": ["0,120,320,120:mid", "160,0,160,240"]}
        assert str(jobs_dir) not in json.dumps(state)  # no server paths leak
        assert not (jobs_dir / job["id"] / "input.video").exists()  # the upload is gone once done

        lines = http.get(state["outputs"]["tracks"]).text.splitlines()
        assert len(lines) == FRAMES and [json.loads(x)["frame"] for x in lines] == list(range(FRAMES))
        summary = http.get(state["outputs"]["summary"]).json()
        assert summary["frames"] == FRAMES and summary["source"] == "my clip.mp4"
        assert len(summary["lines"]) == 2  # analytics options are run options too
        assert http.get(state["outputs"]["events"]).status_code == 200
        video_url = state["outputs"]["video"]
        part = http.get(video_url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and len(part.content) == 100
        assert part.headers["content-range"].startswith("bytes 100-199/")

        page = browser.new_page()
        page.goto(server.base_url + "/")
        seen_in_browser = page.evaluate(PLAY_AND_SEEK, video_url)
        page.close()
        assert seen_in_browser["ready"] >= 2 and seen_in_browser["readyAfterSeek"] >= 2
        assert seen_in_browser["duration"] == pytest.approx(FRAMES / FPS, abs=1 / FPS)
        assert seen_in_browser["played"] > 0
        assert seen_in_browser["afterSeek"] == pytest.approx(FRAMES / FPS / 2, abs=0.1)

        assert http.delete(job["status_url"]).status_code == 200
        assert http.get(video_url).status_code == 404
        assert not (jobs_dir / job["id"]).exists()


def test_a_job_asks_for_snapshots_clips_and_a_heatmap_and_the_review_page_shows_them(
    detection_service: Any, tmp_path: Path, browser: Any
) -> None:
    from conftest import wait_until
    from vidtrack.web.app import create_app
    from vidtrack.web.review import ReviewIndex
    from vidtrack.web.server import Server

    clip = make_video(tmp_path / "clip.mp4", FRAMES, FPS)
    jobs_dir = tmp_path / "jobs"
    auth = {"Authorization": "Bearer tok"}
    with running_server(detection_service, jobs_dir, token="tok") as server, \
            httpx.Client(base_url=server.base_url, timeout=60, headers=auth) as http:
        bad = http.post("/v1/jobs", files={"video": ("c.mp4", clip.read_bytes())}, data={"snapshots": "/etc"})
        assert bad.status_code == 422 and "true or false" in bad.json()["error"]
        submitted = http.post("/v1/jobs", files={"video": ("c.mp4", clip.read_bytes(), "video/mp4")}, data={
            "snapshots": "true", "clips": "true", "heatmap": "true", "pre": "0.5", "post": "0.5",
            "start_time": "2026-12-06T10:00:00+00:00", "line": ["200,0,200,240:a", "125,0,125,240:b"]})
        assert submitted.status_code == 202, submitted.text
        state: dict[str, Any] = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            state = http.get(submitted.json()["status_url"]).json()
            if state["state"] in ("finished", "failed"):
                break
            time.sleep(0.05)
        assert state["state"] == "finished", state
        outputs = state["outputs"]
        events = [json.loads(x) for x in http.get(outputs["events"]).text.splitlines()]
        assert outputs["snapshots"] and outputs["heatmap"] and str(jobs_dir) not in json.dumps(state)
        assert events and len(outputs["clips"]) >= 1  # the pan carries the bowls across the line
        for url in (outputs["snapshots"][0], outputs["clips"][0], outputs["heatmap"]):
            answer = http.get(url)
            assert answer.status_code == 200 and answer.headers["content-type"] in ("image/jpeg", "video/mp4", "image/png")
            assert httpx.get(server.base_url + url).status_code == 403  # the same token rules as every job URL
        for name in ("snapshots/..%2Fsummary.json", "snapshots/x.json", "clips/.hidden.mp4", "video.mp4/x.jpg"):
            assert http.get(f"/v1/jobs/{state['id']}/{name}").status_code == 404
        assert {f"/v1/jobs/{state['id']}/clips/{e['clip']}" for e in events if e.get("clip")} <= set(outputs["clips"])

    review = Server(create_app(token="tok", review=ReviewIndex(jobs_dir)), "127.0.0.1", 0)  # serve --review JOBS_DIR
    review.start()
    try:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(review.base_url + "/review?token=tok")
        assert wait_until(page, "document.querySelectorAll('.ev').length") == len(events)
        wait_until(page, "[...document.querySelectorAll('.ev img')].length > 0 && "
                         "[...document.querySelectorAll('.ev img')].every(i => i.complete && i.naturalWidth > 0)")
        page.click(".ev >> nth=0")
        wait_until(page, "document.getElementById('player').readyState >= 2 && document.getElementById('player').videoWidth > 0")
        assert "/clips/" in page.evaluate("document.getElementById('player').currentSrc")
        page.close()
    finally:
        review.stop()


def test_restarted_server_lists_finished_jobs_and_fails_interrupted_ones(tmp_path: Path) -> None:
    from vidtrack.web.jobs import JobManager

    done, cut = "A" * 22, "B" * 22
    for job_id, state in ((done, "finished"), (cut, "running")):
        folder = tmp_path / job_id
        folder.mkdir()
        (folder / "record.json").write_text(json.dumps({"id": job_id, "state": state, "created": 1.0,
                                                        "progress": {"frames_done": 5, "frames_total": 10}}))
        (folder / "input.video").write_bytes(b"upload")
        (folder / "video.mp4").write_bytes(b"mp4")
    manager = JobManager(service=None, folder=tmp_path)  # type: ignore[arg-type]  # no job runs here
    try:
        jobs = {job.id: job for job in manager.list()}
        assert jobs[done].state == "finished" and manager.output(jobs[done], "video.mp4") is not None
        assert jobs[cut].state == "failed" and "interrupted" in jobs[cut].error["error"]
        assert not (tmp_path / cut / "input.video").exists() and not (tmp_path / cut / "video.mp4").exists()
        assert json.loads((tmp_path / cut / "record.json").read_text())["state"] == "failed"
        assert manager.get("../" + done) is None and manager.get(done[:-1]) is None
    finally:
        manager.close()


def test_job_options_are_run_options_on_the_shared_model(detection_service: Any) -> None:
    from vidtrack.detection.tiling import TiledDetector
    from vidtrack.errors import OptionError
    from vidtrack.options import request_from_options
    from vidtrack.web.jobs import client_options

    options = client_options({"tiles": "2", "conf": "0.4", "classes": "person,car", "no-trails": "true"})
    assert options == {"tiles": "2", "conf": 0.4, "classes": "person,car", "no_trails": True}
    request = request_from_options(["clip.mp4"], {**options, "model": detection_service.config.model})
    detector = detection_service.detector_for_config(request.detector)
    assert isinstance(detector, TiledDetector)  # tiling wraps the shared model, not a second copy
    assert detector.inner.config.conf == 0.4 and detector.inner.class_ids == [0, 2]
    assert detector.inner._engines is detection_service.detector._engines
    assert detection_service.detector.config.conf == 0.25  # the shared detector itself is untouched
    for bad, message in (({"conf": "abc"}, "not a number"), ({"jsonl": "x.jsonl"}, "set by the server"),
                         ({"model": "yolo11x.pt"}, "set by the server"), ({"confidence": "1"}, "unknown")):
        with pytest.raises(OptionError, match=message):
            client_options(bad)
