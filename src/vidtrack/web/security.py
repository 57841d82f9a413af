"""Who may talk to the server, and how much they may send.

- Addresses (re-exported from :mod:`vidtrack.web.addresses`): ``[HOST:]PORT`` parsing and
  the loopback test behind the rule "any address other than loopback needs a token".
- :class:`Guard`, an ASGI middleware in front of every route:
  - with a token, each request must carry it (``Authorization: Bearer T``,
    ``X-Vidtrack-Token: T`` or ``?token=T`` for ``<img>``/``<video>`` URLs), compared in
    constant time; else 403;
  - without one (loopback only), the ``Host`` header must name this machine, so a web page
    elsewhere cannot reach the server through DNS rebinding; else 403; and a state-changing
    request (POST, DELETE...) sent by a page of another site (its ``Origin`` is neither the
    server's own nor one allowed by ``--cors-origin``, or ``Sec-Fetch-Site: cross-site``) is
    refused (403), so a page elsewhere cannot create jobs through the visitor's browser;
    requests without ``Origin`` (curl, Frigate, Home Assistant) are not browsers' and pass;
  - a CORS preflight (``OPTIONS`` with ``Access-Control-Request-Method``) from an origin
    allowed by ``--cors-origin`` passes without the token: browsers never send credentials
    with it, and it changes nothing;
  - request bodies are capped: a declared ``Content-Length`` over the cap is refused before
    any byte is read, and a body without one is counted while it streams in and refused
    the moment it passes the cap (413), so an upload is never buffered whole first.

Every refusal is JSON ``{"error", "fix"}``.
"""

from __future__ import annotations

import hmac
import json
from typing import Any, Awaitable, Callable, Iterable
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException

from vidtrack.web.addresses import DEFAULT_HOST, check_bind, is_loopback, parse_serve_address

__all__ = ["DEFAULT_HOST", "Guard", "UploadTooLarge", "check_bind", "is_loopback", "parse_serve_address"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def error_body(error: str, fix: str) -> bytes:
    """The JSON every refusal carries: ``{"error": what is wrong, "fix": what to do}``."""
    return json.dumps({"error": error, "fix": fix}).encode()


class UploadTooLarge(HTTPException):
    """A request body passed the upload cap while it was being read (an HTTP 413).

    An ``HTTPException`` so that FastAPI's body parsing passes it on unchanged instead of
    turning it into a generic 400.
    """

    def __init__(self, limit: int, flag: str = "--max-upload-mb") -> None:
        self.limit = limit
        error, fix = too_large_fix(limit, flag)
        super().__init__(413, {"error": error, "fix": fix}, headers={"Connection": "close"})


def too_large_fix(limit: int, flag: str = "--max-upload-mb") -> tuple[str, str]:
    """The (error, fix) pair of a 413."""
    mb = limit / (1 << 20)
    return (
        f"upload too large: the limit is {mb:g} MB",
        f"send a smaller file, or start the server with a larger {flag}",
    )


def token_from(scope: Scope) -> bytes:
    """The token a request carries, as bytes: ``Authorization: Bearer``, ``X-Vidtrack-Token`` or ``?token=``.

    Header values are compared as sent (a non-ASCII token arrives as its UTF-8 bytes);
    the query's is percent-decoded as UTF-8 and encoded back, so both paths agree.
    """
    headers = dict(scope.get("headers") or [])
    bearer = headers.get(b"authorization", b"")
    if bearer[:7].lower() == b"bearer ":
        return bearer[7:].strip()
    given = headers.get(b"x-vidtrack-token", b"")
    if given:
        return given.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query.get("token", [""])[0].encode("utf-8", "surrogateescape")


def host_name(scope: Scope) -> str:
    """The host named by the request's ``Host`` header, without the port, lower case."""
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").strip().lower()
    if host.startswith("["):
        return host[1:].split("]")[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard:
    """ASGI middleware: the token (or Host) rule and the body cap, before any route runs.

    Args:
        app: the application behind it.
        token: the secret every request must carry; None allows requests whose Host
            header names this machine (``allowed_hosts``) only.
        allowed_hosts: Host names accepted without a token (loopback names and the bound host).
        max_body: largest request body in bytes; None for no cap.
    """

    def __init__(self, app: Any, token: str | None, allowed_hosts: Iterable[str], max_body: int | None,
                 cors_origins: Iterable[str] = (), route_caps: dict[str, int] | None = None) -> None:
        self.app = app
        self.token = token.encode("utf-8") if token else None
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.max_body = max_body
        self.cors_origins = {o.rstrip("/").lower() for o in cors_origins}
        #: Smaller body caps of particular paths (the image routes), in bytes.
        self.route_caps = dict(route_caps or {})

    def authorized(self, scope: Scope) -> bool:
        """True when the request may proceed (constant-time token comparison)."""
        if self.token is None:
            return host_name(scope) in self.allowed_hosts
        return hmac.compare_digest(token_from(scope), self.token)

    def is_preflight(self, scope: Scope) -> bool:
        """True for a CORS preflight from an origin ``--cors-origin`` allows (it carries no token)."""
        if scope.get("method") != "OPTIONS" or not self.cors_origins:
            return False
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1").rstrip("/").lower()
        return origin in self.cors_origins and b"access-control-request-method" in headers

    def cross_site(self, scope: Scope) -> str | None:
        """Why a state-changing request comes from a page of another site, or None.

        Safe methods (GET, HEAD, OPTIONS) and requests without ``Origin`` or
        ``Sec-Fetch-Site`` (not from a browser) are never cross-site here.
        """
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return None
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin")
        if origin is not None:
            text = origin.decode("latin-1").strip().rstrip("/").lower()
            host = headers.get(b"host", b"").decode("latin-1").strip().lower()
            if text in self.cors_origins or text in (f"http://{host}", f"https://{host}"):
                return None
            return f"Origin {text[:100]}"
        if headers.get(b"sec-fetch-site", b"").strip().lower() == b"cross-site":
            return "Sec-Fetch-Site: cross-site"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.is_preflight(scope):
            await self.app(scope, receive, send)
            return
        if not self.authorized(scope):
            fix = (
                "send 'Authorization: Bearer TOKEN' or add ?token=TOKEN (the --token the server was started with)"
                if self.token
                else "open the server by the address it listens on (127.0.0.1 or localhost)"
            )
            await _respond(send, 403, error_body("forbidden: a valid token is required" if self.token
                                                 else "forbidden: unknown Host header", fix))
            return
        if self.token is None:
            where = self.cross_site(scope)
            if where is not None:
                await _respond(send, 403, error_body(
                    f"forbidden: a page of another site sent this request ({where})",
                    "open the page from this server, or start it with --cors-origin ORIGIN to allow that site"))
                return
        limit, flag = self.max_body, "--max-upload-mb"
        special = self.route_caps.get(scope.get("path", ""))
        if special is not None and (limit is None or special < limit):
            limit, flag = special, "--max-image-mb"
        if limit is None or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            error, fix = too_large_fix(limit, flag)
            await _respond(send, 413, error_body(error, fix), close=True)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise UploadTooLarge(limit, flag)
            return message

        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except UploadTooLarge:
            if started:
                raise
            error, fix = too_large_fix(limit, flag)
            await _respond(send, 413, error_body(error, fix), close=True)


async def _respond(send: Send, status: int, body: bytes, close: bool = False) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]
    if close:  # the rest of the body is not read: the connection cannot be reused
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
