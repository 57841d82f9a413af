"""``--serve [HOST:]PORT``: watch a headless run from a browser.

:class:`WebView` is the pipeline's viewer (``write``/``close``/``add_source``); the web
itself is vidtrack's ASGI app (:mod:`vidtrack.web`) served by uvicorn on a background
thread, with the live view switched on:

- ``/live`` (``/`` redirects there): every source's annotated video and live stats;
- ``/stream/<source_id>.mjpg``: MJPEG of the newest annotated frame, encoded once per new
  frame whatever the number of viewers, and only while someone is watching;
- ``/stats``: JSON per source (fps, frame age p50/p95, per-class counts, stream state,
  frames), which the page polls twice a second.

It binds 127.0.0.1 by default; binding any other address needs a token, and then every
request must carry it (``?token=``, ``X-Vidtrack-Token`` or ``Authorization: Bearer``),
else 403. Without a token, requests whose Host header is not this machine are refused
(DNS rebinding).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote

from vidtrack.web.addresses import DEFAULT_HOST, check_bind, is_loopback, parse_serve_address

if TYPE_CHECKING:
    from vidtrack.errors import VidtrackError
    from vidtrack.frames import FrameResult
    from vidtrack.frames import SourceStatus

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_HOST", "WebView", "is_loopback", "parse_serve_address"]


class WebView:
    """Serves the live page; a pipeline sink (``write``/``close``).

    ``address`` is ``[HOST:]PORT`` (port 0 picks a free port; ``url`` tells which).
    ``max_fps``, ``jpeg_quality`` and ``max_width`` trade browser smoothness against CPU
    spent on JPEG encoding (see :class:`vidtrack.web.live.LiveHub`).

    Raises:
        OptionError: a bad address, a non-loopback address without a token, a port in use,
            or viewer settings out of range.
    """

    def __init__(
        self,
        address: str | tuple[str, int] = f"{DEFAULT_HOST}:0",
        token: str | None = None,
        max_fps: float = 15.0,
        jpeg_quality: int = 75,
        max_width: int = 1280,
    ) -> None:
        host, port = parse_serve_address(address) if isinstance(address, str) else address
        check_bind(host, port, token)
        from vidtrack.web.app import create_app
        from vidtrack.web.live import LiveHub
        from vidtrack.web.server import Server, url_host

        self.token = token or None
        self.hub = LiveHub(max_fps=max_fps, jpeg_quality=jpeg_quality, max_width=max_width)
        app = create_app(token=self.token, allowed_hosts={"localhost", "127.0.0.1", "::1", host.lower()}, live=self.hub)
        try:
            self._server = Server(app, host, port)
            self._server.start()
        except BaseException:
            self.hub.close()
            raise
        self.host = host
        self.port = self._server.port
        #: The page's address (with the token when one is set).
        self.url = f"http://{url_host(host)}:{self.port}/live" + (f"?token={quote(self.token)}" if self.token else "")
        self._closed = False
        #: The page has no quit control: the run ends with Ctrl-C or its sources.
        self.on_quit: Callable[[], None] | None = None
        #: The server runs on its own thread and reports its failures to clients, not here.
        self.error: VidtrackError | None = None
        log.info("web view at %s", self.url if not self.token else self.url.split("?")[0] + "?token=...")

    @property
    def frames_encoded(self) -> int:
        """JPEG encodes done (one per new frame while watched, whatever the number of clients)."""
        return self.hub.frames_encoded

    def add_source(self, source_id: int, name: str, status: "Callable[[], SourceStatus] | None" = None) -> None:
        """Show a source before its first frame; ``status`` (e.g. ``source.status``) is polled for /stats."""
        self.hub.add_source(source_id, name, status)

    def write(self, result: "FrameResult") -> None:
        """Take the newest annotated frame and its stats. Never blocks: it replaces, not queues."""
        self.hub.write(result)

    def stats(self) -> dict[str, Any]:
        """What ``/stats`` returns."""
        return self.hub.stats()

    def close(self) -> None:
        """End every stream and stop serving. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.hub.close()
        self._server.stop()

    def __enter__(self) -> "WebView":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
