"""``vidtrack serve --review`` starts without loading the model: browsing recorded events needs none."""

from __future__ import annotations

from pathlib import Path

import httpx


def test_a_review_server_starts_without_the_model_and_detection_says_what_is_missing(tmp_path: Path) -> None:
    from vidtrack.cli.serve_cmd import build_server

    review = tmp_path / "outputs"
    review.mkdir()
    missing = tmp_path / "no-such-model.onnx"
    server, jobs = build_server("127.0.0.1", 0, None, str(missing), 10.0, tmp_path / "jobs", 1, [], review=review)
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            assert http.get("/review").status_code == 200
            assert http.get("/v1/review").json()["events"] == []
            answer = http.post("/v1/detect", files={"image": ("a.png", _png(), "image/png")})
            assert 400 <= answer.status_code < 500
            body = answer.json()
            assert "no-such-model.onnx" in body["error"] and body["fix"]
    finally:
        server.stop()
        jobs.close()


def test_without_review_a_missing_model_still_fails_at_start(tmp_path: Path) -> None:
    import pytest

    from vidtrack.cli.serve_cmd import build_server
    from vidtrack.errors import ModelError

    with pytest.raises(ModelError, match="no-such-model.onnx"):
        build_server("127.0.0.1", 0, None, str(tmp_path / "no-such-model.onnx"), 10.0, tmp_path / "jobs", 1, [])


def _png() -> bytes:
    import cv2
    import numpy as np

    ok, data = cv2.imencode(".png", np.zeros((32, 32, 3), np.uint8))
    assert ok
    return data.tobytes()
