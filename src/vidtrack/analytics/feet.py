"""Where the feet are when the lower body is hidden: a bottom-centre anchor robust to occlusion.

A detector boxes what it sees. When a person walks behind someone, a bench or a car, the
box loses its lower part, its bottom-centre jumps up the picture and a counting line
there sees a crossing that never happened (and the crossing back). The head, seen from a
camera above the crowd, is hidden far less often.

:class:`FeetEstimator` keeps, per track, an estimate of the person's full box height
that follows a growing box at once but shrinks by at most ``shrink_per_s`` of itself per
second (a person walking away shrinks slowly; an occluded one shrinks in a frame). The
anchor is then the box top plus that height. A box touching the top of the picture
keeps its own bottom (its top is cut, not its bottom). Numpy only.
"""

from __future__ import annotations

import math
from dataclasses import replace

from vidtrack.analytics.observations import Observations


class FeetEstimator:
    """Replaces bottom-centre anchors by ``top + estimated full height`` (one instance per source)."""

    #: Seconds an unseen track's height estimate is kept.
    RETAIN_S = 30.0
    #: The most time one observation may shrink the estimate for: a track back after an
    #: occlusion shrinks like after one frame, not for the whole gap (it is often still
    #: partly hidden then).
    MAX_STEP_S = 0.1

    def __init__(self, shrink_per_s: float = 1.0) -> None:
        self.shrink_per_s = shrink_per_s  # fraction of the estimate it may lose per second
        self._height: dict[int, tuple[float, float]] = {}  # track id -> (height estimate px, time s)

    def update(self, obs: Observations) -> Observations:
        """The same observations with each anchor moved to ``top + estimated height`` (pixels)."""
        if not len(obs):
            self._forget(obs.t)
            return obs
        anchors = obs.anchors.copy()
        for i, tid in enumerate(obs.track_ids.tolist()):
            h = float(obs.heights[i])
            top = float(anchors[i, 1]) - h
            previous = self._height.get(tid)
            if previous is None or h >= previous[0]:
                estimate = h
            else:
                dt = min(self.MAX_STEP_S, max(0.0, obs.t - previous[1]))
                estimate = max(h, previous[0] * math.exp(-self.shrink_per_s * dt))
            self._height[tid] = (estimate, obs.t)
            if top > 1.0:  # a box cut by the top edge keeps its own bottom
                anchors[i, 1] = top + estimate
        if len(self._height) > 4 * len(obs) + 64:
            self._forget(obs.t)
        return replace(obs, anchors=anchors)

    def _forget(self, now: float) -> None:
        for tid in [k for k, (_, t) in self._height.items() if now - t > self.RETAIN_S]:
            del self._height[tid]
