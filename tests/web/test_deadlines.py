"""Slow and silent clients are dropped (408 JSON) and connections are capped (503) (issue 23, item 5)."""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Iterator

import pytest


@pytest.fixture(scope="module")
def strict_server() -> Iterator[Any]:
    """A model-less server (and /echo, reading bodies) with 2 s head deadline, 1 s body windows at 1 kB/s, and 4 connections."""
    from vidtrack.web.app import create_app
    from vidtrack.web.server import Server

    api = create_app()

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/echo":
            await api(scope, receive, send)
            return
        size, more = 0, True  # a route that reads its whole body (as uploads do)
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": str(size).encode()})

    server = Server(app, "127.0.0.1", 0, max_connections=4, head_timeout_s=2.0, body_min_rate=1000,
                    body_window_s=1.0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def connect(server: Any) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (at most 10 s)."""
    data = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"the server kept the connection open: {data!r}")


def read_response(sock: socket.socket) -> bytes:
    """One whole response with a Content-Length (the connection stays open)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536) or pytest.fail(f"closed after {data!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536) or pytest.fail("closed mid-body")
    return head + b"\r\n\r\n" + body


def status_and_body(data: bytes) -> tuple[int, dict]:
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_connection_cap_answers_503(strict_server: Any) -> None:
    idle = [connect(strict_server) for _ in range(4)]
    try:
        time.sleep(0.2)
        sock = connect(strict_server)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, body = status_and_body(read_all(sock))
        assert status == 503 and "--max-connections" in body["fix"]
    finally:
        for s in idle:
            s.close()
    time.sleep(0.2)
    sock = connect(strict_server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert read_all(sock).split()[1] == b"200"


@pytest.mark.parametrize("sent", [b"", b"POST /v1/detect HTTP/1.1\r\nHost: 127.0.0.1\r\n"])
def test_silent_or_trickling_head_gets_408_and_is_closed(strict_server: Any, sent: bytes) -> None:
    sock = connect(strict_server)
    sock.sendall(sent)
    status, body = status_and_body(read_all(sock))
    assert status == 408 and "head" in body["error"] and body["fix"]


def test_short_or_trickling_body_gets_408_and_is_closed(strict_server: Any) -> None:
    sock = connect(strict_server)
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100000\r\n\r\n{\"image\"")
    status, body = status_and_body(read_all(sock))
    assert status == 408 and "body" in body["error"]


def test_idle_keep_alive_and_a_steady_body_still_work(strict_server: Any) -> None:
    sock = connect(strict_server)
    for _ in range(2):
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_response(sock).split()[1] == b"200"
        time.sleep(0.5)
    sock.close()
    sock = connect(strict_server)
    body = b"x" * 6000
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
    for i in range(0, len(body), 250):  # 2 kB/s for 3 s: slower than a LAN, above the 1 kB/s floor
        sock.sendall(body[i:i + 250])
        time.sleep(0.125)
    answer = read_all(sock)
    assert answer.split()[1] == b"200" and b"\r\n6000\r\n" in answer
