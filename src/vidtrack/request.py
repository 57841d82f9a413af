"""The run request: everything one run of the pipeline was asked to do, in one frozen value.

Every front end (``vidtrack run``, ``--config`` files, ``vidtrack batch``, the service's
video jobs, the Python API) builds one, through :func:`vidtrack.options.request_from_options`
or directly, and hands it to :func:`vidtrack.runner.execute`. It sits just above the stages
whose configurations it holds, below everything that builds or runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vidtrack.analytics.config import AnalyticsConfig
from vidtrack.config import DetectorConfig, OutputConfig, OverlayConfig, ScheduleConfig, SourceConfig
from vidtrack.tracking.config import TrackerConfig


@dataclass(frozen=True)
class RunRequest:
    """Everything ``vidtrack run`` was asked to do."""

    sources: list[Any]  # specs as `run` takes them, or sources.memory.MemoryInput (Python API)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    overlay: OverlayConfig = field(default_factory=OverlayConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    analytics: AnalyticsConfig = field(default_factory=AnalyticsConfig)  # lines, zones, redaction
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)  # --motion-gate, --detect-every
    show: bool = False
    serve: str | None = None  # [HOST:]PORT of the web view
    token: str | None = None
    annotate: bool = False  # draw every frame even with no video output or viewer (Python API)
