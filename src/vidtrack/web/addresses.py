"""Server addresses: ``[HOST:]PORT`` parsing and the loopback rule (no web imports here).

Used by ``vidtrack run --serve`` and ``vidtrack serve`` to check their options before
anything heavy is imported or any socket is opened.
"""

from __future__ import annotations

import ipaddress
import re

from vidtrack.errors import OptionError

DEFAULT_HOST = "127.0.0.1"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}

def parse_serve_address(text: str) -> tuple[str, int]:
    """``"8080"``, ``":8080"``, ``"0.0.0.0:8080"``, ``"[::1]:8080"`` -> (host, port); host defaults to 127.0.0.1.

    Raises:
        OptionError: not ``[HOST:]PORT``, or a port over 65535.
    """
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


def check_bind(host: str, port: int, token: str | None, flag: str = "--serve") -> None:
    """Refuse to expose a server off loopback without a token.

    Raises:
        OptionError: ``host`` is not loopback and ``token`` is empty.
    """
    if not token and not is_loopback(host):
        raise OptionError(
            f"{flag} {host}:{port} would expose the server to other machines without a token",
            "add --token SECRET (clients then send 'Authorization: Bearer SECRET' or open URLs with ?token=SECRET),"
            " or serve on 127.0.0.1",
        )
