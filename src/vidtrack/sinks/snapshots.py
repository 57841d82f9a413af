"""``--snapshots DIR``: the best view of every confirmed track, and the picture of every event.

Files (JPEG, quality :data:`JPEG_QUALITY`):

* ``track-<id>.jpg``: the crop of the track's best box (padded by :data:`CROP_PAD` of its size);
* ``track-<id>-frame.jpg``: the whole frame of that moment with that box drawn;
* ``event-<frame>-<type>-<id>.jpg``: the frame at which an event was decided, its object boxed.

**Best view.** Boxes cut by the frame edge (within :data:`EDGE_PX` of it) lose to any uncut
box. Among the rest, a box qualifies when it is at least :data:`SIZE_BAND` of the largest
box of the track (so the chosen box is never much smaller than the biggest view); of those,
the one with the highest ``confidence x (1 - occluded share)`` wins, where the occluded
share is the part of the box covered by other boxes in the same frame. Candidates are
kept as references to their frame (at most :data:`POOL` per track, one picture however
many tracks use it) and written when the track has been gone for :data:`GONE_S` seconds,
or at the end; a track that comes back with a better view is rewritten. A frame still
held by a candidate :data:`RAW_FRAMES` frames later is kept as JPEG (quality
:data:`HELD_QUALITY`) instead of raw: a busy 1080p scene (tens of tracks, each holding its
best frames) would otherwise keep hundreds of MB of pictures.

**Redaction.** Snapshots use the picture after redaction and before drawing. When
redaction is on, a frame the redactor did not process is never written (fail closed):
it is counted in :attr:`SnapshotSink.warnings`.

The sink must run before the events sink and the notifiers: it names each event's file in
the event (``snapshot``), so the events file and the notifications carry it.
"""

from __future__ import annotations

import os
import weakref
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from vidtrack.labels import class_names
from vidtrack.sinks.base import output_folder, write_image

if TYPE_CHECKING:
    from vidtrack.frames import Event
    from vidtrack.frames import FrameResult

JPEG_QUALITY = 90
#: Pixels from the frame edge within which a box counts as cut by the edge.
EDGE_PX = 1.0
#: A candidate must be at least this share of the track's largest (uncut) box area; the
#: snapshot target of issue 22 is 90 %.
SIZE_BAND = 0.9
#: Candidates kept per track (and per cut/uncut kind); more costs memory (frame references).
POOL = 2
#: Crop padding on each side, as a share of the box size.
CROP_PAD = 0.08
#: A track unseen this long (seconds of video) has its snapshot written; it may be rewritten.
GONE_S = 5.0
#: Frames a candidate's picture stays raw; after that, if still held, it is kept as JPEG.
RAW_FRAMES = 8
#: JPEG quality of a held picture (it is encoded again at JPEG_QUALITY when written).
HELD_QUALITY = 95


class _Picture:
    """One frame's clean picture, shared by the candidates taken from it: raw, or JPEG once old."""

    __slots__ = ("raw", "jpeg", "__weakref__")

    def __init__(self, raw: np.ndarray) -> None:
        self.raw: np.ndarray | None = raw
        self.jpeg: bytes | None = None

    def image(self) -> np.ndarray:
        if self.raw is not None:
            return self.raw
        if self.jpeg is None:
            return _NO_IMAGE
        import cv2

        return cv2.imdecode(np.frombuffer(self.jpeg, np.uint8), cv2.IMREAD_COLOR)

    def compress(self) -> None:
        import cv2

        if self.raw is None:
            return
        ok, data = cv2.imencode(".jpg", self.raw, [cv2.IMWRITE_JPEG_QUALITY, HELD_QUALITY])
        if ok:
            self.raw, self.jpeg = None, data.tobytes()


@dataclass
class _Candidate:
    frame: int
    t: float
    time: Any
    box: tuple[float, float, float, float]
    area: float
    quality: float  # confidence x (1 - occluded share)
    picture: "_Picture | None"  # the clean frame (shared between tracks of the same frame); None once released

    @property
    def image(self) -> np.ndarray:
        return self.picture.image() if self.picture is not None else _NO_IMAGE


