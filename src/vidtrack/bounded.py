"""A queue bounded in bytes as well as items, for queues of frames.

A queue of 4 frames holds 25 MB at 1080p but 800 MB at 8192x8192: counting items alone
lets a big picture multiply memory. :class:`FrameQueue` also stops ``put`` while the
queued pictures hold ``max_bytes`` or more; one item is always accepted when the queue is
empty, so a single picture bigger than the cap still flows (one at a time).
"""

from __future__ import annotations

import queue
from typing import Any

#: Default byte cap of a frame queue: about ten 1080p BGR frames, one 20-megapixel frame.
FRAME_QUEUE_BYTES = 64 << 20


def picture_bytes(item: Any) -> int:
    """Bytes of the pictures an item holds: a Frame's ``image``, a FrameResult's frame and
    ``annotated`` (0 for anything else, such as an end marker)."""
    total = 0
    for name in ("image", "annotated"):
        array = getattr(item, name, None)
        total += int(getattr(array, "nbytes", 0) or 0)
    frame = getattr(item, "frame", None)
    if frame is not None and getattr(frame, "image", None) is not getattr(item, "annotated", None):
        total += int(getattr(getattr(frame, "image", None), "nbytes", 0) or 0)
    return total


class FrameQueue(queue.Queue):  # type: ignore[type-arg]
    """``queue.Queue(maxsize)`` that also blocks ``put`` while ``max_bytes`` of pictures are queued."""

    def __init__(self, maxsize: int, max_bytes: int = FRAME_QUEUE_BYTES) -> None:
        super().__init__(maxsize)
        self.max_bytes = max_bytes
        self.bytes = 0

    def _put(self, item: Any) -> None:
        self.bytes += picture_bytes(item)
        super()._put(item)

    def _get(self) -> Any:
        item = super()._get()
        self.bytes -= picture_bytes(item)
        return item

    def _qsize(self) -> int:
        count = len(self.queue)
        if count and self.bytes >= self.max_bytes and self.maxsize > 0:
            return max(count, self.maxsize)  # "full" for put; still non-empty for get
        return count
