"""``--serve [HOST:]PORT``: watch a headless run from a browser.

A stdlib ``ThreadingHTTPServer`` serves exactly three things:

- ``/``: a page showing every source's annotated video and live stats;
- ``/stream/<source_id>.mjpg``: MJPEG (``multipart/x-mixed-replace``) of the newest
  annotated frame; each new frame is JPEG-encoded once, whatever the number of viewers,
  and only while someone is watching;
- ``/stats``: JSON per source (fps, frame age p50/p95, per-class counts, stream state,
  frames), which the page polls twice a second.

Anything else is 404. It binds 127.0.0.1 by default; binding any other address needs a
token, and then every request must carry it (``?token=`` or an ``X-Vidtrack-Token`` /
``Authorization: Bearer`` header), else 403.
"""

from __future__ import annotations

import collections
import hmac
import html
import ipaddress
import json
import logging
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qs, quote, urlsplit

import numpy as np

from vidtrack.errors import OptionError

if TYPE_CHECKING:
    from vidtrack.frames import FrameResult
    from vidtrack.sources.base import SourceStatus

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
#: Frame-age samples kept per source for the p50/p95 shown; about 10 s at 30 fps.
AGE_WINDOW = 300
#: Seconds over which the fallback fps (when the pipeline gives none) is measured.
FPS_WINDOW_S = 2.0
_STREAM_PATH = re.compile(r"^/stream/(\d+)\.mjpg$")
_BOUNDARY = "vidtrackframe"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def parse_serve_address(text: str) -> tuple[str, int]:
    """``"8080"``, ``":8080"``, ``"0.0.0.0:8080"``, ``"[::1]:8080"`` -> (host, port); host defaults to 127.0.0.1."""
    text = str(text).strip()
    match = re.fullmatch(r"(?:(\[[0-9A-Fa-f:.]+\]|[^:\[\]]*):)?(\d{1,5})", text)
    if not match or int(match.group(2)) > 65535:
        raise OptionError(
            f"--serve {text!r} is not [HOST:]PORT",
            "use e.g. --serve 8080, or --serve 0.0.0.0:8080 --token SECRET to watch from another machine",
        )
    host = (match.group(1) or "").strip("[]") or DEFAULT_HOST
    return host, int(match.group(2))


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