@dataclass
class _Track:
    cls: str
    last_t: float
    pools: dict[bool, list[_Candidate]] = field(default_factory=lambda: {False: [], True: []})  # cut? -> pool
    max_area: dict[bool, float] = field(default_factory=lambda: {False: 0.0, True: 0.0})
    written: _Candidate | None = None
    last: _Candidate | None = None  # the latest view (for events decided at the end of the stream)

    def offer(self, cand: _Candidate, cut: bool) -> None:
        pool = self.pools[cut]
        if cand.area > self.max_area[cut]:
            self.max_area[cut] = cand.area
            pool[:] = [c for c in pool if c.area >= SIZE_BAND * cand.area]
        if cand.area < SIZE_BAND * self.max_area[cut]:
            return
        pool.append(cand)
        pool.sort(key=lambda c: (c.quality, c.area), reverse=True)
        del pool[POOL:]

    def best(self) -> _Candidate | None:
        for cut in (False, True):
            if self.pools[cut]:
                return self.pools[cut][0]
        return None


def occluded_share(xyxy: np.ndarray) -> np.ndarray:
    """For each box (N,4 xyxy pixels), the share of its area covered by the union of the
    other boxes, approximated by the largest single overlap (N,), 0-1."""
    n = len(xyxy)
    if n < 2:
        return np.zeros(n)
    x1 = np.maximum(xyxy[:, None, 0], xyxy[None, :, 0])
    y1 = np.maximum(xyxy[:, None, 1], xyxy[None, :, 1])
    x2 = np.minimum(xyxy[:, None, 2], xyxy[None, :, 2])
    y2 = np.minimum(xyxy[:, None, 3], xyxy[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    np.fill_diagonal(inter, 0)
    area = np.maximum((xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1]), 1e-9)
    return np.clip(inter.max(axis=1) / area, 0, 1)


def event_file(event: "Event") -> str:
    """The snapshot file name of an event: ``event-<frame>-<type>-<track id>.jpg``."""
    where = event.line or event.zone or ""
    suffix = f"-{where}" if where else ""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f"{event.type}{suffix}")
    return f"event-{event.frame:06d}-{safe}-{event.track_id}.jpg"


