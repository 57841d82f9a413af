"""Synthetic, seeded tracks for the analytics tests: people as boxes moving along paths."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidtrack.analytics import Observations, Scene


@dataclass
class Walker:
    """One tracked box: ``track_id`` per frame index (a dict lets ids switch), anchor path, size."""

    ids: dict[int, int]  # frame index -> tracker id (frames missing: not detected)
    path: dict[int, tuple[float, float]]  # frame index -> bottom-centre anchor (pixels)
    width: float = 40.0
    height: float = 100.0
    cls: str = "person"

    def box(self, frame: int) -> list[float]:
        x, y = self.path[frame]
        return [x - self.width / 2, y - self.height, x + self.width / 2, y]


def straight(track_id: int, start: tuple[float, float], end: tuple[float, float], frames: range, **kw) -> Walker:
    """A walker moving at constant speed from ``start`` to ``end`` over ``frames``."""
    n = max(1, len(frames) - 1)
    path = {f: (start[0] + (end[0] - start[0]) * k / n, start[1] + (end[1] - start[1]) * k / n) for k, f in enumerate(frames)}
    return Walker({f: track_id for f in frames}, path, **kw)


@dataclass
class Script:
    """Frames with their presentation times, fed to a :class:`Scene`."""

    walkers: list[Walker]
    times: list[float] = field(default_factory=list)

    def run(self, scene: Scene) -> list:
        events = []
        for frame, t in enumerate(self.times):
            here = [w for w in self.walkers if frame in w.path and frame in w.ids]
            obs = Observations.from_arrays(
                np.array([w.ids[frame] for w in here], dtype=np.int64),
                np.array([w.box(frame) for w in here]).reshape(-1, 4),
                [w.cls for w in here],
                np.full(len(here), 0.9),
                t,
                frame,
            )
            events.extend(scene.update_observations(obs))
        events.extend(scene.finish())
        return events


def times(n: int, fps: float = 10.0) -> list[float]:
    return [i / fps for i in range(n)]


def jitter(walker: Walker, rng: np.random.Generator, sigma: float) -> Walker:
    """The same walker with Gaussian noise (pixels) on its anchor."""
    path = {f: (x + rng.normal(0, sigma), y + rng.normal(0, sigma)) for f, (x, y) in walker.path.items()}
    return Walker(dict(walker.ids), path, walker.width, walker.height, walker.cls)
