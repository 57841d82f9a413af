"""Local stream servers the live tests read from: loopback only, bounded, always torn down.

- :class:`FfmpegStream`: Debian's ffmpeg playing a ../shared video in real time as MPEG-TS
  (H.264) over UDP or TCP, like an IP camera or encoder box.
- :class:`MjpegServer`: an HTTP MJPEG server (multipart/x-mixed-replace) in a thread. Each
  frame carries its sequence number drawn as black/white blocks in its top rows, so a
  test can tell exactly which server frame a consumer got and compare it with the newest
  one sent. It can freeze (repeat one JPEG) and be stopped and restarted on the same port.
- :class:`BlackholeServer`: accepts TCP connections and never answers (a hung camera).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from vidtrack.errors import quiet_ffmpeg

quiet_ffmpeg()  # before the helpers open any capture: FFmpeg chatter off

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
LOOPBACK = "127.0.0.1"
#: Sequence numbers are drawn as SEQ_BITS blocks of SEQ_BLOCK x SEQ_BLOCK pixels.
SEQ_BITS = 16
SEQ_BLOCK = 16


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on the loopback interface right now (TCP by default, SOCK_DGRAM for UDP)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class FfmpegStream:
    """``ffmpeg -re`` looping ``video`` as 30 fps H.264 MPEG-TS to ``udp://`` or from ``tcp://...?listen``.

    The GOP is half a second so a reader joining or rejoining mid-stream decodes quickly.
    ``max_seconds`` bounds the process even if a test forgets to stop it.
    """

    def __init__(self, video: Path, protocol: str = "udp", port: int | None = None, fps: int = 30,
                 max_seconds: float = 120.0) -> None:
        if protocol not in ("udp", "tcp"):
            raise ValueError(protocol)
        self.video = video
        self.protocol = protocol
        self.port = port or free_port(socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM)
        self.fps = fps
        self.max_seconds = max_seconds
        self.url = f"{protocol}://{LOOPBACK}:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        out = f"{self.url}?pkt_size=1316" if self.protocol == "udp" else f"{self.url}?listen=1"
        return [
            FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin",
            "-re", "-stream_loop", "-1", "-i", str(self.video), "-t", str(self.max_seconds),
            "-an", "-vf", f"fps={self.fps}", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
            "-g", str(self.fps // 2), "-f", "mpegts", out,
        ]

    def start(self) -> "FfmpegStream":
        self.stop()
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        if self.protocol == "tcp":
            _wait_listening(self.port, self.process)
        return self

    def stop(self) -> None:
        """Kill ffmpeg (SIGKILL: an abrupt drop, like a camera losing power)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> "FfmpegStream":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Wait until something listens on ``port`` without connecting to it (ffmpeg serves one client)."""
    deadline = time.monotonic() + timeout
    needle = f":{port:04X} "
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ffmpeg exited with {process.returncode}")
        try:
            table = Path("/proc/net/tcp").read_text()
        except OSError:  # not Linux: give ffmpeg a moment instead
            time.sleep(1.0)
            return
        # state 0A = LISTEN
        if any(needle in line and line.split()[3] == "0A" for line in table.splitlines()[1:]):
            return
        time.sleep(0.02)
    raise RuntimeError(f"ffmpeg is not listening on {port} after {timeout} s")


def stamp_seq(image: np.ndarray, seq: int) -> np.ndarray:
    """A copy of ``image`` with ``seq`` drawn in its top-left blocks (white = 1)."""
    out = image.copy()
    for bit in range(SEQ_BITS):
        x = bit * SEQ_BLOCK
        out[0:SEQ_BLOCK, x : x + SEQ_BLOCK] = 255 if (seq >> bit) & 1 else 0
    return out


def read_seq(image: np.ndarray) -> int:
    """The sequence number :func:`stamp_seq` drew (robust to JPEG: block centres only)."""
    seq = 0
    half = SEQ_BLOCK // 2
    for bit in range(SEQ_BITS):
        if image[half, bit * SEQ_BLOCK + half].mean() > 128:
            seq |= 1 << bit
    return seq


def load_frames(video: Path, count: int = 60, width: int | None = 480) -> list[np.ndarray]:
    """The first ``count`` frames of ``video`` (BGR), resized to ``width`` wide (None: as they are)."""
    import cv2

    cap = cv2.VideoCapture(str(video), cv2.CAP_FFMPEG)
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, image = cap.read()
        if not ok:
            break
        if width is not None and image.shape[1] != width:
            image = cv2.resize(image, (width, image.shape[0] * width // image.shape[1]))
        frames.append(image)
    cap.release()
    if not frames:
        raise RuntimeError(f"no frames in {video}")
    return frames


class MjpegServer:
    """HTTP MJPEG at ``url`` (``/stream.mjpg``), ``fps`` frames a second, each stamped with its seq.

    ``frozen=True`` sends the same JPEG forever (a hung encoder). ``jpegs`` (encoded once by the
    caller) are sent in turn instead of encoding ``frames``: a camera whose encoder is not this
    process's work (benchmarks/camera_hours.py). ``stop()`` drops every connection and closes the
    port; ``start()`` serves again on the same port.
    """

    BOUNDARY = "vidtrackframe"

    def __init__(self, frames: list[np.ndarray], fps: float = 30.0, frozen: bool = False,
                 port: int | None = None, quality: int = 85, length_error: int = 0,
                 jpegs: list[bytes] | None = None) -> None:
        self.frames = frames
        self.jpegs = jpegs
        self.length_error = length_error  # bytes added to each part's Content-Length (a camera bug)
        self.fps = fps
        self.frozen = frozen
        self.quality = quality
        self.port = port or free_port()
        self.url = f"http://{LOOPBACK}:{self.port}/stream.mjpg"
        self.latest_seq = -1
        self._jpeg: bytes | None = None
        self._cond = threading.Condition()
        self._running = threading.Event()
        self._paused = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        self.sent_at: dict[int, float] = {}  # seq -> monotonic time it became available

    # -- producer
    def _produce(self) -> None:
        import cv2

        period = 1.0 / self.fps
        next_at = time.monotonic()
        seq = self.latest_seq
        frozen_jpeg: bytes | None = None
        while self._running.is_set():
            if self._paused.is_set():
                time.sleep(period)
                next_at = time.monotonic()
                continue
            seq += 1
            if self.jpegs:
                jpeg = self.jpegs[seq % len(self.jpegs)]
            elif self.frozen and frozen_jpeg is not None:
                jpeg = frozen_jpeg
            else:
                image = stamp_seq(self.frames[seq % len(self.frames)], seq)
                jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])[1].tobytes()
                frozen_jpeg = jpeg
            with self._cond:
                self._jpeg, self.latest_seq = jpeg, seq
                self.sent_at[seq] = time.monotonic()
                self._cond.notify_all()
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/stream.mjpg":
                    self.send_error(404)
                    return
                server._connections.add(self.connection)
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={server.BOUNDARY}")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                sent = -1
                try:
                    while server._running.is_set():
                        with server._cond:
                            server._cond.wait_for(lambda: server.latest_seq != sent or not server._running.is_set(), 0.5)
                            if server.latest_seq == sent:  # paused: send nothing (not the last frame again)
                                continue
                            jpeg, sent = server._jpeg, server.latest_seq
                        if jpeg is None or not server._running.is_set():
                            continue
                        self.wfile.write(
                            f"--{server.BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg) + server.length_error}\r\n\r\n".encode()
                            + jpeg + b"\r\n"
                        )
                except OSError:  # client went away, or stop() shut the socket
                    pass
                finally:
                    server._connections.discard(self.connection)

        return Handler

    def start(self) -> "MjpegServer":
        self._running.set()
        server = ThreadingHTTPServer((LOOPBACK, self.port), self._handler())
        server.daemon_threads = True
        self._server = server
        self._threads = [
            threading.Thread(target=self._produce, name="mjpeg-producer", daemon=True),
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="mjpeg-http", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def pause(self) -> None:
        """Keep connections open but send nothing (a camera hung mid-stream)."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def stop(self) -> None:
        """Close the port and every open connection at once (an abrupt drop)."""
        self._running.clear()
        with self._cond:
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for conn in list(self._connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> "MjpegServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class BlackholeServer:
    """Accepts TCP connections on loopback and never sends a byte."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((LOOPBACK, 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._accepted: list[socket.socket] = []
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self._sock.settimeout(0.1)
        while self._running:
            try:
                conn, _ = self._sock.accept()
                self._accepted.append(conn)
            except OSError:
                continue

    def __enter__(self) -> "BlackholeServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._running = False
        self._thread.join(timeout=2)
        for conn in self._accepted:
            conn.close()
        self._sock.close()


def encode_ts_segments(frames: list[np.ndarray], fps: int, per_segment: int) -> list[bytes]:
    """H.264 MPEG-TS segments of ``per_segment`` frames each, stamped with their global
    sequence number; timestamps run on across segments (frame n at n / fps s), each segment
    starts with a keyframe, as an HLS encoder writes them."""
    import io
    from fractions import Fraction

    import av

    segments: list[bytes] = []
    for start in range(0, len(frames), per_segment):
        buf = io.BytesIO()
        with av.open(buf, "w", format="mpegts") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.height, stream.width = frames[0].shape[:2]
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = Fraction(1, fps)
            stream.codec_context.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(per_segment)}
            for seq in range(start, min(start + per_segment, len(frames))):
                frame = av.VideoFrame.from_ndarray(stamp_seq(frames[seq], seq), format="bgr24")
                frame.pts = seq
                frame.time_base = Fraction(1, fps)
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        segments.append(buf.getvalue())
    return segments


class HlsServer:
    """A live HLS camera on loopback: ``url`` is a sliding-window playlist over pre-encoded segments.

    Segment ``i`` (``seconds_per_segment`` long) appears in the playlist ``i`` segment
    durations after start (``burst`` > 1: segments appear ``burst`` at a time, as cameras
    behind a buffering uplink deliver them). After the last one the playlist gets
    ``#EXT-X-ENDLIST`` when ``end`` is set; ``stale=(AT, FOR)`` stops updating the playlist
    at AT s for FOR s (a hung encoder: no ENDLIST, the same list served again). The server
    stops itself after ``max_seconds``.
    """

    def __init__(self, segments: list[bytes], seconds_per_segment: float = 1.0, window: int = 3, burst: int = 1,
                 end: bool = True, stale: tuple[float, float] | None = None, max_seconds: float = 60.0) -> None:
        self.segments = segments
        self.duration = seconds_per_segment
        self.window = window
        self.burst = burst
        self.end = end
        self.stale = stale
        self.max_seconds = max_seconds
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}/live.m3u8"
        self.requests: list[str] = []
        self._started = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None

    def available(self) -> int:
        """Segments published so far (the playlist holds the last ``window`` of them)."""
        t = time.monotonic() - self._started
        if self.stale is not None and t >= self.stale[0]:
            t = self.stale[0] if t < self.stale[0] + self.stale[1] else t - self.stale[1]
        published = int(t / self.duration) + 1
        if self.burst > 1:
            published = (published // self.burst) * self.burst or 1
        return min(published, len(self.segments))

    def playlist(self) -> str:
        count = self.available()
        first = max(0, count - self.window)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{int(np.ceil(self.duration))}",
                 f"#EXT-X-MEDIA-SEQUENCE:{first}"]
        for i in range(first, count):
            lines += [f"#EXTINF:{self.duration:.3f},", f"seg{i}.ts"]
        if self.end and count == len(self.segments):
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0].lstrip("/")
                server.requests.append(path)
                if path == "live.m3u8":
                    body, kind = server.playlist().encode(), "application/vnd.apple.mpegurl"
                elif path.startswith("seg") and path.endswith(".ts") and path[3:-3].isdigit() \
                        and int(path[3:-3]) < server.available():
                    body, kind = server.segments[int(path[3:-3])], "video/mp2t"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def start(self) -> "HlsServer":
        self._started = time.monotonic()
        server = ThreadingHTTPServer((LOOPBACK, self.port), self._handler())
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._timer = threading.Timer(self.max_seconds, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "HlsServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RtspRefuser:
    """An RTSP camera that answers but never streams: ``mode="auth"`` wants alice:right (401
    otherwise), ``mode="udp-only"`` answers 461 to a TCP SETUP. Stops itself after ``max_seconds``."""

    def __init__(self, mode: str, max_seconds: float = 30.0) -> None:
        self.mode = mode
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((LOOPBACK, 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._deadline = time.monotonic() + max_seconds
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self._sock.settimeout(0.1)
        while self._running and time.monotonic() < self._deadline:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()
        self._sock.close()

    def _serve(self, conn: socket.socket) -> None:
        import base64

        want = "Basic " + base64.b64encode(b"alice:right").decode()
        sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n"
        buf = b""
        conn.settimeout(1.0)
        try:
            while self._running:
                try:
                    chunk = conn.recv(4096)
                except socket.timeout:
                    continue
                if not chunk:
                    return
                buf += chunk
                while b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    lines = head.decode("latin-1").split("\r\n")
                    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
                    method, cseq = lines[0].split(" ")[0], headers.get("cseq", "0")
                    extra, body = [], ""
                    if method == "OPTIONS":
                        status = "200 OK"
                        extra = ["Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"]
                    elif self.mode == "auth" and headers.get("authorization") != want:
                        status, extra = "401 Unauthorized", ['WWW-Authenticate: Basic realm="cam"']
                    elif method == "DESCRIBE":
                        status, body = "200 OK", sdp
                        extra = ["Content-Type: application/sdp", f"Content-Base: rtsp://{LOOPBACK}:{self.port}/live/"]
                    elif method == "SETUP" and self.mode == "udp-only" and "TCP" in headers.get("transport", "").upper():
                        status = "461 Unsupported Transport"
                    else:
                        status = "454 Session Not Found"
                    reply = [f"RTSP/1.0 {status}", f"CSeq: {cseq}", *extra]
                    if body:
                        reply.append(f"Content-Length: {len(body)}")
                    conn.sendall(("\r\n".join(reply) + "\r\n\r\n" + body).encode())
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self) -> "RtspRefuser":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._running = False
        self._thread.join(timeout=2)
