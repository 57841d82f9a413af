"""``--webhook URL``: POST each event as JSON (``Content-Type: application/json``), off the pipeline's path.

Delivery (queue, retries, drop counts) is :mod:`vidtrack.sinks.delivery`'s. A 2xx answer
is a delivery; anything else (no connection, timeout, 4xx/5xx) is retried.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Callable, Iterable
from urllib.parse import urlsplit

from vidtrack.errors import OptionError, mask_credentials
from vidtrack.sinks.delivery import Delivery
from vidtrack.sinks.notify import NotifySink

if TYPE_CHECKING:
    from vidtrack.frames import Event

#: Seconds one POST may take before it counts as failed (and is retried).
TIMEOUT_S = 5.0


def check_webhook_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host.

    Raises:
        OptionError: another scheme or no host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OptionError(f"--webhook {mask_credentials(url)!r} is not an http(s) URL", "use e.g. http://127.0.0.1:8080/hook")
    return url


class WebhookSink(NotifySink):
    """POSTs every event of its source to ``url`` (see the module docstring)."""

    kind = "webhook"

    def __init__(self, url: str, final_events: "Callable[[], Iterable[Event]] | None" = None, **delivery: float) -> None:
        check_webhook_url(url)

        def send(payload: bytes) -> None:
            request = urllib.request.Request(url, data=payload, method="POST", headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # raises on 4xx/5xx
                response.read()

        super().__init__(Delivery(send, url, **delivery), final_events)  # type: ignore[arg-type]
