"""The Guard's rules against cross-site pages, CORS preflights and tokens (issue 23, items 6, 7, 9)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from servers import running_server


@pytest.fixture(scope="module")
def plain_server() -> Any:
    """A token-less server (no model: the routes answer 404 once the Guard lets a request in)."""
    with running_server(None, cors_origins=["http://friend.example"]) as server:
        yield server


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}])
@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT"])
def test_token_less_server_refuses_cross_site_state_changes(plain_server: Any, headers: dict, method: str) -> None:
    answer = httpx.request(method, plain_server.base_url + "/v1/jobs", headers=headers, content=b"x")
    assert answer.status_code == 403, answer.text
    assert "another site" in answer.json()["error"] and "--cors-origin" in answer.json()["fix"]


@pytest.mark.parametrize("headers", [{}, {"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://friend.example"},
                                     {"Sec-Fetch-Site": "none"}])
def test_same_site_allowed_and_origin_less_requests_pass(plain_server: Any, headers: dict) -> None:
    headers = {**headers}
    if headers.get("Sec-Fetch-Site") == "same-origin":
        headers["Origin"] = plain_server.base_url
    answer = httpx.post(plain_server.base_url + "/v1/jobs", headers=headers, content=b"x")
    assert answer.status_code == 404, answer.text  # past the Guard: this server has no jobs
    assert httpx.get(plain_server.base_url + "/healthz", headers={"Origin": "http://evil.example"}).status_code == 200


def test_cors_preflight_passes_without_the_token() -> None:
    with running_server(None, token="s3cret", cors_origins=["http://friend.example"]) as server:
        preflight = httpx.options(server.base_url + "/v1/detect", headers={
            "Origin": "http://friend.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == "http://friend.example"
        stranger = httpx.options(server.base_url + "/v1/detect", headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        assert stranger.status_code == 403
        assert httpx.post(server.base_url + "/v1/jobs", headers={"Origin": "http://friend.example"}).status_code == 403
        with_token = httpx.get(server.base_url + "/healthz", headers={"Origin": "http://friend.example",
                                                                      "Authorization": "Bearer s3cret"})
        assert with_token.status_code == 200
        assert with_token.headers["access-control-allow-origin"] == "http://friend.example"


def test_non_ascii_token_works_in_headers_and_query() -> None:
    token = "pässwörd-✓"
    with running_server(None, token=token) as server:
        raw = token.encode("utf-8")
        for headers in ({"Authorization": b"Bearer " + raw}, {"X-Vidtrack-Token": raw}):
            assert httpx.get(server.base_url + "/healthz", headers=headers).status_code == 200, headers
        assert httpx.get(server.base_url + "/healthz", params={"token": token}).status_code == 200
        assert httpx.get(server.base_url + "/healthz", headers={"Authorization": b"Bearer p\xe4ssw"}).status_code == 403