class SnapshotSink:
    """Writes the snapshots of one source into ``folder`` (see the module docstring).

    Args:
        folder: created if missing.
        redaction: redaction is on: frames not marked ``redacted`` are never written.

    Raises:
        OutputError: the folder cannot be created, or a file cannot be written.
    """

    #: Where :meth:`summary` goes in the run summary.
    SUMMARY_KEY = "snapshots"

    def __init__(self, folder: str | os.PathLike[str], redaction: bool = False) -> None:
        self.folder = output_folder(folder, "snapshot folder")
        self.redaction = redaction
        self._tracks: dict[int, _Track] = {}
        self._dirty: set[int] = set()  # tracks offered a view since their snapshot was last written
        self._unredacted = 0
        self._closed = False
        self._files: dict[int, dict[str, Any]] = {}
        self.event_files: list[str] = []
        self._recent: deque[weakref.ref[_Picture]] = deque()  # pictures still raw, oldest first

    @property
    def warnings(self) -> list[str]:
        """One line when frames were not written because redaction was on and they were not redacted."""
        if not self._unredacted:
            return []
        return [f"snapshots: {self._unredacted} frame(s) were not redacted and were not written (redaction fails closed)"]

    # -- per frame ------------------------------------------------------------------

    def write(self, result: "FrameResult") -> None:
        """Offer this frame's boxes to their tracks; write the frame's event pictures; name them in the events."""
        image = result.clean if result.clean is not None else result.frame.image
        allowed = not self.redaction or result.redacted
        if not allowed:
            self._unredacted += 1
        frame = result.frame
        det = result.detections
        if allowed and len(det) and det.tracker_id is not None:
            self._offer(result, image)
        while len(self._recent) > RAW_FRAMES:  # a picture still held this long: keep it compressed
            held = self._recent.popleft()()
            if held is not None:
                held.compress()
        if result.events:
            result.events = tuple(self._event(e, image if allowed else None, result) for e in result.events)
        self._flush_gone(frame.pts)

    def _offer(self, result: "FrameResult", image: np.ndarray) -> None:
        det = result.detections
        frame = result.frame
        h, w = image.shape[:2]
        xyxy = np.asarray(det.xyxy, dtype=np.float64).reshape(-1, 4)
        conf = np.ones(len(det)) if det.confidence is None else np.asarray(det.confidence, dtype=np.float64)
        occluded = occluded_share(xyxy)
        names = class_names(det)
        picture = _Picture(image)
        self._recent.append(weakref.ref(picture))
        for i, track_id in enumerate(det.tracker_id):
            if track_id < 0:
                continue
            x1, y1, x2, y2 = (float(v) for v in xyxy[i])
            cut = x1 <= EDGE_PX or y1 <= EDGE_PX or x2 >= w - EDGE_PX or y2 >= h - EDGE_PX
            track = self._tracks.get(int(track_id))
            if track is None:
                track = self._tracks[int(track_id)] = _Track(cls=names[i], last_t=frame.pts)
            track.last_t = frame.pts
            cand = _Candidate(
                frame.index, frame.pts, frame.time, (x1, y1, x2, y2), (x2 - x1) * (y2 - y1),
                float(conf[i]) * (1.0 - float(occluded[i])), picture,
            )
            track.last = cand
            track.offer(cand, cut)
            self._dirty.add(int(track_id))

    def _event(self, event: "Event", image: np.ndarray | None, result: "FrameResult | None") -> "Event":
        track = self._tracks.get(event.track_id)
        box = None
        if result is not None and result.detections.tracker_id is not None:
            rows = np.flatnonzero(np.asarray(result.detections.tracker_id) == event.track_id)
            if len(rows):
                box = tuple(float(v) for v in np.asarray(result.detections.xyxy)[rows[0]])
        if image is None and track is not None and track.last is not None and result is None:
            image, box = track.last.image, track.last.box
        if image is None:
            return event
        name = event_file(event)
        self._save(self.folder / name, _framed(image, box))
        self.event_files.append(name)
        return replace(event, snapshot=name)

    def _flush_gone(self, now: float) -> None:
        gone = [i for i in self._dirty if now - self._tracks[i].last_t > GONE_S]
        for track_id in gone:
            self._dirty.discard(track_id)
            self._write_track(track_id, self._tracks[track_id], release=True)

    def _write_track(self, track_id: int, track: _Track, release: bool = False) -> None:
        """Write the track's best view (unless already written); ``release`` drops its frames afterwards."""
        best = track.best()
        if best is None or best is track.written:
            return
        x1, y1, x2, y2 = best.box
        picture = best.image
        h, w = picture.shape[:2]
        px, py = (x2 - x1) * CROP_PAD, (y2 - y1) * CROP_PAD
        crop = picture[int(max(0, y1 - py)) : int(min(h, np.ceil(y2 + py))), int(max(0, x1 - px)) : int(min(w, np.ceil(x2 + px)))]
        crop_name, frame_name = f"track-{track_id}.jpg", f"track-{track_id}-frame.jpg"
        self._save(self.folder / crop_name, crop)
        self._save(self.folder / frame_name, _framed(picture, best.box))
        track.written = best
        cut = bool(not track.pools[False])
        self._files[track_id] = {
            "class": track.cls,
            "crop": crop_name,
            "frame_file": frame_name,
            "frame": best.frame,
            "t": round(best.t, 3),
            **({"time": best.time.isoformat(timespec="milliseconds")} if best.time is not None else {}),
            "box": [round(v, 1) for v in best.box],
            "edge_cut": cut,
        }
        if release:  # the track is gone: keep its numbers (a better view may come), not its frames
            for pool in track.pools.values():
                pool[:] = [c for c in pool if c is best]
            best.picture = None
            track.last = None

    def _save(self, path: Path, image: np.ndarray) -> None:
        import cv2

        if image.size == 0:
            return
        write_image(path, image, "snapshot", [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])

    # -- end ------------------------------------------------------------------------

    def final_events(self, events: Iterable["Event"]) -> list["Event"]:
        """End-of-stream events (open visits' exits...) with the track's last view as their picture."""
        return [self._event(e, None, None) for e in events]

    def close(self) -> None:
        """Write every track not written yet (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for track_id in sorted(self._dirty):
            self._write_track(track_id, self._tracks[track_id])
        self._dirty.clear()

    def summary(self) -> dict[str, Any]:
        """``{"folder", "tracks": {id: {class, crop, frame_file, frame, t, box, edge_cut}}, "events": n}`` for the run summary."""
        return {
            "folder": str(self.folder),
            "tracks": {str(k): v for k, v in sorted(self._files.items())},
            "events": len(self.event_files),
        }


_NO_IMAGE = np.zeros((0, 0, 3), np.uint8)


def _framed(image: np.ndarray, box: tuple[float, ...] | None) -> np.ndarray:
    """A copy of ``image`` with ``box`` (xyxy pixels) drawn in a bright colour; the image itself when no box."""
    if box is None:
        return image
    import cv2

    out = image.copy()
    thick = max(2, round(max(image.shape[:2]) / 400))
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    cv2.rectangle(out, (x1, y1), (x2, y2), (0, 0, 0), thick + 2, cv2.LINE_AA)
    cv2.rectangle(out, (x1, y1), (x2, y2), (0, 255, 255), thick, cv2.LINE_AA)
    return out
