"""``--events FILE.jsonl``: one JSON line per analytics event (crossings, zone entries, exits, loiter).

Each frame's events go out in one unbuffered write, so a killed run leaves whole lines.
At ``close()`` the events that end the stream are added (crossings still waiting for
confirmation, exits of visits still open), taken from the analytics stage.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Callable, Iterable

from vidtrack.sinks.data import _LineFile

if TYPE_CHECKING:
    from vidtrack.analytics.events import Event
    from vidtrack.frames import FrameResult


class EventsSink:
    """``{"t", "frame", "type", "track_id", "class", "line"|"zone", "direction", "dwell_s", "confidence"}`` per line.

    ``final_events`` is called once at close for the end-of-stream events (may be None).
    """

    warnings: tuple[str, ...] = ()  # nothing to report

    def __init__(
        self, path: str | os.PathLike[str], final_events: "Callable[[], Iterable[Event]] | None" = None
    ) -> None:
        self._out = _LineFile(path)
        self._final = final_events
        self._closed = False

    def _write(self, events: "Iterable[Event]") -> None:
        text = "".join(json.dumps(e.to_json(), separators=(",", ":")) + "\n" for e in events)
        if text:
            self._out.write(text)

    def write(self, result: "FrameResult") -> None:
        """Append one JSON line per event of the frame, all in one unbuffered write; nothing when there are none.

        Raises:
            OutputError: the write failed (disk full...): the file is cut back to its last whole line.
        """
        self._write(result.events)

    def close(self) -> None:
        """Append the end-of-stream events (``final_events``), then close the file. Idempotent.

        Raises:
            OutputError: writing the last events failed (the file is closed anyway).
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._final is not None:
                self._write(self._final())
        finally:
            self._out.close()
