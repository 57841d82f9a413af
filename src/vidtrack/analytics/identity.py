"""Id-switch continuation: a track born near where a lost track ended, shortly after, is the same object.

Trackers lose people behind others and at the frame edge and then give them a new id;
counting by tracker id then counts them twice. :class:`TrackLinker` maps tracker ids to
*object* ids, which the line counters and zone monitors use instead.

The rule (parameters in :class:`LinkConfig`): when a tracker id is seen for the first time
at time ``t`` with anchor ``p`` and box height ``h``, it continues the object of a *lost*
track ``L`` if

- ``L`` was last seen at ``t_L`` with ``0 < t - t_L <= max_gap_s`` (lost, and not for long),
- ``L`` has the same class,
- no track of ``L``'s object is visible in this frame, and
- ``p`` lies within ``max_distance x max(h, h_L)`` pixels of ``L``'s last anchor or of that
  anchor moved on at ``L``'s last velocity for the gap (the nearer of the two).

The nearest such lost track wins; each lost track is continued at most once. Otherwise the
new id starts a new object. A track id unseen for ``RETAIN_S`` seconds is forgotten (its
object too, once none of its tracks is left), which keeps memory flat on endless streams.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vidtrack.analytics.observations import Observations
from vidtrack.errors import OptionError


@dataclass(frozen=True)
class LinkConfig:
    """When a new track continues a lost one (see the module docstring for the rule).

    Defaults chosen on the seven MOT15 training sequences (``benchmarks/counting_accuracy.py``).
    """

    # Seconds a lost track may be continued. Raise: longer occlusions bridged; a newcomer
    # is more often taken for someone who left.
    max_gap_s: float = 0.5
    # Reach in box heights from the lost track's (predicted) anchor. Raise: bigger jumps
    # bridged; neighbours more often merged. 0.25 since the scene back-fills a new track's
    # first boxes (vidtrack.analytics.backfill): a continuation then starts close to where
    # the lost track was heading; on MOT15, 11 of 14 links beyond 0.3 joined two people
    # (count error 32 at 0.2-0.3, 35 at 0.4, 37 at 0.5; docs/perf/tracker-framerate.md).
    max_distance: float = 0.25

    def __post_init__(self) -> None:
        if self.max_gap_s < 0:
            raise OptionError(f"--link-gap {self.max_gap_s} is negative", "use 0 to switch linking off, or e.g. 1.5")
        if self.max_distance < 0:
            raise OptionError(f"--link-distance {self.max_distance} is negative", "use e.g. 1.0 (box heights)")


@dataclass
class _Track:
    obj: int
    cls: str
    anchor: np.ndarray
    height: float
    t: float
    velocity: np.ndarray  # pixels per second, smoothed


class TrackLinker:
    """Maps tracker ids to object ids, continuing lost tracks (one instance per source)."""

    #: Weight of the newest step in the smoothed anchor velocity.
    VELOCITY_GAIN = 0.3
    #: Seconds an unseen tracker id keeps its object (longer than any tracker keeps a lost id).
    RETAIN_S = 30.0

    def __init__(self, config: LinkConfig | None = None) -> None:
        self.config = config or LinkConfig()
        self._tracks: dict[int, _Track] = {}
        self._next_obj = 1
        self.links = 0  # how many new tracks continued a lost one

    def knows(self, track_id: int) -> bool:
        """True once ``track_id`` has been seen (until it is forgotten)."""
        return track_id in self._tracks

    def update(self, obs: Observations) -> tuple[np.ndarray, list[int]]:
        """Object id of every observation (N,) and the object ids forgotten at this frame."""
        cfg = self.config
        objects = np.zeros(len(obs), dtype=np.int64)
        visible_objects: set[int] = set()
        fresh: list[int] = []
        for i, tid in enumerate(obs.track_ids.tolist()):
            track = self._tracks.get(tid)
            if track is None:
                fresh.append(i)
                continue
            dt = obs.t - track.t
            if dt > 0:
                step = (obs.anchors[i] - track.anchor) / dt
                track.velocity = step if not track.velocity.any() else track.velocity + self.VELOCITY_GAIN * (
                    step - track.velocity
                )
            track.anchor, track.height, track.t, track.cls = obs.anchors[i].copy(), float(obs.heights[i]), obs.t, obs.classes[i]
            objects[i] = track.obj
            visible_objects.add(track.obj)
        taken: set[int] = set()
        for i in fresh:
            tid = int(obs.track_ids[i])
            best, best_d = None, np.inf
            if cfg.max_gap_s > 0:
                for old_id, old in self._tracks.items():
                    gap = obs.t - old.t
                    if old_id in taken or old.obj in visible_objects or not (0 < gap <= cfg.max_gap_s):
                        continue
                    if old.cls != obs.classes[i]:
                        continue
                    reach = cfg.max_distance * max(float(obs.heights[i]), old.height)
                    predicted = old.anchor + old.velocity * gap
                    d = min(np.hypot(*(obs.anchors[i] - old.anchor)), np.hypot(*(obs.anchors[i] - predicted)))
                    if d <= reach and d < best_d:
                        best, best_d = old_id, d
            if best is not None:
                old = self._tracks.pop(best)
                taken.add(best)
                obj = old.obj
                self.links += 1
            else:
                obj = self._next_obj
                self._next_obj += 1
            self._tracks[tid] = _Track(obj, obs.classes[i], obs.anchors[i].copy(), float(obs.heights[i]), obs.t, np.zeros(2))
            objects[i] = obj
            visible_objects.add(obj)
        forgotten = []
        horizon = max(cfg.max_gap_s, self.RETAIN_S)
        for tid in [k for k, tr in self._tracks.items() if obs.t - tr.t > horizon]:
            forgotten.append(self._tracks.pop(tid).obj)
        alive = {tr.obj for tr in self._tracks.values()}
        return objects, [o for o in forgotten if o not in alive]
