"""Deadlines for slow or silent clients, at the HTTP connection (uvicorn's h11 protocol).

uvicorn drops a connection idle *between* requests (``timeout_keep_alive``) and caps the
open connections (``limit_concurrency``, 503), but waits forever for a request head that
never completes or a body that trickles in. :func:`protocol_with_deadlines` adds both:

- the request head (request line and headers) must arrive within ``head_timeout_s`` of the
  connection opening or of the previous response;
- the request body must keep arriving at ``body_min_rate`` bytes/s or more, measured over
  each ``body_window_s`` window (so a slow but steady upload passes, a trickle or a
  ``Content-Length`` longer than what is sent does not).

A client that misses one gets ``408`` JSON ``{"error", "fix"}`` and the connection is closed.
A connection opened while ``max_connections`` are already open gets ``503`` JSON (with
``Retry-After``) to its first request, and is closed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Defaults: seconds for a request head; bytes/s a body must keep; seconds each rate window lasts.
HEAD_TIMEOUT_S = 10.0
BODY_MIN_RATE = 4096
BODY_WINDOW_S = 10.0
#: Default cap on open connections.
MAX_CONNECTIONS = 64


async def _busy(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The answer on a connection past the cap: 503 JSON, Retry-After, connection closed."""
    body = json.dumps({"error": "too many open connections", "fix": "retry in a second, or start the server "
                       "with a larger --max-connections"}).encode()
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"retry-after", b"1"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def protocol_with_deadlines(head_timeout_s: float = HEAD_TIMEOUT_S, body_min_rate: float = BODY_MIN_RATE,
                            body_window_s: float = BODY_WINDOW_S, max_connections: int = MAX_CONNECTIONS) -> type:
    """uvicorn's h11 protocol class with the connection cap and the head and body deadlines
    above (pass as ``Config(http=...)``, with ``limit_concurrency`` left unset)."""

    class DeadlineProtocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                self.app = _busy  # this connection's request gets the 503, then it closes
            self._head_timer: asyncio.TimerHandle | None = None
            self._body_timer: asyncio.TimerHandle | None = None
            self._received = 0
            self._window_start = 0
            self._arm_head()

        def _arm_head(self) -> None:
            self._cancel(head=True)
            self._head_timer = self.loop.call_later(head_timeout_s, self._head_late)

        def _cancel(self, head: bool = False, body: bool = False) -> None:
            if head and self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            if body and self._body_timer is not None:
                self._body_timer.cancel()
                self._body_timer = None

        def data_received(self, data: bytes) -> None:
            self._received += len(data)
            super().data_received(data)
            self._track()

        def _track(self) -> None:
            """Move the timers along with h11's view of the request: head done, body done."""
            if self.transport.is_closing():
                self._cancel(head=True, body=True)
                return
            state = self.conn.their_state
            if state is not h11.IDLE:
                self._cancel(head=True)
            if state is h11.SEND_BODY and self._body_timer is None:
                self._window_start = self._received
                self._body_timer = self.loop.call_later(body_window_s, self._body_check)
            elif state is not h11.SEND_BODY:
                self._cancel(body=True)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_head()  # the next request's head has its deadline too
                self._track()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel(head=True, body=True)
            super().connection_lost(exc)

        def _head_late(self) -> None:
            self._head_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self.conn.our_state is h11.IDLE:
                self._refuse("the request head (request line and headers) did not arrive in time",
                             f"send the whole request head within {head_timeout_s:g} s")
            else:
                self.transport.close()

        def _body_check(self) -> None:
            self._body_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.SEND_BODY:
                return
            got = self._received - self._window_start
            if got >= body_min_rate * body_window_s:
                self._window_start = self._received
                self._body_timer = self.loop.call_later(body_window_s, self._body_check)
                return
            cycle = self.cycle
            if cycle is not None and not cycle.response_started:
                cycle.disconnected = True  # the app's receive() says disconnect, its send() is ignored
                cycle.message_event.set()
                self._refuse("the request body arrived too slowly or stopped before its Content-Length",
                             f"send the body at {body_min_rate / 1024:g} KB/s or more, and exactly Content-Length bytes")
            else:
                self.transport.close()

        def _refuse(self, error: str, fix: str) -> None:
            body = json.dumps({"error": error, "fix": fix}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                       (b"connection", b"close")]
            try:
                for event in (h11.Response(status_code=408, headers=headers, reason=b"Request Timeout"),
                              h11.Data(data=body), h11.EndOfMessage()):
                    self.transport.write(self.conn.send(event))
            except h11.LocalProtocolError:
                pass
            self.transport.close()

    return DeadlineProtocol


__all__: list[Any] = ["BODY_MIN_RATE", "BODY_WINDOW_S", "HEAD_TIMEOUT_S", "protocol_with_deadlines"]
