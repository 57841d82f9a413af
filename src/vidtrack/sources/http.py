"""Is an ``http(s)://`` URL a video *file* (finite) or a *live* stream?

The URL alone does not say: ``http://host/clip.mp4`` is a file to process frame by frame
to its end, ``http://cam/video.mjpg`` a camera to follow newest-frame-first and reconnect
to. The resource says, in its response (one GET, headers and at most a playlist read):

* ``multipart/*`` (MJPEG, ``multipart/x-mixed-replace``): live.
* an HLS playlist (``application/vnd.apple.mpegurl``, ``.m3u8``): finite when the media
  playlist ends (``#EXT-X-ENDLIST`` or ``#EXT-X-PLAYLIST-TYPE:VOD``; a master playlist is
  judged by its first variant), else live.
* a media type (``video/*``, ``audio/*``, ``application/mp4``, ``application/octet-stream``)
  with a ``Content-Length``: finite (a live stream has no length).
* a media type without a length (chunked transfer): the container decides; finite when
  FFmpeg reports a duration and a frame count.

Anything else, or no answer within the timeout, is left to the live reader as before
(it reports connection errors and retries).
"""

from __future__ import annotations

import base64
import enum
import ssl
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlsplit, urlunsplit

#: Most bytes of a playlist read to decide (an HLS media playlist of a long VOD is a few
#: hundred kB; the end marker is searched in what was read).
PLAYLIST_LIMIT = 2 * 1024 * 1024
HLS_TYPES = ("application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl")
MEDIA_PREFIXES = ("video/", "audio/")
MEDIA_TYPES = ("application/mp4", "application/octet-stream", "application/x-matroska", "application/ogg")


class HttpResource(enum.Enum):
    """What an http(s) URL serves, as far as the response tells."""

    FINITE = "finite"  # a video file: read every frame to its end, never reconnect
    LIVE = "live"  # a stream: newest frame first, reconnect when it drops
    UNKNOWN = "unknown"  # no answer or nothing conclusive: treated as live


def probe_http(url: str, timeout: float = 5.0) -> HttpResource:
    """Classify ``url`` by one GET of its headers (see the module docstring).

    ``timeout`` bounds each network wait in seconds. Never raises: a connection error,
    an HTTP error status or a malformed answer give ``UNKNOWN``.
    """
    try:
        with _open(url, timeout) as response:
            content_type = response.headers.get_content_type().lower()
            length = response.headers.get("Content-Length")
            path = urlsplit(url).path.lower()
            if content_type.startswith("multipart/"):
                return HttpResource.LIVE
            if content_type in HLS_TYPES or path.endswith(".m3u8"):
                text = response.read(PLAYLIST_LIMIT).decode("utf-8", "replace")
                return _hls_kind(text, response.geturl(), timeout)
            media = content_type.startswith(MEDIA_PREFIXES) or content_type in MEDIA_TYPES
            if not media:
                return HttpResource.UNKNOWN
            if length is not None and length.strip().isdigit() and int(length) > 0:
                return HttpResource.FINITE
    except (OSError, ValueError, urllib.error.URLError, ssl.SSLError):
        return HttpResource.UNKNOWN
    return _container_kind(url, timeout)


def _open(url: str, timeout: float):  # -> http.client.HTTPResponse
    """GET ``url`` with its ``user:password@`` (if any) sent as basic auth, as FFmpeg does.

    Certificates are not verified, like FFmpeg's default (``tls_verify=0``): the probe
    must judge the same resource the reader will open.
    """
    parts = urlsplit(url)
    headers = {"User-Agent": "vidtrack", "Icy-MetaData": "0"}
    if parts.username is not None:
        token = f"{parts.username}:{parts.password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        url = urlunsplit(parts._replace(netloc=netloc))
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, headers=headers)
    return urllib.request.urlopen(request, timeout=timeout, context=context)


def _hls_kind(text: str, base: str, timeout: float, depth: int = 0) -> HttpResource:
    """An HLS playlist is finite when its media playlist says it ends (VOD)."""
    if not text.lstrip().startswith("#EXTM3U"):
        return HttpResource.UNKNOWN
    if "#EXT-X-ENDLIST" in text or "#EXT-X-PLAYLIST-TYPE:VOD" in text:
        return HttpResource.FINITE
    if "#EXT-X-STREAM-INF" in text and depth == 0:
        variant = next((line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")), None)
        if variant is None:
            return HttpResource.UNKNOWN
        try:
            with _open(urljoin(base, variant), timeout) as response:
                sub = response.read(PLAYLIST_LIMIT).decode("utf-8", "replace")
                return _hls_kind(sub, response.geturl(), timeout, depth + 1)
        except (OSError, ValueError, urllib.error.URLError, ssl.SSLError):
            return HttpResource.UNKNOWN
    return HttpResource.LIVE


def _container_kind(url: str, timeout: float) -> HttpResource:
    """No length in the response: finite when FFmpeg finds a duration and a frame count."""
    try:
        import av

        with av.open(url, timeout=timeout) as container:
            streams = container.streams.video
            if container.duration and streams and streams[0].frames > 0:
                return HttpResource.FINITE
            return HttpResource.LIVE
    except Exception:  # PyAV/FFmpeg raise many types for network and format errors
        return HttpResource.UNKNOWN
