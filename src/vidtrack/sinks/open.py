"""The file sinks of one lane, built from :class:`~vidtrack.config.OutputConfig` by one table.

A new file output is one sink file and one line in :data:`OPENERS`. The sink file holds the
sink (the :class:`~vidtrack.sinks.base.Sink` contract) and an
:class:`~vidtrack.sinks.base.Output` that declares its path option (type, help) and how to
open it; the line registers it: ``"track_csv": track_csv.OUTPUT``. The option then reaches
every front end (:data:`vidtrack.options.OPTIONS` collects it, see :func:`output_options`)
and its path reaches the opener through ``OutputConfig.more``; nothing else changes.
The outputs that predate this (``-o``, ``--jsonl``...) keep their ``OutputConfig`` fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from vidtrack.config import OutputConfig
from vidtrack.optionspec import Option
from vidtrack.sinks.base import Output, Sink
from vidtrack.sinks.data import JsonlSink, MotSink
from vidtrack.sinks.events import EventsSink
from vidtrack.sinks.images import ImageSink, is_still_output
from vidtrack.sinks.video import open_video_sink

if TYPE_CHECKING:
    from vidtrack.frames import SourceInfo

@dataclass
class LaneOutputs:
    """What openers need from the lane besides the path: its analytics stage (or None) and the
    end-of-stream events, decided once however many sinks ask (and pictured by the snapshot sink)."""

    analytics: Any = None
    snapshots: Any = None  # the lane's SnapshotSink, once opened

    def __post_init__(self) -> None:
        self._final: list[Any] | None = None

    def final_events(self) -> list[Any]:
        """The events that end the stream (pending crossings, open visits' exits), with their pictures."""
        if self._final is None:
            events = list(self.analytics.finish()) if self.analytics is not None else []
            self._final = self.snapshots.final_events(events) if self.snapshots is not None else events
        return self._final

    @property
    def final(self) -> "Callable[[], list[Any]] | None":
        """:meth:`final_events` for the sinks that add end-of-stream events; None when the lane has no analytics."""
        return self.final_events if self.analytics is not None else None


def _snapshots(path: Path, info: "SourceInfo", config: OutputConfig, lane: LaneOutputs) -> Sink:
    from vidtrack.sinks.snapshots import SnapshotSink

    redaction = lane.analytics is not None and getattr(lane.analytics, "redactor", None) is not None
    lane.snapshots = SnapshotSink(path, redaction=redaction)
    return lane.snapshots


def _clips(path: Path, info: "SourceInfo", config: OutputConfig, lane: LaneOutputs) -> Sink:
    from vidtrack.sinks.clips import ClipSink

    return ClipSink(path, info, config, config.pre, config.post, config.clips_clean)


def _heatmap(path: Path, info: "SourceInfo", config: OutputConfig, lane: LaneOutputs) -> Sink:
    from vidtrack.sinks.heatmap import HeatmapSink

    return HeatmapSink(path, config.heatmap_per_class)


#: Opens the sink of an ``OutputConfig`` field from (path, source info, output settings,
#: :class:`LaneOutputs`). In this order the sinks see each frame and the files are listed to
#: the user; the summary (``OutputConfig.summary``) is written at the end by the runner, not by
#: a sink. Snapshots and clips come first: they name each event's picture and clip in the
#: event, for the events file and the notifiers after them.
OPENERS: dict[str, Callable[[Path, "SourceInfo", OutputConfig, LaneOutputs], Sink]] = {
    "snapshots": _snapshots,
    "clips": _clips,
    # -o of photos may be a photo or a folder of photos (sinks/images.py), else a video.
    "video": lambda path, info, config, lane: (
        ImageSink(path, info.still_names) if info.stills and is_still_output(path) else open_video_sink(path, info, config)
    ),
    "jsonl": lambda path, info, config, lane: JsonlSink(path),
    "mot": lambda path, info, config, lane: MotSink(path),
    "heatmap": _heatmap,
    "events": lambda path, info, config, lane: EventsSink(path, lane.final),
}
#: Outputs that are folders: opened like the others, not listed as files (nor deleted as one).
FOLDERS = ("snapshots", "clips")


def output_options() -> dict[str, Option]:
    """The path options that registered outputs declare (:class:`Output` entries of :data:`OPENERS`), by name."""
    return {name: entry.option for name, entry in OPENERS.items() if isinstance(entry, Output)}


def _webhook(url: str, lane: LaneOutputs) -> Sink:
    from vidtrack.sinks.webhook import WebhookSink

    return WebhookSink(url, lane.final)


def _mqtt(url: str, lane: LaneOutputs) -> Sink:
    from vidtrack.sinks.mqtt import MqttSink

    return MqttSink(url, lane.final)


#: Notifiers: an ``OutputConfig`` field holding a URL -> how to open the sink (after the file sinks).
NOTIFIERS: dict[str, Callable[[str, LaneOutputs], Sink]] = {"webhook": _webhook, "mqtt": _mqtt}


def open_sinks(
    paths: Mapping[str, Path | None], info: "SourceInfo", config: OutputConfig, analytics: Any = None
) -> tuple[list[Sink], list[Path]]:
    """The sinks for the ``paths`` given (``OutputConfig`` field -> this lane's path, None: not wanted).

    Returns the sinks and the files they write, in :data:`OPENERS`' order. If one fails to
    open (OutputError), those already open are closed before it propagates.
    """
    sinks: list[Sink] = []
    files: list[Path] = []
    lane = LaneOutputs(analytics)
    try:
        for field, opener in OPENERS.items():
            path = paths.get(field)
            if path is not None:
                sinks.append(opener(path, info, config, lane))
                if field not in FOLDERS:
                    files.append(path)
        for field, notifier in NOTIFIERS.items():
            url = getattr(config, field)
            if url is not None:
                sinks.append(notifier(url, lane))
    except BaseException:
        for sink in sinks:
            sink.close()
        raise
    return sinks, files
