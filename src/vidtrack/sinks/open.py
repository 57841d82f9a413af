"""The file sinks of one lane, built from :class:`~vidtrack.config.OutputConfig` by one table.

A new file output is one sink file (a class with the :class:`~vidtrack.sinks.base.Sink`
contract), one line in :data:`OPENERS` (its ``OutputConfig`` field -> how to open it), and the
field and option that name its path (``config.py``, ``options.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from vidtrack.config import OutputConfig
from vidtrack.sinks.base import Sink
from vidtrack.sinks.data import JsonlSink, MotSink
from vidtrack.sinks.events import EventsSink
from vidtrack.sinks.video import open_video_sink

if TYPE_CHECKING:
    from vidtrack.frames import SourceInfo

#: Opens the sink of an ``OutputConfig`` field from (path, source info, output settings,
#: the lane's analytics stage or None). In this order the files are listed to the user; the
#: summary (``OutputConfig.summary``) is written at the end by the runner, not by a sink.
OPENERS: dict[str, Callable[[Path, "SourceInfo", OutputConfig, Any], Sink]] = {
    "video": lambda path, info, config, analytics: open_video_sink(path, info, config),
    "jsonl": lambda path, info, config, analytics: JsonlSink(path),
    "mot": lambda path, info, config, analytics: MotSink(path),
    "events": lambda path, info, config, analytics: EventsSink(path, analytics.finish if analytics is not None else None),
}


def open_sinks(
    paths: Mapping[str, Path | None], info: "SourceInfo", config: OutputConfig, analytics: Any = None
) -> tuple[list[Sink], list[Path]]:
    """The sinks for the ``paths`` given (``OutputConfig`` field -> this lane's path, None: not wanted).

    Returns the sinks and the files they write, in :data:`OPENERS`' order. If one fails to
    open (OutputError), those already open are closed before it propagates.
    """
    sinks: list[Sink] = []
    files: list[Path] = []
    try:
        for field, opener in OPENERS.items():
            path = paths.get(field)
            if path is not None:
                sinks.append(opener(path, info, config, analytics))
                files.append(path)
    except BaseException:
        for sink in sinks:
            sink.close()
        raise
    return sinks, files
