"""HTTP MJPEG (``multipart/x-mixed-replace``) read directly, split by the JPEG's own markers.

Cameras get the multipart framing wrong in many ways (a Content-Length that is too short
or too long, no first boundary, a quoted or dash-prefixed boundary, bare LF line ends, no
boundary parameter at all). OpenCV's reader trusts that framing and loses sync, reconnecting
over and over. This reader ignores it: it finds each JPEG by its SOI marker and follows the
JPEG's segment structure to its EOI marker, so whatever the camera writes between pictures
(part headers, boundaries, stray bytes) is skipped. Embedded EXIF thumbnails sit inside a
length-prefixed APP segment and cannot end a picture early.
"""

from __future__ import annotations

import base64
import http.client
import socket
import threading
import time
from typing import Callable
from urllib.parse import unquote, urlsplit

import numpy as np

from vidtrack.errors import SourceError

#: Bytes asked of the socket per read; a 1080p JPEG is ~150-400 kB.
READ_CHUNK = 65536
#: Socket timeout of one read, so stop() is noticed quickly; the stall timeout is counted
#: across reads.
SOCKET_POLL_S = 0.25
#: A buffer this large without a complete picture is garbage (or a picture no camera sends).
MAX_FRAME_BYTES = 32 * 1024 * 1024

_SOI = b"\xff\xd8"


class NotMjpeg(Exception):
    """The URL answered, but not with multipart MJPEG (``content_type`` says what instead)."""

    def __init__(self, content_type: str) -> None:
        super().__init__(content_type)
        self.content_type = content_type


