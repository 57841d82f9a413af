"""``--clips DIR --pre 3 --post 5``: one H.264 MP4 per review item, from ``pre`` s before its first event to ``post`` s after its last.

A review item opens at an event and takes in every event whose window
``[t - pre, t + post]`` overlaps its own (as Frigate's review items do), up to
:data:`MAX_ITEM_S` seconds; the items never overlap and every event lies in exactly one clip.
The last ``pre`` seconds of frames not yet in a clip are held in memory for the pre-roll:
as they are while that stays under :data:`RAW_BUDGET` bytes (480x360 at 30 frames/s, 3 s:
47 MB), else each JPEG-encoded at quality :data:`JPEG_QUALITY` (1080p: ~0.4 MB a frame
instead of 6.2 MB, so 3 s at 30 frames/s holds ~35 MB instead of ~560 MB, for ~10 ms of
encoding per frame on the sinks' thread). Clips are written with the video sink's
:class:`~vidtrack.sinks.video.VideoWriter` (H.264 yuv420p ``+faststart``, browser-playable,
the source's exact rate) and keep the source's audio for their stretch. They show the
annotated picture, or the clean one (after redaction, before drawing) with ``clean``.

Each event is stamped with its clip's file name (``clip``), so this sink must run before
the events file and the notifiers. Events decided at the end of the stream (exits of
visits still open) get no clip.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from vidtrack.sinks.base import output_folder

if TYPE_CHECKING:
    from vidtrack.frames import Event
    from vidtrack.config import OutputConfig
    from vidtrack.frames import FrameResult, SourceInfo
    from vidtrack.sinks.video import VideoWriter

#: Default pre-roll and post-roll, seconds.
PRE_S = 3.0
POST_S = 5.0
#: Pre-roll bytes held as raw frames at most; a pre-roll that would hold more keeps its frames as JPEG.
RAW_BUDGET = 100 * 1024 * 1024
#: JPEG quality of a pre-roll frame held encoded (95: no visible loss after the clip's H.264).
JPEG_QUALITY = 95
#: Longest review item, seconds: a busy scene whose events never pause is cut into clips of
#: about this length (back to back, never overlapping), instead of one clip of the whole run.
MAX_ITEM_S = 60.0


@dataclass
class _Held:
    """One pre-roll frame: its picture (an array, or JPEG bytes when the ring is over budget)."""

    picture: "np.ndarray | bytes"
    pts: float
    duration: float | None
    index: int
    time: Any
    shape: tuple[int, ...]

    def image(self) -> np.ndarray:
        if isinstance(self.picture, np.ndarray):
            return self.picture
        import cv2

        return cv2.imdecode(np.frombuffer(self.picture, np.uint8), cv2.IMREAD_COLOR)


@dataclass
class _Item:
    name: str
    start: float  # pts of the first frame written
    end: float  # pts after which no frame belongs to it (last event + post)
    start_frame: int
    writer: "VideoWriter"
    events: list[dict[str, Any]] = field(default_factory=list)
    last_pts: float = -1.0
    start_time: Any = None


class ClipSink:
    """Writes the review-item clips of one source into ``folder`` (see the module docstring).

    Raises:
        OutputError: the folder cannot be created or a clip cannot be written.
    """

    #: Where :meth:`summary` goes in the run summary.
    SUMMARY_KEY = "clips"

    def __init__(
        self,
        folder: str | os.PathLike[str],
        info: "SourceInfo",
        config: "OutputConfig",
        pre: float = PRE_S,
        post: float = POST_S,
        clean: bool = False,
    ) -> None:
        self.folder = output_folder(folder, "clip folder")
        self.info = info
        self.config = config
        self.pre, self.post, self.clean = pre, post, clean
        self._ring: deque[_Held] = deque()
        self._encode: bool | None = None  # decided at the first frame: raw frames over RAW_BUDGET?
        self._item: _Item | None = None
        self._done: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self._closed = False

    def _picture(self, result: "FrameResult") -> np.ndarray:
        if self.clean:
            return result.clean if result.clean is not None else result.frame.image
        return result.annotated if result.annotated is not None else result.frame.image

    def write(self, result: "FrameResult") -> None:
        """Buffer or write this frame; open, extend or close review items at its events."""
        frame = result.frame
        image = self._picture(result)
        if self._encode is None:
            fps = float(self.info.fps) if self.info.fps else 30.0
            self._encode = image.nbytes * (self.pre * fps + 1) > RAW_BUDGET
        self._ring.append(_Held(image, frame.pts, frame.duration, frame.index, frame.time, image.shape))
        while self._ring and frame.pts - self._ring[0].pts > self.pre + 1e-6:
            self._ring.popleft()
        item = self._item
        if item is not None and frame.pts > item.end + self.pre:  # nothing can join it any more
            self._finish()
            item = None
        if result.events:
            stamped = []
            for event in result.events:
                item = self._join(event)
                stamped.append(replace(event, clip=item.name))
            result.events = tuple(stamped)
        if item is not None:
            self._catch_up(item)
            while self._ring and self._ring[0].pts <= item.last_pts + 1e-6:
                self._ring.popleft()  # written: no later item starts before its clip's last frame
        newest = self._ring[-1] if self._ring else None
        if self._encode and newest is not None and newest.pts == frame.pts and isinstance(newest.picture, np.ndarray):
            import cv2

            ok, data = cv2.imencode(".jpg", newest.picture, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if ok:
                newest.picture = data.tobytes()

    def _join(self, event: "Event") -> _Item:
        item = self._item
        overlaps = item is not None and event.t - self.pre <= item.end
        if item is not None and overlaps and (event.t < item.start + MAX_ITEM_S or event.t <= item.last_pts):
            # Joins the open item; past the length cap it extends it no further than the cap.
            item.end = max(item.end, min(event.t + self.post, item.start + MAX_ITEM_S))
        else:
            floor = self._ring[0].pts
            if item is not None:
                floor = max(floor, item.last_pts + 1e-3)  # back to back with the previous clip, never overlapping
                self._finish()
            start = max(event.t - self.pre, floor)
            first = next(entry for entry in self._ring if entry.pts >= start - 1e-6)
            item = self._item = self._open(first, event.t + self.post)
        item.events.append({k: v for k, v in event.to_json().items() if k in ("t", "time", "frame", "type", "track_id", "class", "line", "zone", "direction")})
        return item

    def _open(self, first: _Held, end: float) -> _Item:
        from vidtrack.sinks.video import VideoWriter

        pts, index, when = first.pts, first.index, first.time
        name = f"clip-{index:06d}.mp4"
        writer = VideoWriter(
            self.folder / name, first.shape[1], first.shape[0], self.info.fps,
            crf=self.config.crf, preset=self.config.preset,
            audio_source=None if self.info.is_live else self.info.media_path,
            use_timestamps=self.info.is_live, time_base=self.info.time_base,
            sample_aspect_ratio=self.info.sample_aspect_ratio, audio_start=self.info.start_time + pts,
        )
        return _Item(name, pts, end, index, writer, start_time=when)

    def _catch_up(self, item: _Item) -> None:
        """Write the held frames of ``item``'s window not written yet (at most up to its end)."""
        for held in self._ring:
            if item.last_pts < held.pts <= item.end + 1e-6 and held.pts >= item.start - 1e-6:
                item.writer.write(held.image(), held.pts, held.duration)
                item.last_pts = held.pts

    def _finish(self) -> None:
        item, self._item = self._item, None
        if item is None:
            return
        item.writer.close()
        self.warnings.extend(w for w in item.writer.warnings if w not in self.warnings)
        self._done.append({
            "file": item.name,
            "start_t": round(item.start, 3),
            "end_t": round(item.last_pts + (1 / float(self.info.fps) if self.info.fps else 0.0), 3),
            **({"start_time": item.start_time.isoformat(timespec="milliseconds")} if item.start_time is not None else {}),
            "frames": item.writer.frames_written,
            "events": item.events,
        })

    def close(self) -> None:
        """Finish the open item (idempotent): it ends at the last frame when the stream ended first."""
        if self._closed:
            return
        self._closed = True
        self._finish()
        self._ring.clear()

    def summary(self) -> dict[str, Any]:
        """``{"folder", "pre_s", "post_s", "items": [{file, start_t, end_t, frames, events}]}`` for the run summary."""
        return {"folder": str(self.folder), "pre_s": self.pre, "post_s": self.post, "items": list(self._done)}