@dataclass
class _Channel:
    """One source's newest frame, its JPEG and its stats."""

    source_id: int
    name: str
    status_fn: "Callable[[], SourceStatus] | None" = None
    image: np.ndarray | None = None
    image_seq: int = 0  # bumps on every new frame written
    jpeg: bytes | None = None
    jpeg_seq: int = 0  # image_seq the JPEG was encoded from
    encoded_at: float = 0.0
    clients: int = 0
    frames: int = 0
    status: "SourceStatus | None" = None
    fps: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    ages_ms: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=AGE_WINDOW))
    written_at: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=240))
    width: int = 0
    height: int = 0

    def stats(self) -> dict[str, Any]:
        ages = list(self.ages_ms)
        fps = self.fps
        if fps is None and len(self.written_at) >= 2:
            recent = [t for t in self.written_at if t >= self.written_at[-1] - FPS_WINDOW_S]
            if len(recent) >= 2 and recent[-1] > recent[0]:
                fps = (len(recent) - 1) / (recent[-1] - recent[0])  # n frames span n-1 intervals
        status = self.status
        if self.status_fn is not None:
            try:
                status = self.status_fn()
            except Exception:  # a viewer must not fail because a source did
                pass
        return {
            "id": self.source_id,
            "name": self.name,
            "state": "" if status is None else str(status),  # label: "reconnecting 2"
            "ok": status is None or status.ok,
            "fps": None if fps is None else round(fps, 2),
            "frame_age_ms": {
                "p50": _round(_percentile(ages, 50)),
                "p95": _round(_percentile(ages, 95)),
                "last": _round(ages[-1] if ages else None),
            },
            "counts": dict(self.counts),
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "stream": f"/stream/{self.source_id}.mjpg",
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class WebView:
    """Serves the live page; a pipeline sink (``write``/``close``).

    ``address`` is ``[HOST:]PORT`` (port 0 picks a free port; ``url`` tells which).
    The knobs trade browser smoothness against CPU spent on JPEG encoding, which runs in
    the viewer's own thread, never in the pipeline's.
    """

    def __init__(
        self,
        address: str | tuple[str, int] = f"{DEFAULT_HOST}:0",
        token: str | None = None,
        max_fps: float = 15.0,  # stream frame-rate cap: higher is smoother, costs one encode per frame
        jpeg_quality: int = 75,  # 0-100: higher is sharper and heavier on the network
        max_width: int = 1280,  # wider frames are scaled down first: cheaper to encode and send
    ) -> None:
        host, port = parse_serve_address(address) if isinstance(address, str) else address
        if not token and not is_loopback(host):
            raise OptionError(
                f"--serve {host}:{port} would expose the video to other machines without a token",
                "add --token SECRET (viewers then open http://HOST:PORT/?token=SECRET), or serve on 127.0.0.1",
            )
        if max_fps <= 0 or not 1 <= jpeg_quality <= 100 or max_width < 16:
            raise OptionError("web viewer settings out of range", "use max_fps > 0, jpeg_quality 1-100, max_width >= 16")
        self.token = token or None
        self.max_fps = max_fps
        self.jpeg_quality = jpeg_quality
        self.max_width = max_width
        self._channels: dict[int, _Channel] = {}
        self._cond = threading.Condition()
        self._closing = threading.Event()
        self._connections: set[socket.socket] = set()
        #: JPEG encodes done (one per new frame while watched, whatever the number of clients).
        self.frames_encoded = 0

        server_class = _V6Server if ":" in host else ThreadingHTTPServer
        try:
            self._server = server_class((host, port), self._handler_class())
        except OSError as exc:
            raise OptionError(
                f"cannot serve on {host}:{port}: {exc.strerror or exc}",
                "pick another port (0 picks a free one), or check the address belongs to this machine",
            ) from exc
        self._server.daemon_threads = True
        self.host = host
        self.port = int(self._server.server_address[1])
        url_host = f"[{host}]" if ":" in host else host
        if host in ("0.0.0.0", "::"):
            url_host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"
        #: The page's address (with the token when one is set).
        self.url = f"http://{url_host}:{self.port}/" + (f"?token={quote(self.token)}" if self.token else "")
        self._allowed_hosts = {"localhost", "127.0.0.1", "::1", host.lower()}
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="web-viewer-http", daemon=True
            ),
            threading.Thread(target=self._encode_loop, name="web-viewer-jpeg", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        log.info("web view at %s", self.url if not self.token else self.url.split("?")[0] + "?token=...")

    @classmethod
    def from_spec(cls, spec: str, token: str | None = None) -> "WebView":
        """The web view for ``--serve SPEC [--token TOKEN]``."""
        return cls(spec, token=token)

    # ---------------------------------------------------------------- sink API

    def add_source(self, source_id: int, name: str, status: "Callable[[], SourceStatus] | None" = None) -> None:
        """Show a source before its first frame; ``status`` is polled for /stats (e.g. ``source.status``),
        so an outage shows even while no frames arrive."""
        with self._cond:
            channel = self._channel(source_id, name)
            channel.status_fn = status

    def write(self, result: "FrameResult") -> None:
        """Take the newest annotated frame and its stats. Never blocks: it replaces, not queues."""
        frame = result.frame
        extra = result.extra
        image = result.annotated if result.annotated is not None else frame.image
        now = time.monotonic()
        age = extra.get("frame_age_ms")
        if age is None:
            age = (now - frame.captured) * 1000.0
        counts = extra.get("counts")
        if counts is None:
            counts = _count_classes(result.detections)
        with self._cond:
            channel = self._channel(frame.source_id, str(extra.get("source_name") or f"source {frame.source_id}"))
            if extra.get("source_name"):
                channel.name = str(extra["source_name"])
            channel.image = image
            channel.image_seq += 1
            channel.frames += 1
            channel.height, channel.width = image.shape[:2]
            channel.fps = float(extra["fps"]) if extra.get("fps") is not None else None
            channel.ages_ms.append(float(age))
            channel.written_at.append(now)
            channel.counts = {str(k): int(v) for k, v in counts.items()}
            if extra.get("status") is not None:
                channel.status = extra["status"]
            self._cond.notify_all()

    def close(self) -> None:
        """Stop serving and drop every connection. Idempotent."""
        if self._closing.is_set():
            return
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for conn in list(self._connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> "WebView":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> dict[str, Any]:
        """What ``/stats`` returns."""
        with self._cond:
            sources = [self._channels[key].stats() for key in sorted(self._channels)]
        return {"time": time.time(), "sources": sources}

    # ------------------------------------------------------------- internals

    def _channel(self, source_id: int, name: str) -> _Channel:
        """The channel for ``source_id``, created on first use. Caller holds ``_cond``."""
        channel = self._channels.get(source_id)
        if channel is None:
            channel = self._channels[source_id] = _Channel(source_id, name)
        return channel

    def _encode_loop(self) -> None:
        """Encode each watched source's newest frame, at most ``max_fps`` times a second."""
        import cv2

        period = 1.0 / self.max_fps
        while not self._closing.is_set():
            job: tuple[_Channel, np.ndarray, int] | None = None
            wait = 0.5
            with self._cond:
                now = time.monotonic()
                for channel in self._channels.values():
                    if channel.clients == 0 or channel.image is None or channel.image_seq == channel.jpeg_seq:
                        continue
                    due = channel.encoded_at + period - now
                    if due <= 0:
                        job = (channel, channel.image, channel.image_seq)
                        channel.encoded_at = now
                        break
                    wait = min(wait, due)
                if job is None:
                    self._cond.wait(wait)
                    continue
            channel, image, seq = job
            if image.shape[1] > self.max_width:
                height = round(image.shape[0] * self.max_width / image.shape[1])
                image = cv2.resize(image, (self.max_width, height), interpolation=cv2.INTER_AREA)
            ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if not ok:
                continue
            with self._cond:
                self.frames_encoded += 1
                channel.jpeg, channel.jpeg_seq = buffer.tobytes(), seq
                self._cond.notify_all()

    def _authorized(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> bool:
        if self.token is None:
            # No token means loopback only; refuse other Host names so a web page can't
            # reach this server through DNS rebinding.
            host = handler.headers.get("Host", "")
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
            return name.lower() in self._allowed_hosts
        given = query.get("token", [""])[0] or handler.headers.get("X-Vidtrack-Token", "")
        bearer = handler.headers.get("Authorization", "")
        if not given and bearer.lower().startswith("bearer "):
            given = bearer[7:].strip()
        return hmac.compare_digest(given.encode(), self.token.encode())

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        viewer = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "vidtrack"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("web view: %s %s", self.address_string(), format % args)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if not viewer._authorized(self, parse_qs(parts.query)):
                    self._send(403, "text/plain; charset=utf-8", b"forbidden: a valid token is required\n")
                    return
                if parts.path == "/":
                    nonce = secrets.token_urlsafe(16)
                    self._send(200, "text/html; charset=utf-8", _page(viewer.token, nonce), nonce=nonce)
                elif parts.path == "/stats":
                    self._send(200, "application/json", json.dumps(viewer.stats()).encode())
                elif match := _STREAM_PATH.match(parts.path):
                    self._stream(int(match.group(1)))
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found\n")

            def _send(self, status: int, content_type: str, body: bytes, nonce: str | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self._common_headers(nonce)
                self.end_headers()
                self.wfile.write(body)

            def _common_headers(self, nonce: str | None = None) -> None:
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Referrer-Policy", "no-referrer")
                script = f"'nonce-{nonce}'" if nonce else "'none'"
                self.send_header(
                    "Content-Security-Policy",
                    f"default-src 'none'; img-src 'self'; connect-src 'self'; script-src {script}; "
                    f"style-src {script}; frame-ancestors 'none'",
                )

            def _stream(self, source_id: int) -> None:
                with viewer._cond:
                    channel = viewer._channels.get(source_id)
                    if channel is not None:
                        channel.clients += 1
                        viewer._cond.notify_all()
                if channel is None:
                    self._send(404, "text/plain; charset=utf-8", b"no such source\n")
                    return
                viewer._connections.add(self.connection)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={_BOUNDARY}")
                    self._common_headers()
                    self.end_headers()
                    sent = -1
                    while not viewer._closing.is_set():
                        with viewer._cond:
                            viewer._cond.wait_for(
                                lambda: (channel.jpeg is not None and channel.jpeg_seq != sent) or viewer._closing.is_set(),
                                timeout=1.0,
                            )
                            if viewer._closing.is_set():
                                break
                            if channel.jpeg is None or channel.jpeg_seq == sent:
                                continue
                            jpeg, sent = channel.jpeg, channel.jpeg_seq
                        head = f"--{_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                        self.wfile.write(head.encode() + jpeg + b"\r\n")
                        self.wfile.flush()
                except OSError:  # the browser went away, or close() shut the socket
                    pass
                finally:
                    viewer._connections.discard(self.connection)
                    with viewer._cond:
                        channel.clients -= 1
                        if channel.clients == 0:
                            channel.jpeg, channel.jpeg_seq = None, -1  # the next viewer gets a fresh encode

        return Handler


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _count_classes(detections: Any) -> dict[str, int]:
    """Objects per class name in one frame's detections (sv.Detections or None)."""
    if detections is None or len(detections) == 0:
        return {}
    names = detections.data.get("class_name") if hasattr(detections, "data") else None
    if names is None:
        names = [str(c) for c in (detections.class_id if detections.class_id is not None else [])]
    return dict(collections.Counter(str(name) for name in names))


def _page(token: str | None, nonce: str) -> bytes:
    """The viewer page. The token (already checked) is passed on to the stream and stats requests."""
    query = f"?token={quote(token)}" if token else ""
    # json.dumps + escaping '<' keeps the value inert inside <script>.
    query_js = json.dumps(query).replace("<", "\\u003c")
    return _PAGE.replace("{nonce}", html.escape(nonce)).replace("{query_js}", query_js).encode()


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vidtrack live</title>
<style nonce="{nonce}">
  body { margin: 0; padding: 12px; background: #111; color: #ddd; font: 14px system-ui, sans-serif; }
  h1 { font-size: 16px; margin: 0 0 10px; font-weight: 600; }
  #sources { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px; }
  .card { background: #1c1c1c; border-radius: 6px; padding: 8px; }
  .card img { width: 100%; height: auto; display: block; background: #000; min-height: 120px; }
  .name { font-weight: 600; margin-bottom: 6px; overflow-wrap: anywhere; }
  .stats { font-family: ui-monospace, monospace; margin-top: 6px; white-space: pre-wrap; }
  .bad { color: #f77; }
  #updated { color: #888; font-size: 12px; margin-top: 10px; }
</style>
</head>
<body>
<h1>vidtrack live</h1>
<div id="sources"></div>
<div id="updated">connecting...</div>
<script nonce="{nonce}">
"use strict";
const QUERY = {query_js};
const cards = new Map();

function card(source) {
  let entry = cards.get(source.id);
  if (entry) return entry;
  const root = document.createElement("div");
  root.className = "card";
  const name = document.createElement("div");
  name.className = "name";
  const img = document.createElement("img");
  img.id = "video-" + source.id;
  img.alt = "live video of source " + source.id;
  img.src = source.stream + QUERY;
  const stats = document.createElement("div");
  stats.className = "stats";
  stats.id = "stats-" + source.id;
  root.append(name, img, stats);
  document.getElementById("sources").append(root);
  entry = { name, img, stats };
  cards.set(source.id, entry);
  return entry;
}

function fmt(value, digits) {
  return value === null || value === undefined ? "-" : Number(value).toFixed(digits);
}

function describe(source) {
  const counts = Object.entries(source.counts).map(([k, v]) => k + " " + v).join(", ") || "none";
  return "state " + (source.state || "-") + "   fps " + fmt(source.fps, 1) +
    "   frames " + source.frames + "\\n" +
    "frame age p50 " + fmt(source.frame_age_ms.p50, 0) + " ms   p95 " + fmt(source.frame_age_ms.p95, 0) + " ms\\n" +
    "objects: " + counts;
}

async function refresh() {
  try {
    const response = await fetch("/stats" + QUERY, { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const data = await response.json();
    for (const source of data.sources) {
      const entry = card(source);
      entry.name.textContent = source.id + ": " + source.name;
      entry.stats.textContent = describe(source);
      entry.stats.classList.toggle("bad", !source.ok);
    }
    document.getElementById("updated").textContent = "updated " + new Date(data.time * 1000).toLocaleTimeString();
  } catch (error) {
    document.getElementById("updated").textContent = "stats unavailable: " + error.message;
  }
}

refresh();
setInterval(refresh, 500);
</script>
</body>
</html>
"""
