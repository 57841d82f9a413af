"""Frame sources: video files, image folders, webcams and network streams.

``open_source(spec, config)`` reads what the user typed and returns a :class:`Source`.
Files are read frame by frame with a small decode-ahead buffer; live sources (webcam,
rtsp/http/udp/tcp streams) are read by a background reader that keeps only the newest
frame, so the pipeline never falls behind the camera.
"""

from vidtrack.frames import SourceState, SourceStatus
from vidtrack.sources.base import Source
from vidtrack.sources.open import SourceKind, classify, open_source

__all__ = ["Source", "SourceKind", "SourceState", "SourceStatus", "classify", "open_source"]