def jpeg_end(buf: bytes | bytearray, start: int) -> int:
    """Index just past the EOI of the JPEG whose SOI is at ``start``.

    Returns -1 when ``buf`` ends before the picture does; raises ValueError when the bytes
    after ``start`` are not a JPEG (the caller looks for the next SOI).
    """
    n = len(buf)
    i = start + 2
    while True:
        if i + 2 > n:
            return -1
        if buf[i] != 0xFF:
            raise ValueError(f"no JPEG marker at byte {i - start}")
        marker = buf[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0xD9:  # EOI
            return i + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            i += 2
            continue
        if i + 4 > n:
            return -1
        i += 2 + ((buf[i + 2] << 8) | buf[i + 3])
        if marker != 0xDA:  # not SOS: the length covered the whole segment
            continue
        # Entropy-coded data after SOS: 0xFF is followed by 0x00 (stuffing) or a restart
        # marker inside it; anything else is the next marker (EOI, or DHT/SOS in progressive).
        while True:
            j = buf.find(b"\xff", i)
            if j < 0 or j + 1 >= n:
                return -1
            following = buf[j + 1]
            if following == 0x00 or 0xD0 <= following <= 0xD7:
                i = j + 2
            elif following == 0xFF:
                i = j + 1
            else:
                i = j
                break


def jpeg_size(buf: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a JPEG's frame header (SOFn), without decoding; None when it has none."""
    n = len(buf)
    i = 2
    while i + 9 <= n:
        if buf[i] != 0xFF:
            return None
        marker = buf[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = (buf[i + 5] << 8) | buf[i + 6]
            width = (buf[i + 7] << 8) | buf[i + 8]
            return (width, height) if width and height else None
        if marker in (0xDA, 0xD9):
            return None
        i += 2 + ((buf[i + 2] << 8) | buf[i + 3])
    return None


class JpegPicture:
    """A received JPEG not decoded yet: the pipeline decodes it only if something reads its colours.

    ``shape`` is ``(height, width, 3)`` from the JPEG header. :meth:`bgr` decodes the whole
    picture (BGR uint8); :meth:`luma` decodes a gray copy at 1/4 of the size (libjpeg scales
    while decoding: several times cheaper), which is all the motion gate looks at. A JPEG that
    does not decode gives a black picture of its size (counted by the capture as corrupt when
    that happens on the reader's side).
    """

    __slots__ = ("data", "shape")

    def __init__(self, data: bytes, size: tuple[int, int]) -> None:
        self.data = data
        self.shape = (size[1], size[0], 3)

    def bgr(self) -> np.ndarray:
        """The decoded picture, ``(H, W, 3)`` BGR ``uint8``; black when the JPEG does not decode."""
        import cv2

        image = cv2.imdecode(np.frombuffer(self.data, np.uint8), cv2.IMREAD_COLOR)
        return image if image is not None else np.zeros(self.shape, np.uint8)

    def luma(self) -> np.ndarray:
        """A gray copy at 1/4 of the size, about ``(H/4, W/4)`` ``uint8`` (scaled while decoding); black when it does not decode."""
        import cv2

        image = cv2.imdecode(np.frombuffer(self.data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_4)
        return image if image is not None else np.zeros((max(1, self.shape[0] // 4), max(1, self.shape[1] // 4)), np.uint8)


class JpegSplitter:
    """Feed bytes in, get complete JPEGs out, whatever framing surrounds them."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.discarded = 0  # bytes that were not part of any JPEG (headers, boundaries, garbage)

    def feed(self, data: bytes) -> list[bytes]:
        """Append ``data``; return the pictures it completed, oldest first."""
        self._buf += data
        out: list[bytes] = []
        while True:
            start = self._buf.find(_SOI)
            if start < 0:
                keep = 1 if self._buf.endswith(b"\xff") else 0  # half an SOI
                self.discarded += len(self._buf) - keep
                del self._buf[: len(self._buf) - keep]
                return out
            if start:
                self.discarded += start
                del self._buf[:start]
            try:
                end = jpeg_end(self._buf, 0)
            except ValueError:
                self.discarded += 2
                del self._buf[:2]  # not a picture after all: look for the next SOI
                continue
            if end < 0:
                if len(self._buf) > MAX_FRAME_BYTES:
                    self.discarded += len(self._buf)
                    self._buf.clear()
                return out
            out.append(bytes(self._buf[:end]))
            del self._buf[:end]


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    cls = http.client.HTTPSConnection if parts.scheme.lower() == "https" else http.client.HTTPConnection
    conn = cls(host, parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    headers = {"User-Agent": "vidtrack", "Accept": "*/*"}
    if parts.username is not None:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
    return conn, path, headers


class MjpegCapture:
    """One HTTP connection to an MJPEG camera; ``read()`` returns the next decoded picture.

    ``open_timeout`` and ``stall_timeout`` are seconds. The constructor raises
    :class:`NotMjpeg` when the URL serves something else (the caller falls back to FFmpeg),
    SourceError when the camera refuses (HTTP 401/403/404...), OSError when unreachable.
    """

    def __init__(
        self, url: str, open_timeout: float, stall_timeout: float, stop: threading.Event, newest_only: bool = True
    ) -> None:
        self.stall_timeout = stall_timeout
        self.newest_only = newest_only  # several pictures in one read: decode only the newest
        self._stop = stop
        self._conn, path, headers = _connection(url, open_timeout)
        try:
            self._conn.request("GET", path, headers=headers)
            response = self._conn.getresponse()
            if response.status in (401, 403):
                raise SourceError(
                    f"the camera refused the credentials (HTTP {response.status} {response.reason})",
                    "check the user name and password in the URL (http://USER:PASS@HOST/...)",
                )
            if response.status >= 400:
                raise SourceError(f"the camera answered HTTP {response.status} {response.reason}", "check the URL's path")
            content_type = response.getheader("Content-Type", "") or ""
            if not content_type.lower().startswith("multipart/"):
                raise NotMjpeg(content_type)
        except BaseException:
            self._conn.close()
            raise
        self._response = response
        if self._conn.sock is not None:
            self._conn.sock.settimeout(SOCKET_POLL_S)
        self._splitter = JpegSplitter()
        self._pending: list[bytes] = []
        #: Hand pictures over undecoded (:class:`JpegPicture`) while this returns True: set by
        #: the source when only a motion gate may look at most frames.
        self.lazy: "Callable[[], bool]" = lambda: False
        self.corrupt = 0  # JPEGs that did not decode
        self.skipped = 0  # complete JPEGs dropped undecoded because a newer one had arrived

    def read(self) -> "np.ndarray | JpegPicture | None":
        """The next picture (BGR uint8, or a :class:`JpegPicture` while :attr:`lazy`), or None when
        the connection ended, failed, or sent no complete picture for ``stall_timeout`` seconds
        (or stop was requested)."""
        import cv2

        last_data = time.monotonic()
        while not self._stop.is_set():
            if self.newest_only and len(self._pending) > 1:
                self.skipped += len(self._pending) - 1
                del self._pending[:-1]
            while self._pending and self.lazy():
                data = self._pending.pop(0)
                size = jpeg_size(data)
                if size is not None:
                    return JpegPicture(data, size)
                self.corrupt += 1
            while self._pending:
                image = cv2.imdecode(np.frombuffer(self._pending.pop(0), np.uint8), cv2.IMREAD_COLOR)
                if image is not None:
                    return image
                self.corrupt += 1
            try:
                data = self._response.read1(READ_CHUNK)
            except (socket.timeout, TimeoutError):
                if time.monotonic() - last_data >= self.stall_timeout:
                    return None
                continue
            except (OSError, http.client.HTTPException, ValueError):
                return None
            if not data:
                return None  # the server closed the connection
            last_data = time.monotonic()
            self._pending.extend(self._splitter.feed(data))
        return None

    def release(self) -> None:
        """Close the connection. Idempotent."""
        try:
            self._conn.close()
        except Exception:
            pass
