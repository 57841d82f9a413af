"""Delivery of event notifications off the pipeline's path: a bounded queue, retries with backoff, counted drops.

Used by the ``--webhook`` and ``--mqtt`` sinks. ``put`` never blocks: it queues the
message or, when the queue is full (the receiver has been away longer than the queue
lasts), drops it and counts it. A background thread sends queued messages in order, in
batches: it waits up to :data:`LINGER_S` after the first for more (at most :data:`BATCH`),
so that a burst of events costs one wake-up of the sender and one round of
acknowledgements instead of one each (the sender's thread competes with the pipeline's for
the interpreter); a failed send is retried with exponential backoff (:data:`BACKOFF_S` doubling up to
:data:`BACKOFF_MAX_S`) while the message is younger than :data:`GIVE_UP_S`, so an
outage of a broker or web server up to that long loses nothing. At close, the thread
has :data:`FLUSH_S` seconds to deliver what is queued; the rest is counted as dropped.
Every drop is reported (count and the first :data:`NAMED` messages' names) in the
sink's ``warnings`` and in the run summary.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from vidtrack.errors import mask_credentials

log = logging.getLogger("vidtrack")

#: Messages waiting for delivery. 10,000 event messages of ~300 bytes: ~3 MB at most.
CAPACITY = 10_000
#: First retry delay; doubles after each failure up to BACKOFF_MAX_S.
BACKOFF_S = 0.25
BACKOFF_MAX_S = 5.0
#: A message still undelivered this long after it was queued is dropped (and counted).
GIVE_UP_S = 120.0
#: At the end of a run, how long queued messages may still take to go out.
FLUSH_S = 15.0
#: Dropped messages named in the report (the rest are only counted).
NAMED = 20
#: After the first queued message, how long the sender waits for more to send them together.
LINGER_S = 0.2
#: Messages sent together at most.
BATCH = 200

#: Sends a batch of payloads; returns which were delivered (True) and the error of the
#: first failure (None when all were delivered).
SendMany = Callable[[list[bytes]], tuple[list[bool], "str | None"]]


@dataclass
class DeliveryStats:
    """What happened to the messages: sent, retried sends, dropped (and the first dropped ones' names)."""

    sent: int = 0
    retries: int = 0
    dropped: int = 0
    dropped_names: list[str] = field(default_factory=list)
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """``{"sent", "retries", "dropped", "dropped_events", "last_error"}`` as the run summary shows it."""
        return {
            "sent": self.sent, "retries": self.retries, "dropped": self.dropped,
            "dropped_events": list(self.dropped_names), "last_error": self.last_error,
        }


def one_by_one(send: Callable[[bytes], None]) -> SendMany:
    """A :data:`SendMany` from a one-payload ``send`` (raises on failure): sends in order and
    stops at the first failure."""

    def send_many(payloads: list[bytes]) -> tuple[list[bool], str | None]:
        done: list[bool] = []
        for payload in payloads:
            try:
                send(payload)
            except Exception as exc:  # any failure of the receiver: the rest wait for a retry
                return done + [False] * (len(payloads) - len(done)), f"{type(exc).__name__}: {exc}"
            done.append(True)
        return done, None

    return send_many


class Delivery:
    """A background sender: ``send`` is called on its thread with batches of payloads.

    Args:
        send: a :data:`SendMany` (delivers a list of payloads, says which were delivered),
            or a one-payload function that raises on failure (wrapped by :func:`one_by_one`).
        label: what the receiver is called in reports (credentials masked), e.g. ``mqtt://host:1883/t``.
        capacity, give_up_s, flush_s: see the module constants.
        on_close: called on the thread when it ends (close connections).
    """

    def __init__(
        self,
        send: "Callable[[bytes], None] | SendMany",
        label: str,
        *,
        capacity: int = CAPACITY,
        give_up_s: float = GIVE_UP_S,
        flush_s: float = FLUSH_S,
        on_close: Callable[[], None] | None = None,
        batched: bool = False,
        linger_s: float = LINGER_S,
    ) -> None:
        self._send_many: SendMany = send if batched else one_by_one(send)  # type: ignore[assignment,arg-type]
        self._linger_s = linger_s
        self.label = mask_credentials(label)
        self._queue: "queue.Queue[tuple[float, str, bytes] | None]" = queue.Queue(maxsize=capacity)
        self._give_up_s = give_up_s
        self._flush_s = flush_s
        self._on_close = on_close
        self._closing = threading.Event()
        self._deadline: float | None = None
        self._lock = threading.Lock()
        self.stats = DeliveryStats()
        self._thread = threading.Thread(target=self._run, name="notify", daemon=True)
        self._thread.start()

    def put(self, name: str, payload: bytes) -> None:
        """Queue ``payload`` (``name`` identifies it in drop reports); never blocks."""
        try:
            self._queue.put_nowait((time.monotonic(), name, payload))
        except queue.Full:
            self._drop(name, "queue full")

    def _drop(self, name: str, why: str) -> None:
        with self._lock:
            self.stats.dropped += 1
            if len(self.stats.dropped_names) < NAMED:
                self.stats.dropped_names.append(name)
            if self.stats.dropped == 1:
                log.warning("%s: dropping notifications (%s)", self.label, why)

    def _run(self) -> None:
        try:
            while True:
                try:
                    item = self._queue.get(timeout=0.1)
                except queue.Empty:
                    if self._closing.is_set():
                        return
                    continue
                if item is None:
                    return
                batch, last = self._gather(item)
                self._deliver(batch)
                if last:
                    return
        finally:
            if self._on_close is not None:
                try:
                    self._on_close()
                except Exception:  # closing a dead connection: nothing left to do
                    pass

    def _gather(self, first: tuple[float, str, bytes]) -> tuple[list[tuple[float, str, bytes]], bool]:
        """``first`` and what else arrives within the linger time (up to BATCH); True when the end
        marker came (the batch is the last)."""
        batch = [first]
        until = time.monotonic() + self._linger_s
        while len(batch) < BATCH:
            wait = until - time.monotonic()
            try:
                item = self._queue.get_nowait() if wait <= 0 or self._closing.is_set() else self._queue.get(timeout=wait)
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _deliver(self, batch: list[tuple[float, str, bytes]]) -> None:
        """Send ``batch``; retry what was not delivered with backoff, drop what is too old."""
        delay = BACKOFF_S
        while batch:
            if self._deadline is not None and time.monotonic() > self._deadline:
                for _, name, _ in batch:
                    self._drop(name, "run ended before delivery")
                return
            try:
                done, error = self._send_many([payload for _, _, payload in batch])
            except Exception as exc:  # a sender that raised: nothing of the batch counts as delivered
                done, error = [False] * len(batch), f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.stats.sent += sum(done)
            batch = [item for item, ok in zip(batch, done) if not ok]
            if not batch:
                return
            self.stats.last_error = mask_credentials(error or "not delivered")
            now = time.monotonic()
            for item in [item for item in batch if now - item[0] > self._give_up_s]:
                self._drop(item[1], f"undelivered for {self._give_up_s:.0f} s")
            batch = [item for item in batch if now - item[0] <= self._give_up_s]
            if not batch:
                return
            with self._lock:
                self.stats.retries += 1
            wait = delay if self._deadline is None else min(delay, max(0.0, self._deadline - time.monotonic()))
            time.sleep(wait)
            delay = min(delay * 2, BACKOFF_MAX_S)

    def close(self) -> None:
        """Deliver what is queued within ``flush_s`` seconds, count the rest as dropped; idempotent."""
        if self._closing.is_set():
            return
        self._deadline = time.monotonic() + self._flush_s
        self._closing.set()
        try:
            self._queue.put(None, timeout=self._flush_s)
        except queue.Full:
            pass
        self._thread.join(self._flush_s + 5.0)
        while True:  # whatever the thread did not reach
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self._drop(item[1], "run ended before delivery")

    def warnings(self) -> list[str]:
        """One line when messages were dropped, naming the first ones."""
        s = self.stats
        if not s.dropped:
            return []
        names = ", ".join(s.dropped_names) + (", ..." if s.dropped > len(s.dropped_names) else "")
        why = f" (last error: {s.last_error})" if s.last_error else ""
        return [f"{self.label}: {s.dropped} notification(s) not delivered: {names}{why}"]
