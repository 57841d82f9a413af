"""Where results go: the annotated video, per-frame data (JSONL, MOT) and the run summary.

Every sink takes a :class:`~vidtrack.frames.FrameResult` per frame and is closed once at
the end (``close()`` is idempotent and finalises the file, also after Ctrl-C). Call
:func:`check_outputs` before processing starts so a bad ``-o`` fails in a second, not
after the whole video.
"""

from __future__ import annotations

from vidtrack.sinks.base import Sink, check_outputs, check_writable
from vidtrack.sinks.data import JsonlSink, MotSink
from vidtrack.sinks.events import EventsSink
from vidtrack.sinks.summary import SummaryBuilder, finish_summary
from vidtrack.sinks.open import open_sinks
from vidtrack.sinks.video import VideoSink, VideoWriter, open_video_sink

__all__ = [
    "EventsSink",
    "JsonlSink",
    "MotSink",
    "Sink",
    "SummaryBuilder",
    "finish_summary",
    "VideoSink",
    "VideoWriter",
    "check_outputs",
    "check_writable",
    "open_sinks",
    "open_video_sink",
]
