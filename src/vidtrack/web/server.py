"""uvicorn on a socket bound before it starts.

Binding first turns "port in use" or "not this machine's address" into a one-line
:class:`~vidtrack.errors.OptionError` at once, and makes port 0 (any free port) usable:
:attr:`Server.port` says which one was picked.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

from vidtrack.errors import OptionError

log = logging.getLogger(__name__)

#: Seconds open requests (a video stream, a slow upload) get to finish when the server stops.
GRACEFUL_STOP_S = 1
#: Open connections served at once; a request on one past it gets 503 JSON (see :mod:`vidtrack.web.deadlines`).
MAX_CONNECTIONS = 64
#: Seconds an idle keep-alive connection stays open between requests.
KEEP_ALIVE_S = 5


def bind(host: str, port: int, flag: str = "--serve") -> socket.socket:
    """A listening TCP socket on ``host:port`` (IPv4 or IPv6, names resolved).

    Raises:
        OptionError: the address does not resolve, is not this machine's, or the port is taken.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise OptionError(f"{flag}: cannot resolve {host!r} ({exc.strerror})", "use an IP address such as 127.0.0.1") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise OptionError(
            f"cannot serve on {host}:{port}: {exc.strerror or exc}",
            "pick another port (0 picks a free one), or check the address belongs to this machine",
        ) from exc
    sock.set_inheritable(True)
    return sock


def url_host(host: str) -> str:
    """How a browser on this machine reaches ``host`` (wildcards become loopback, IPv6 gets brackets)."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class Server:
    """One ASGI app served by uvicorn on ``host:port``.

    ``start()`` runs it on a background thread (``vidtrack run --serve``, tests) and
    returns once it accepts connections; ``serve_forever()`` also blocks until Ctrl-C or
    SIGTERM (``vidtrack serve``). ``stop()`` is idempotent.

    ``sock``: a socket already bound with :func:`bind` (to fail fast before slow set-up).
    ``max_connections``, ``head_timeout_s``, ``body_min_rate``, ``body_window_s``: the limits
    on clients (503 past the connections; 408 for a late head or a slow body; see
    :mod:`vidtrack.web.deadlines`); idle keep-alive connections close after :data:`KEEP_ALIVE_S`.

    Raises:
        OptionError: from :func:`bind`.
    """

    def __init__(self, app: Any, host: str, port: int, flag: str = "--serve", sock: socket.socket | None = None,
                 max_connections: int = MAX_CONNECTIONS, head_timeout_s: float | None = None,
                 body_min_rate: float | None = None, body_window_s: float | None = None) -> None:
        import uvicorn

        from vidtrack.web import deadlines

        self.host = host
        self._socket = sock if sock is not None else bind(host, port, flag)
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=GRACEFUL_STOP_S,
            server_header=False,
            http=deadlines.protocol_with_deadlines(
                deadlines.HEAD_TIMEOUT_S if head_timeout_s is None else head_timeout_s,
                deadlines.BODY_MIN_RATE if body_min_rate is None else body_min_rate,
                deadlines.BODY_WINDOW_S if body_window_s is None else body_window_s,
                max_connections,
            ),
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` as a browser on this machine would open it."""
        return f"http://{url_host(self.host)}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Serve on a daemon thread; return once uvicorn has started.

        Raises:
            RuntimeError: uvicorn did not start within ``timeout`` seconds.
        """
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="web-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the web server on {self.base_url} did not start")
            time.sleep(0.01)

    def serve_forever(self) -> None:
        """Serve until Ctrl-C or SIGTERM, then stop gracefully and return (call from the main thread).

        uvicorn runs on its background thread; the signals are caught here, so whatever the
        caller does after this returns (closing video jobs) runs, and the process exits normally.
        """
        import signal

        stopping = threading.Event()
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in previous:
            signal.signal(sig, lambda _signum, _frame: stopping.set())
        try:
            self.start()
            while not stopping.wait(0.5):
                if self._thread is not None and not self._thread.is_alive():
                    break
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()

    def stop(self) -> None:
        """Stop accepting, give open requests :data:`GRACEFUL_STOP_S`, and join the thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=GRACEFUL_STOP_S + 5)
            if self._thread.is_alive():  # pragma: no cover - a request that ignores cancellation
                self._server.force_exit = True
                self._thread.join(timeout=2)
        self._socket.close()
