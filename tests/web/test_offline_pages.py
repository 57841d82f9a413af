"""The live page and /docs render in headless Chromium with nothing reachable but the server.

Every request that does not go to the server itself is aborted (an offline box, or a site
that blocks CDNs): /docs used to be Swagger UI loaded from a CDN and came up blank. On a
token server /docs must also send the token when it fetches /openapi.json.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import wait_until
from viewers.test_web_view import Feeder  # the live-view tests' frame feeder
from vidtrack.web.view import WebView

pytestmark = [pytest.mark.browser, pytest.mark.live]


def _offline_page(browser: Any, base: str) -> tuple[Any, list[str], list[str]]:
    """A page whose requests outside ``base`` are aborted and recorded, with its JS errors."""
    page = browser.new_page()
    blocked: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(base) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, blocked, errors


def test_live_page_and_api_docs_render_offline_on_a_token_server(browser: Any) -> None:
    with WebView("127.0.0.1:0", token="s3cret") as view, Feeder(view):
        base = f"http://127.0.0.1:{view.port}"
        page, blocked, errors = _offline_page(browser, base)
        page.goto(view.url)  # /live?token=...
        wait_until(page, "[...document.querySelectorAll('#sources img')].some(i => i.naturalWidth > 0)")
        assert "person" in page.locator("#stats-0").inner_text()

        page.goto(base + "/docs?token=s3cret")
        assert wait_until(page, "document.body.dataset.loaded") == "true", page.locator("#error").inner_text()
        paths = page.locator(".op .path").all_inner_texts()
        assert "/stats" in paths and "/stream/{source_id}.mjpg" in paths
        assert page.locator("#title").inner_text().startswith("vidtrack")
        page.close()
    assert blocked == [] and errors == []


def test_docs_page_says_why_when_the_spec_cannot_be_read(browser: Any) -> None:
    """No blank page: a failed fetch of /openapi.json is written on the page."""
    with WebView("127.0.0.1:0") as view:
        base = f"http://127.0.0.1:{view.port}"
        page, _, _ = _offline_page(browser, base)
        page.route(base + "/openapi.json", lambda r: r.fulfill(status=503, body="down"))
        page.goto(base + "/docs")
        assert wait_until(page, "document.body.dataset.loaded") == "error"
        assert "503" in page.locator("#error").inner_text()
        page.close()
