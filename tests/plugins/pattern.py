"""A toy source kind for tests: ``pattern://N`` is N synthetic frames of a bright square moving
right by ``--pattern-step`` pixels a frame (what ``tests/conftest.py``'s SquareDetector finds).

It is written the way a new source kind is meant to be added: this one file holds the source
and the :class:`~vidtrack.sources.base.Input` that declares its option; one line in
``vidtrack.sources.open.OPENERS`` (``"pattern": pattern.INPUT``) registers it under its scheme.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any, Iterator

import numpy as np

from vidtrack.errors import SourceError
from vidtrack.frames import Frame, SourceInfo
from vidtrack.optionspec import PANEL_ADV_IO, Option
from vidtrack.sources.base import FiniteSource, Input

SIZE = (160, 120)


class PatternSource(FiniteSource):
    """N frames of a square moving ``step`` pixels a frame over a dark background, at 30 fps."""

    def __init__(self, count: int, step: int, source_id: int) -> None:
        super().__init__()
        self.count, self.step, self.source_id = count, step, source_id
        self.info = SourceInfo(f"pattern-{count}", SIZE[0], SIZE[1], Fraction(30), count)

    def frames(self) -> Iterator[Frame]:
        for i in range(self.count):
            if self._stop.is_set():
                break
            image = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
            x = 5 + (i * self.step) % (SIZE[0] - 30)
            image[40:70, x : x + 25] = (40, 200, 250)
            yield Frame(image, i, i / 30, time.monotonic(), source_id=self.source_id)
        self._end()

    def close(self) -> None:
        self.stop()


def _open(spec: str, config: Any, source_id: int, connect_timeout: float | None) -> PatternSource:
    count = spec.split("://", 1)[1]
    if not count.isdigit() or int(count) < 1:
        raise SourceError(f"{spec} names no frame count", "use pattern://N, e.g. pattern://20")
    return PatternSource(int(count), config.extra("pattern_step", 3), source_id)


INPUT = Input(_open, {"pattern_step": Option(int, "source", "Pixels the square moves a frame.", 3, low=1, panel=PANEL_ADV_IO)})
