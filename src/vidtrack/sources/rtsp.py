"""Why an RTSP camera refused: a few plain RTSP requests, made only after FFmpeg's open failed.

FFmpeg (through OpenCV) reports any failed open the same way. Asking the camera directly
(DESCRIBE, then SETUP with the transport we would use) turns its answer into a sentence the
user can act on: wrong password (401), no such path (404), a camera that only sends RTP
over UDP (461 to a TCP SETUP).
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
from urllib.parse import unquote, urlsplit, urlunsplit

#: Transports a user may choose with ``--rtsp-transport`` (FFmpeg's ``rtsp_transport``).
RTSP_TRANSPORTS = ("tcp", "udp")


def _request(sock: socket.socket, lines: list[str]) -> tuple[int, str, dict[str, str], str]:
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("the camera closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers, body.decode("latin-1")


def _authorization(challenge: str, user: str, password: str, method: str, uri: str) -> str:
    if challenge.lower().startswith("digest"):
        fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
        ha1 = hashlib.md5(f"{user}:{fields.get('realm', '')}:{password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
        response = hashlib.md5(f"{ha1}:{fields.get('nonce', '')}:{ha2}".encode()).hexdigest()
        return (
            f'Digest username="{user}", realm="{fields.get("realm", "")}", nonce="{fields.get("nonce", "")}", '
            f'uri="{uri}", response="{response}"'
        )
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def probe(url: str, transport: str = "tcp", timeout: float = 3.0) -> str | None:
    """What the camera at ``url`` objects to, as one phrase for an error line; None when it
    accepts DESCRIBE and SETUP (or cannot be asked: then the caller's own reason stands)."""
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 554
    if not host:
        return None
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password or "")
    netloc = host if ":" not in host else f"[{host}]"
    clean = urlunsplit(parts._replace(netloc=f"{netloc}:{port}"))  # no credentials on the wire in the URI
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            cseq = 1
            auth = ""
            lines = [f"DESCRIBE {clean} RTSP/1.0", f"CSeq: {cseq}", "Accept: application/sdp", "User-Agent: vidtrack"]
            status, reason, headers, body = _request(sock, lines)
            if status == 401 and user is not None:
                auth = _authorization(headers.get("www-authenticate", ""), user, password, "DESCRIBE", clean)
                cseq += 1
                status, reason, headers, body = _request(sock, [*lines[:1], f"CSeq: {cseq}", *lines[2:], f"Authorization: {auth}"])
            if status == 401:
                if user is None:
                    return "the camera asks for a user name and password (RTSP 401): put them in the URL, rtsp://USER:PASS@HOST/PATH"
                return "the camera refused the credentials (RTSP 401 Unauthorized): check the user name and password"
            if status == 404:
                return "the camera has no stream at this path (RTSP 404): check the URL's path"
            if status >= 400:
                return f"the camera answered RTSP {status} {reason} to DESCRIBE"
            base = headers.get("content-base") or headers.get("content-location") or clean
            control = next((m for m in re.findall(r"a=control:(\S+)", body) if m != "*"), "")
            track = control if control.startswith("rtsp://") else base.rstrip("/") + "/" + control if control else base
            if transport == "tcp":
                spec = "RTP/AVP/TCP;unicast;interleaved=0-1"
            else:
                spec = "RTP/AVP;unicast;client_port=50000-50001"
            cseq += 1
            setup = [f"SETUP {track} RTSP/1.0", f"CSeq: {cseq}", f"Transport: {spec}", "User-Agent: vidtrack"]
            if auth:
                setup.append(f"Authorization: {auth}")
            status, reason, _, _ = _request(sock, setup)
            if status == 461 and transport == "tcp":
                return "the camera only offers RTP over UDP (RTSP 461 to a TCP setup): use --rtsp-transport udp"
            if status == 461:
                return "the camera does not offer RTP over UDP (RTSP 461): use --rtsp-transport tcp"
            if status >= 400:
                return f"the camera answered RTSP {status} {reason} to SETUP"
    except (OSError, ValueError, IndexError):
        return None
    return None
