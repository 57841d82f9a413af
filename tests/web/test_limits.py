"""Hostile requests and unlucky operators (issue 23): a full disk, bad option values, limits."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from servers import image_9, make_video, running_server

pytestmark = pytest.mark.realdata


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 5 MB tmpfs mounted on a folder of ``tmp_path`` (root only), unmounted afterwards."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", str(folder)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip("mounting a 5 MB tmpfs needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def wait_done(http: httpx.Client, url: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = http.get(url).json()
        if state["state"] in ("finished", "failed"):
            return state
        time.sleep(0.05)
    raise AssertionError(f"job still {state['state']} after {timeout} s")


def test_full_jobs_disk_gives_507_fails_the_job_cleanly_and_keeps_the_runner(
        detection_service: Any, small_disk: Path, tmp_path: Path) -> None:
    clip = make_video(tmp_path / "clip.mp4", 60).read_bytes()
    jobs_dir = small_disk / "jobs"
    with running_server(detection_service, jobs_dir) as server, httpx.Client(base_url=server.base_url, timeout=60) as http:
        big = http.post("/v1/jobs", files={"video": ("big.mp4", b"\0" * (6 << 20), "video/mp4")})
        assert big.status_code == 507, big.text
        assert str(jobs_dir) in big.json()["error"] and "MB free" in big.json()["error"]
        assert big.headers["content-type"] == "application/json"
        assert [p.name for p in jobs_dir.iterdir() if not p.name.startswith(".")] == []

        job = http.post("/v1/jobs", files={"video": ("clip.mp4", clip, "video/mp4")}).json()
        filler = small_disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:  # the job's outputs no longer fit
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        state = wait_done(http, job["status_url"])
        assert state["state"] == "failed", state
        assert "full" in state["error"]["error"] and str(jobs_dir) in state["error"]["error"], state
        record = json.loads((jobs_dir / job["id"] / "record.json").read_text())
        assert record["state"] == "failed"
        assert sorted(p.name for p in (jobs_dir / job["id"]).iterdir()) == ["record.json"]  # outputs removed
        health = http.get("/healthz")
        assert health.status_code == 200, health.text

        filler.unlink()  # room again: the next job runs (its runner survived)
        again = http.post("/v1/jobs", files={"video": ("clip.mp4", clip, "video/mp4")})
        assert again.status_code == 202, again.text
        assert wait_done(http, again.json()["status_url"])["state"] == "finished"


def test_healthz_reports_a_dead_job_runner(detection_service: Any, tmp_path: Path) -> None:
    with running_server(detection_service, tmp_path / "jobs") as server, httpx.Client(base_url=server.base_url) as http:
        assert http.get("/healthz").status_code == 200
        jobs = server.jobs
        dead = threading.Thread(target=lambda: None)
        dead.start()
        dead.join()
        jobs._workers.append(dead)
        try:
            health = http.get("/healthz")
            assert health.status_code == 503 and "job runners stopped" in health.json()["error"], health.text
        finally:
            jobs._workers.remove(dead)



@pytest.mark.parametrize("options", [{"max_age": 1e999}, {"max_age": float("nan")}, {"min_hits": 1e300},
                                     {"max_age": 2.5}, {"conf": "high"}, {"single": 3}, {"classes": {"a": 1}}])
def test_bad_json_option_values_are_refused_like_form_fields(options: dict, tmp_path: Path) -> None:
    from vidtrack.errors import OptionError
    from vidtrack.web.jobs import client_options

    with pytest.raises(OptionError):
        client_options(options)


def test_json_option_values_of_the_right_type_pass() -> None:
    from vidtrack.web.jobs import client_options

    assert client_options({"max_age": 20.0, "conf": 1, "single": True, "classes": ["person", 2], "line": "0,0,9,9"}) == \
        {"max_age": 20, "conf": 1.0, "single": True, "classes": "person,2", "line": ["0,0,9,9"]}


def test_non_finite_options_never_stored_and_old_bad_records_do_not_break_the_list(
        detection_service: Any, tmp_path: Path) -> None:
    jobs_dir = tmp_path / "jobs"
    old = jobs_dir / ("A" * 22)  # a record an older server wrote with Infinity in it
    old.mkdir(parents=True)
    (old / "record.json").write_text('{"id": "' + "A" * 22 + '", "state": "finished", "created": 1.0, '
                                     '"options": {"max_age": Infinity}, "progress": {"frames_done": 3}}')
    clip = make_video(tmp_path / "clip.mp4", 10)
    with running_server(detection_service, jobs_dir) as server, httpx.Client(base_url=server.base_url, timeout=60) as http:
        listed = http.get("/v1/jobs")
        assert listed.status_code == 200, listed.text
        assert listed.json()["jobs"][0]["options"] == {}
        assert http.get(f"/v1/jobs/{'A' * 22}").status_code == 200
        for value in ("1e999", "NaN", "Infinity"):
            bad = http.post("/v1/jobs", files={"video": ("c.mp4", clip.read_bytes())},
                            data={"options": '{"max_age": %s}' % value})
            assert bad.status_code == 422 and bad.json()["error"], bad.text
            bad = http.post("/v1/jobs", files={"video": ("c.mp4", clip.read_bytes())}, data={"max_age": value})
            assert bad.status_code == 422, bad.text
        image = base64.b64encode(image_9()).decode()
        for name, value in (("max_det", "1e999"), ("max_det", "2.7"), ("conf", '"NaN"'), ("conf", "Infinity")):
            body = '{"image": {"base64": "%s"}, "%s": %s}' % (image, name, value)
            answer = http.post("/v1/detect", content=body, headers={"content-type": "application/json"})
            assert answer.status_code == 422 and name in answer.json()["error"], answer.text
    for record in jobs_dir.glob("*/record.json"):
        json.loads(record.read_text(), parse_constant=lambda c: pytest.fail(f"{record} holds {c}"))


def test_deeply_nested_json_is_a_400_json_and_the_connection_lives(detection_service: Any, tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    clip = make_video(tmp_path / "clip.mp4", 5)
    with running_server(detection_service, tmp_path / "jobs") as server, httpx.Client(base_url=server.base_url) as http:
        for _ in range(2):  # the same keep-alive connection answers again
            answer = http.post("/v1/detect", content='{"image": {"base64": ""}, "conf": %s}' % deep,
                               headers={"content-type": "application/json"})
            assert answer.status_code == 400 and "nested" in answer.json()["error"], answer.text
        answer = http.post("/v1/jobs", files={"video": ("c.mp4", clip.read_bytes())}, data={"options": deep})
        assert answer.status_code == 400 and "nested" in answer.json()["error"], answer.text
        assert http.get("/healthz").status_code == 200


def test_an_upload_cut_short_by_a_killed_server_is_removed_at_start(tmp_path: Path) -> None:
    from vidtrack.web.jobs import JobManager

    jobs_dir = tmp_path / "jobs"
    orphan = jobs_dir / ("B" * 22)  # kill -9 while the upload was stored: no record.json yet
    orphan.mkdir(parents=True)
    (orphan / "input.video").write_bytes(b"\0" * 1000)
    other = jobs_dir / "not-a-job"
    other.mkdir()
    manager = JobManager(None, jobs_dir)  # type: ignore[arg-type]  # no job runs
    try:
        assert not orphan.exists() and other.is_dir()
    finally:
        manager.close()


def test_the_web_view_token_is_printed_whole_only_to_a_terminal(capsys: pytest.CaptureFixture) -> None:
    from vidtrack.cli.report import ProgressReporter, shown_url

    url = "http://127.0.0.1:8080/live?token=s3cr%C3%A9t&x=1"
    assert shown_url(url, terminal=True) == url
    assert shown_url(url, terminal=False) == "http://127.0.0.1:8080/live?token=...&x=1"
    ProgressReporter(enabled=False).start([], url)  # stderr is captured here: not a terminal
    assert "s3cr" not in capsys.readouterr().err


def test_queue_and_disk_budget_bounds_answer_503_and_507_with_retry_after(detection_service: Any, tmp_path: Path) -> None:
    clip = make_video(tmp_path / "clip.mp4", 5).read_bytes()
    gate = threading.Event()
    with running_server(detection_service, tmp_path / "jobs", jobs_options={"max_queued": 1}) as server, \
            httpx.Client(base_url=server.base_url, timeout=60) as http:
        server.jobs._run = lambda job: gate.wait(20)  # the runner holds its first job
        try:
            first = http.post("/v1/jobs", files={"video": ("c.mp4", clip)})
            deadline = time.monotonic() + 10
            while http.get(first.json()["status_url"]).json()["state"] != "running" and time.monotonic() < deadline:
                time.sleep(0.02)
            assert http.post("/v1/jobs", files={"video": ("c.mp4", clip)}).status_code == 202  # waits
            full = http.post("/v1/jobs", files={"video": ("c.mp4", clip)})
            assert full.status_code == 503 and full.headers["retry-after"].isdigit(), full.text
            assert "queue is full" in full.json()["error"] and "--max-queued" in full.json()["fix"]
            assert len([p for p in (tmp_path / "jobs").iterdir() if not p.name.startswith(".")]) == 2
        finally:
            gate.set()
    with running_server(detection_service, tmp_path / "jobs2", jobs_options={"disk_budget": 400 * 1024}) as server, \
            httpx.Client(base_url=server.base_url, timeout=60) as http:
        answer = http.post("/v1/jobs", files={"video": ("c.mp4", b"\0" * 500 * 1024)})
        assert answer.status_code == 507 and answer.headers["retry-after"].isdigit(), answer.text
        assert "--jobs-max-mb" in answer.json()["fix"]


def test_one_pixel_cap_for_images_and_videos(detection_service: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from vidtrack.web import uploads

    monkeypatch.setattr(uploads, "MAX_PIXELS", 320 * 240 - 1)  # the test clip's frames are 320x240
    clip = make_video(tmp_path / "clip.mp4", 5)
    with running_server(detection_service, tmp_path / "jobs") as server, \
            httpx.Client(base_url=server.base_url, timeout=60) as http:
        video = http.post("/v1/jobs", files={"video": ("c.mp4", clip.read_bytes())})
        assert video.status_code == 413 and "320x240" in video.json()["error"], video.text
        image = http.post("/v1/detect", files={"image": ("i.jpg", image_9())})  # 640x480
        assert image.status_code == 413 and "640x480" in image.json()["error"], image.text
        assert [p for p in (tmp_path / "jobs").iterdir() if not p.name.startswith(".")] == []


def test_frame_queues_are_bounded_in_bytes() -> None:
    import numpy as np

    from vidtrack.bounded import FrameQueue
    from vidtrack.frames import Frame

    q = FrameQueue(4, max_bytes=1000)
    big = Frame(image=np.zeros((20, 20, 3), np.uint8), index=0, pts=0.0, captured=0.0)  # 1200 bytes
    q.put(big)
    with pytest.raises(Exception):  # queue.Full: one big frame already holds the byte cap
        q.put(big, timeout=0.01)
    assert q.get() is big and q.bytes == 0
    small = Frame(image=np.zeros((4, 4, 3), np.uint8), index=1, pts=0.0, captured=0.0)
    for _ in range(4):
        q.put(small, timeout=0.01)
    with pytest.raises(Exception):  # the item cap still holds
        q.put(small, timeout=0.01)


def test_image_cap_is_far_below_the_video_cap_and_busy_servers_answer_503(detection_service: Any, tmp_path: Path) -> None:
    picture = image_9()  # about 160 kB
    with running_server(detection_service, tmp_path / "jobs", max_upload_bytes=10 << 20,
                        max_image_bytes=100 * 1024, detect_queue=0) as server, \
            httpx.Client(base_url=server.base_url, timeout=60) as http:
        for route in ("/v1/detect", "/v1/vision/detection", "/v1/tags"):
            answer = http.post(route, files={"image": ("i.jpg", picture)})
            assert answer.status_code == 413 and "--max-image-mb" in answer.json()["fix"], answer.text
        encoded = base64.b64encode(picture[:90 * 1024]).decode()  # 120 kB of base64: under the 4/3 body cap
        answer = http.post("/v1/detect", json={"image": {"base64": encoded}})
        assert answer.status_code == 422, answer.text  # a cut JPEG: past the cap check, refused as corrupt
        clip = make_video(tmp_path / "clip.mp4", 30).read_bytes()
        assert http.post("/v1/jobs", files={"video": ("c.mp4", clip + b"\0" * 200 * 1024)}).status_code == 202

    small = picture  # under the cap below
    with running_server(detection_service, max_image_bytes=1 << 20, detect_queue=0) as server:
        slots = detection_service.slots
        held = [slots.acquire(timeout=5) for _ in range(detection_service.slots_total)]
        assert all(held)
        answers: list[int] = []
        threads = [threading.Thread(target=lambda: answers.append(
            httpx.post(server.base_url + "/v1/detect", files={"image": ("i.jpg", small)}, timeout=60).status_code))
            for _ in range(detection_service.slots_total)]
        try:
            for thread in threads:
                thread.start()
            time.sleep(1.0)  # both are in, waiting for a slot
            busy = httpx.post(server.base_url + "/v1/detect", files={"image": ("i.jpg", small)}, timeout=60)
            assert busy.status_code == 503 and busy.headers["retry-after"].isdigit(), busy.text
        finally:
            for _ in held:
                slots.release()
            for thread in threads:
                thread.join(60)
        assert answers == [200] * detection_service.slots_total


def test_a_video_whose_picture_grows_past_the_cap_mid_stream_stops(detection_service: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from vidtrack.web import uploads

    parts = []
    for i, size in enumerate(("160x120", "320x240")):  # MPEG-TS allows the picture size to change
        parts.append(tmp_path / f"{i}.ts")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=10", "-t", "1",
                        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-output_ts_offset", str(i), "-f", "mpegts",
                        str(parts[-1])], check=True)
    clip = b"".join(p.read_bytes() for p in parts)
    monkeypatch.setattr(uploads, "MAX_PIXELS", 160 * 120)  # the first picture fits, the second does not
    with running_server(detection_service, tmp_path / "jobs") as server, \
            httpx.Client(base_url=server.base_url, timeout=60) as http:
        job = http.post("/v1/jobs", files={"video": ("grows.ts", clip)})
        assert job.status_code == 202, job.text  # header and first frame are within the cap
        state = wait_done(http, job.json()["status_url"])
        assert state["state"] == "failed" and "320x240" in state["error"]["error"], state
        assert sorted(p.name for p in (tmp_path / "jobs" / job.json()["id"]).iterdir()) == ["record.json"]


def test_a_base64_json_image_is_decoded_holding_about_two_copies_of_the_body() -> None:
    import asyncio
    import tracemalloc

    from starlette.requests import Request

    from vidtrack.web.app import _image_and_options

    picture = os.urandom(6 << 20)
    body = b'{"image": {"base64": "' + base64.b64encode(picture) + b'"}, "conf": 0.5}'
    del picture
    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
    size = len(body)
    del body

    async def run() -> tuple[bytes, dict]:
        sent = iter(chunks)

        async def receive() -> dict:
            chunk = next(sent, None)
            return {"type": "http.request", "body": chunk or b"", "more_body": chunk is not None}

        scope = {"type": "http", "method": "POST", "path": "/v1/detect", "query_string": b"",
                 "headers": [(b"content-type", b"application/json")]}
        result = await _image_and_options(Request(scope, receive), ("conf",), 64 << 20)
        peaks.append(tracemalloc.get_traced_memory()[1])
        return result

    peaks: list[int] = []
    tracemalloc.start()
    try:
        data, options = asyncio.run(run())
    finally:
        tracemalloc.stop()
    peak = peaks[0]
    assert len(data) == 6 << 20 and options == {"conf": 0.5}
    # the body (as it arrives), then its text, then its bytes, then the image: never more than
    # about two body-sized buffers at once (the chunks the test holds are not traced: made before)
    assert peak < 2.4 * size, f"peak {peak / size:.2f} x the body"
