"""What the notification sinks share: each event becomes one JSON message, named for drop reports."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Callable, Iterable

from vidtrack.sinks.delivery import Delivery

if TYPE_CHECKING:
    from vidtrack.frames import Event
    from vidtrack.frames import FrameResult


def event_message(event: "Event", source: str) -> tuple[str, bytes]:
    """An event's name (``cross#7@frame 61``) and its message: the events-file record plus ``source``."""
    record: dict[str, Any] = {**event.to_json(), "source": source}
    name = f"{event.type}#{event.track_id}@frame {event.frame}"
    return name, json.dumps(record, separators=(",", ":")).encode("utf-8")


class NotifySink:
    """Sends each event of each frame through a :class:`Delivery` (never blocks the pipeline).

    ``final_events`` (may be None) gives the end-of-stream events at close, as for the events file.
    Subclasses build the delivery (``send`` and the receiver's label).
    """

    #: Where :meth:`summary` goes in the run summary (``notifications.<kind>``).
    SUMMARY_KEY = "notifications"
    kind = "notify"

    def __init__(self, delivery: Delivery, final_events: "Callable[[], Iterable[Event]] | None" = None) -> None:
        self.delivery = delivery
        self._final = final_events
        self._source = ""
        self._closed = False

    def write(self, result: "FrameResult") -> None:
        """Queue one message per event of the frame (:func:`event_message`); never blocks.

        A full queue drops the message and counts it (:class:`Delivery`); nothing is raised.
        """
        self._source = result.source_name
        for event in result.events:
            self.delivery.put(*event_message(event, result.source_name))

    def close(self) -> None:
        """Queue the end-of-stream events, then close the delivery. Idempotent.

        The delivery has ``flush_s`` seconds (:data:`~vidtrack.sinks.delivery.FLUSH_S` by default)
        to send what is queued; the rest is counted as dropped and named in :attr:`warnings`.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._final is not None:
                for event in self._final():
                    self.delivery.put(*event_message(event, self._source))
        finally:
            self.delivery.close()

    @property
    def warnings(self) -> list[str]:
        """One line when messages were dropped, naming the first ones (:meth:`Delivery.warnings`)."""
        return self.delivery.warnings()

    def summary(self) -> dict[str, Any]:
        """``{"<kind>": {"target", "sent", "retries", "dropped", "dropped_events", "last_error"}}`` of this sink."""
        return {self.kind: {"target": self.delivery.label, **self.delivery.stats.as_dict()}}
