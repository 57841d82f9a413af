"""Classes a detector confuses for one another: which ones may continue each other's tracks.

A small detector often names the same object differently from one frame to the next: a
van or pickup is a ``car`` in one frame and a ``truck`` in the next, a scooter a
``motorcycle`` then a ``bicycle``. The tracker matches a detection only to tracks of its
own class, so every flip used to end the track (measured on
``overpass_traffic_vp8.webm``: 8 of 21 confident truck boxes and a share of the cars
lost that way; ``benchmarks/coverage.py``). Classes of one group below match each
other's tracks; every frame still reports the class the detector gave for that frame.

Groups are named by COCO class names (what vidtrack's detectors report in
``data["class_name"]``), so a custom model whose classes are named differently is not
affected. Person and rider vehicles are not grouped: a rider and their motorcycle are
both detected in the same frame, as two objects.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

#: Names that may continue each other's tracks (one tuple per group).
CONFUSABLE: tuple[tuple[str, ...], ...] = (
    ("car", "truck", "bus", "van"),
    ("bicycle", "motorcycle"),
)
_GROUP_OF = {name: -(index + 1.0) for index, group in enumerate(CONFUSABLE) for name in group}


def group_of(name: str) -> float | None:
    """The (negative) id of the confusable group ``name`` belongs to, or None."""
    return _GROUP_OF.get(name)


def association_class(class_id: int, name: str) -> float:
    """The class the tracker matches on for a detection of ``class_id`` named ``name``:
    its group's id (negative: never a real class id) or ``class_id`` itself."""
    return _GROUP_OF.get(name, float(class_id))


class AssociationClasses:
    """Maps a frame's class ids to association classes, remembering each id's name.

    The names come with the detections (``data["class_name"]``, one per row); a class id
    is looked up once, the first time it is seen.
    """

    def __init__(self) -> None:
        self._known: dict[int, float] = {}

    def __call__(self, class_id: np.ndarray, names: Sequence[str] | None) -> np.ndarray:
        """(N,) float64 association classes for (N,) class ids; ``names`` None: unchanged."""
        if names is None or not len(class_id):
            return class_id
        known = self._known
        ids = class_id.astype(np.int64).tolist()
        out = []
        for row, cid in enumerate(ids):
            group = known.get(cid)
            if group is None:
                group = known[cid] = association_class(cid, str(names[row]))
            out.append(group)
        return np.array(out, dtype=np.float64)

