"""Per-frame detection data: JSON Lines and MOTChallenge text.

Both write each frame's text with one unbuffered write, so a killed run leaves whole
lines that a reader can use (only the frame being written at that instant is missing).
A write that fails (disk full) is cut back to the last whole line before the error is raised.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from vidtrack.errors import OutputError
from vidtrack.interrupts import deferred_interrupts
from vidtrack.labels import class_names
from vidtrack.wallclock import iso

if TYPE_CHECKING:
    import supervision as sv

    from vidtrack.frames import FrameResult


def detection_rows(detections: "sv.Detections") -> Iterator[dict[str, Any]]:
    """One dict per detection: track id (None if untracked), class, confidence, x, y, w, h.

    x, y is the top-left corner and w, h the size, in pixels rounded to 0.1 (boxes from a
    640-pixel model on a 1080p frame are not more precise than that); confidence to 0.001.
    ``speed_kmh`` (0.1) follows when a ``--speed-zone`` measured the object's speed this frame.
    """
    n = len(detections)
    if n == 0:
        return
    xyxy = np.asarray(detections.xyxy, dtype=np.float64).reshape(-1, 4)
    conf = detections.confidence
    track = detections.tracker_id
    names = class_names(detections)
    speeds = detections.data.get("speed_kmh") if detections.data else None  # --speed-zone
    for i in range(n):
        x1, y1, x2, y2 = xyxy[i]
        row = {
            "track_id": int(track[i]) if track is not None and track[i] >= 0 else None,
            "class": names[i],
            "confidence": round(float(conf[i]), 3) if conf is not None else None,
            "x": round(float(x1), 1),
            "y": round(float(y1), 1),
            "w": round(float(x2 - x1), 1),
            "h": round(float(y2 - y1), 1),
        }
        if speeds is not None and not np.isnan(speeds[i]):
            row["speed_kmh"] = round(float(speeds[i]), 1)
        yield row


class _LineFile:
    """An unbuffered text file that takes whole chunks of lines."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self._file = open(self.path, "wb", buffering=0)
        except OSError as exc:
            from vidtrack.sinks.base import check_writable

            check_writable(self.path)  # raises the precise reason when there is one
            raise OutputError(f"cannot create {self.path} ({exc.strerror or exc})", "choose another path") from None
        self._whole = 0  # bytes of whole lines written: where a failed write is cut back to

    def write(self, text: str) -> None:
        data = memoryview(text.encode("utf-8"))
        if self._file.closed:
            raise OutputError(f"{self.path} is already closed", "open a new sink")
        try:
            with deferred_interrupts():  # Ctrl-C/SIGTERM wait for the whole chunk: no half line
                while data:  # a raw write may take only part of the buffer
                    data = data[self._file.write(data) :]
        except OSError as exc:
            try:  # cut back to the last whole line: a reader never meets half a record
                os.ftruncate(self._file.fileno(), self._whole)
                self._file.seek(self._whole)
            except OSError:
                pass
            raise OutputError(
                f"writing {self.path} failed ({exc.strerror or exc}); it ends at its last whole line",
                "free disk space (or choose another disk) and run again",
            ) from None
        self._whole += len(text.encode("utf-8"))

    def close(self) -> None:
        self._file.close()


class JsonlSink:
    """``{"frame": i, "t": s, "detections": [...]}`` per line; ``frame`` is the 0-based index.

    ``t`` is the frame's time in seconds (stream time for files, capture time for live);
    ``"time"`` (ISO 8601 with offset) follows it when the wall-clock start is known (``--start-time``).
    """

    warnings: tuple[str, ...] = ()  # nothing to report

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._out = _LineFile(path)

    def write(self, result: "FrameResult") -> None:
        """Append the frame's line ``{"frame", "t"[, "time"], "detections": [...]}`` in one unbuffered write.

        Every detection is written, tracked or not (``track_id`` null when untracked); see
        :func:`detection_rows` for the fields and their rounding.

        Raises:
            OutputError: the write failed (disk full...): the file is cut back to its last
                whole line; or the sink is already closed.
        """
        record = {
            "frame": result.frame.index,
            "t": round(float(result.frame.pts), 3),
            **({"time": iso(result.frame.time)} if result.frame.time is not None else {}),
            "detections": list(detection_rows(result.detections)),
        }
        self._out.write(json.dumps(record, separators=(",", ":")) + "\n")

    def close(self) -> None:
        """Close the file; every line written is already on disk (unbuffered). Idempotent."""
        self._out.close()


def mot_line(frame: int, track_id: int, x1: float, y1: float, x2: float, y2: float, conf: float) -> str:
    """One MOTChallenge row ``frame,id,x,y,w,h,conf,-1,-1,-1`` (newline included) from an xyxy box.

    The one MOT format of vidtrack (``--mot`` and ``vidtrack eval``): pixels to 0.01,
    confidence to 0.0001; ``frame`` is 1-based as MOTChallenge counts.
    """
    return f"{frame},{track_id},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},{conf:.4f},-1,-1,-1\n"


class MotSink:
    """MOTChallenge rows ``frame,id,x,y,w,h,conf,-1,-1,-1`` with 1-based frame numbers.

    Only tracked detections are written (MOT rows need an id); scorers such as TrackEval
    read the file as it is.
    """

    warnings: tuple[str, ...] = ()  # nothing to report

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._out = _LineFile(path)

    def write(self, result: "FrameResult") -> None:
        """Append one MOT row (:func:`mot_line`) per tracked detection, the frame's rows in one write.

        Untracked rows (no ``tracker_id`` or a negative one) are skipped; a frame without
        tracked rows writes nothing. Frame numbers are 1-based; a missing confidence is 1.

        Raises:
            OutputError: the write failed (disk full...): the file is cut back to its last
                whole line; or the sink is already closed.
        """
        det = result.detections
        if len(det) == 0 or det.tracker_id is None:
            return
        xyxy = np.asarray(det.xyxy, dtype=np.float64).reshape(-1, 4)
        conf = np.ones(len(det)) if det.confidence is None else np.asarray(det.confidence, dtype=np.float64)
        frame_no = result.frame.index + 1
        lines = [
            mot_line(frame_no, int(track_id), *xyxy[i], float(conf[i]))
            for i, track_id in enumerate(det.tracker_id)
            if track_id >= 0
        ]
        if lines:
            self._out.write("".join(lines))

    def close(self) -> None:
        """Close the file; every row written is already on disk (unbuffered). Idempotent."""
        self._out.close()
