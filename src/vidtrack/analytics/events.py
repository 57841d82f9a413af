"""Analytics events: one record per line crossing, zone entry, zone exit and loiter alarm.

The :class:`Event` type lives with the other packets in :mod:`vidtrack.frames` (the bottom
layer: sinks and viewers read it without importing the analytics); this module keeps its
old import path.
"""

from __future__ import annotations

from vidtrack.frames import EVENT_TYPES, Event

__all__ = ["EVENT_TYPES", "Event"]
