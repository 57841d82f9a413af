"""The HTTP API through a real server (uvicorn on 127.0.0.1): contract, token, bad uploads."""

from __future__ import annotations

import base64
import json
import select
import socket
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from servers import image_9, iou, rotated_jpeg, running_server

pytestmark = pytest.mark.realdata

CAP = 1 << 20  # the upload cap of the test server, small so the 413 tests are cheap


@pytest.fixture(scope="module")
def server(detection_service: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(detection_service, tmp_path_factory.mktemp("jobs"), max_upload_bytes=CAP) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        yield http


def detect(client: httpx.Client, data: bytes, path: str = "/v1/detect", **fields: str) -> httpx.Response:
    return client.post(path, files={"image": ("photo.jpg", data, "image/jpeg")}, data=fields)


def assert_error(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "fix"} and body["error"] and body["fix"], body
    return body


def test_detect_boxes_equal_vidtrack_run_on_the_same_image(client: httpx.Client, tmp_path: Path) -> None:
    """The same pipeline's detections: `vidtrack run IMAGE --jsonl` with the tracker showing
    every detection on its first frame (min_hits 1, raw boxes, no score-rank filtering)."""
    from servers import IMAGE_9

    from conftest import shared_path
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    got = detect(client, image_9())
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["image"] == {"width": 640, "height": 480}
    options = {"jsonl": tmp_path / "run.jsonl", "min_hits": 1, "raw_boxes": True, "new_track_score_rank": 0.0,
               "min_score_rank": 0.0}
    outcome = execute(request_from_options([str(shared_path(*IMAGE_9))], options))
    assert outcome.error is None
    run = json.loads((tmp_path / "run.jsonl").read_text().splitlines()[0])["detections"]
    assert len(run) >= 3
    served = sorted((d["class"], d["confidence"], tuple(d["box"].values())) for d in body["detections"])
    ran = sorted((d["class"], d["confidence"], (d["x"], d["y"], d["w"], d["h"])) for d in run)
    assert served == ran
    best = max(body["detections"], key=lambda d: d["confidence"])
    # tags come from unrounded confidences, the JSON's are rounded to 0.001: within 0.5 + 0.05 of it
    assert abs(body["tags"][best["class"]] - best["confidence"] * 100) <= 0.55
    assert list(body["tags"].values()) == sorted(body["tags"].values(), reverse=True)
    box, norm = best["box"], best["box_normalized"]
    assert norm["left"] == pytest.approx(box["x"] / 640, abs=1e-3) and norm["height"] == pytest.approx(box["h"] / 480, abs=1e-3)


def test_deepstack_tags_json_and_single_reshape_the_same_result(client: httpx.Client) -> None:
    data = image_9()
    body = detect(client, data, conf="0.5").json()
    full = body["detections"]
    deepstack = detect(client, data, "/v1/vision/detection", min_confidence="0.5").json()
    assert deepstack["success"] is True
    # The same boxes, each answer rounded its own way: whole pixels (DeepStack) vs 0.1 px for x, y,
    # w, h (ours), so an edge may differ by 0.5 + 0.05 (+ 0.05 more where two rounded numbers add).
    predictions = deepstack["predictions"]
    assert [p["label"] for p in predictions] == [d["class"] for d in full]
    for p, d in zip(predictions, full):
        box = d["box"]
        assert abs(p["x_min"] - box["x"]) <= 0.55 and abs(p["y_min"] - box["y"]) <= 0.55, (p, d)
        assert abs(p["x_max"] - (box["x"] + box["w"])) <= 0.6 and abs(p["y_max"] - (box["y"] + box["h"])) <= 0.6, (p, d)
        assert abs(p["confidence"] - d["confidence"]) <= 0.00055, (p, d)  # 4 vs 3 decimals
    assert all(0.5 <= p["confidence"] <= 1 for p in predictions)
    tags = detect(client, data, "/v1/tags", conf="0.5").json()
    assert tags["tags"]["user"] is None
    # Tags are computed from the unrounded confidences: compare with the same computation on the
    # same detections (the tags /v1/detect returns), never re-derived from rounded JSON.
    assert tags["tags"]["auto"] == body["tags"] and list(body["tags"]) == list(dict.fromkeys(d["class"] for d in full))
    as_json = client.post("/v1/detect", json={"image": {"base64": base64.b64encode(data).decode()}, "conf": 0.5})
    assert as_json.json()["detections"] == full
    single = client.post("/v1/detect?single=true", files={"image": ("a.jpg", data)}).json()["detections"]
    assert len(full) > 1 and single == full[:1]  # the most confident only
    only = detect(client, data, classes="broccoli").json()["detections"]
    assert only and {d["class"] for d in only} == {"broccoli"}


def test_exif_rotated_jpeg_is_detected_as_displayed(client: httpx.Client) -> None:
    upright = detect(client, image_9()).json()
    turned = detect(client, rotated_jpeg(image_9())).json()
    assert turned["image"] == {"width": 640, "height": 480}  # stored 480x640, displayed 640x480
    for want in upright["detections"][:3]:  # the clear objects are found where a viewer sees them
        match = max(turned["detections"], key=lambda d: iou(d["box"], want["box"]))
        assert match["class"] == want["class"] and iou(match["box"], want["box"]) > 0.9


def test_models_health_and_docs(client: httpx.Client) -> None:
    models = client.get("/v1/models").json()["models"][0]
    assert models["backend"] == "openvino" and models["input_size"] == [640, 640] and "person" in models["classes"]
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    assert "/v1/detect" in client.get("/openapi.json").json()["paths"]
    assert_error(client.get("/nope"), 404)


def test_bad_uploads_get_the_right_4xx_and_the_server_keeps_serving(client: httpx.Client, tmp_path: Path) -> None:
    assert_error(detect(client, b""), 422)
    assert_error(detect(client, b"just some text, named .jpg\n" * 10), 415)
    assert_error(detect(client, image_9()[: len(image_9()) // 2]), 422)  # truncated JPEG
    assert_error(client.post("/v1/detect", json={"image": {"base64": "%%%"}}), 422)
    assert_error(client.post("/v1/detect", content=b"x", headers={"content-type": "text/plain"}), 415)
    bad_conf = assert_error(detect(client, image_9(), conf="2"), 422)
    assert "conf=" in bad_conf["error"] and "--" not in bad_conf["error"] + bad_conf["fix"]  # fields, not CLI flags
    unknown = assert_error(detect(client, image_9(), classes="persn"), 422)
    assert "--" not in unknown["error"] and "did you mean 'person'" in unknown["fix"]
    not_video = client.post("/v1/jobs", files={"video": ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"junk" * 500)})
    assert_error(not_video, 415)
    assert_error(client.post("/v1/jobs", files={"video": ("clip.mp4", image_9())}), 415)  # an image is no video
    bad_option = client.post("/v1/jobs", files={"video": ("clip.mp4", b"x")}, data={"output": "/etc/passwd"})
    assert "set by the server" in assert_error(bad_option, 422)["error"]
    assert_error(client.post("/v1/jobs", files={"video": ("clip.mp4", b"x")}, data={"max_agee": "3"}), 422)
    for field, value in (("max_age", "-1"), ("conf", "abc"), ("min_hits", "2.5")):  # the option table's checks
        bad_value = assert_error(client.post("/v1/jobs", files={"video": ("clip.mp4", b"x")}, data={field: value}), 422)
        assert f"{field}=" in bad_value["error"] and "--" not in bad_value["error"] + bad_value["fix"], bad_value
    assert_error(client.get("/v1/jobs/..%2F..%2Fetc"), 404)
    assert client.get("/healthz").status_code == 200
    assert detect(client, image_9()).status_code == 200


def _raw_post(port: int, headers: str, chunks: int, chunk: bytes) -> tuple[int, bytes]:
    """POST over a raw socket, sending ``chunks`` chunks until the server answers; (bytes sent, reply)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(headers.encode())
        for _ in range(chunks):
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered before the body was complete
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if "chunked" in headers else chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            time.sleep(0.002)
        reply = b""
        deadline = time.monotonic() + 10
        while b"\r\n\r\n" not in reply and time.monotonic() < deadline:
            part = sock.recv(65536)
            if not part:
                break
            reply += part
    return sent, reply


def test_upload_over_the_cap_is_refused_while_streaming(server: Any, client: httpx.Client) -> None:
    port = server.port
    # Declared too large: refused before any of the body is read.
    head = (f"POST /v1/detect HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {50 * CAP}\r\n\r\n")
    sent, reply = _raw_post(port, head, 0, b"")
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    # Chunked (no length): counted as it streams in and refused once past the cap, not at the end.
    head = (f"POST /v1/detect HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n")
    preamble = b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n'
    sent, reply = _raw_post(port, head, 400, preamble + b"\xff" * (16 * 1024 - len(preamble)))
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b'"fix"' in reply or b"content-length" in reply.lower()
    assert CAP < sent < 3 * CAP, f"sent {sent} bytes before the 413"  # far less than the 6.4 MB offered
    assert client.get("/healthz").status_code == 200


def test_token_protected_server(detection_service: Any) -> None:
    from vidtrack.errors import OptionError
    from vidtrack.web.security import check_bind

    with pytest.raises(OptionError, match="--token"):
        check_bind("0.0.0.0", 8000, None)
    with running_server(detection_service, token="s3cret") as server, httpx.Client(base_url=server.base_url) as http:
        files = {"image": ("a.jpg", image_9())}
        assert_error(http.post("/v1/detect", files=files), 403)
        assert_error(http.post("/v1/detect", files=files, headers={"Authorization": "Bearer wrong"}), 403)
        assert_error(http.get("/healthz?token=s3cre"), 403)
        assert_error(http.get("/"), 403)
        assert http.post("/v1/detect", files=files, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert http.get("/healthz?token=s3cret").status_code == 200
    with running_server(detection_service) as server, httpx.Client(base_url=server.base_url) as http:
        assert_error(http.get("/healthz", headers={"Host": "evil.example"}), 403)  # DNS rebinding


def test_serve_command_refuses_bad_setups_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from conftest import PROJECT_ROOT

    env = {"PYTHONPATH": str(PROJECT_ROOT / "src"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        for args, words in ((["--host", "0.0.0.0"], "--token"), (["--port", str(port), "--max-jobs", "1"], "another port")):
            result = subprocess.run([sys.executable, "-m", "vidtrack", "serve", "--port", "0", *args], env=env,
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 2, result.stderr
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []  # no jobs folder made on the way out


def test_serve_command_stops_cleanly_on_sigterm(tmp_path: Path, real_model: str) -> None:
    import signal
    import subprocess
    import sys

    from conftest import PROJECT_ROOT

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"PYTHONPATH": str(PROJECT_ROOT / "src"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "vidtrack", "serve", "--port", str(port), "--model", real_model,
                                "--jobs-dir", str(tmp_path / "jobs")], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and f"127.0.0.1:{port}" in stderr
