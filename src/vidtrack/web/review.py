"""``vidtrack serve --review DIR``: what happened, across the runs under a folder.

DIR may be a ``vidtrack batch`` output folder, a folder of ``vidtrack run`` outputs, or the
service's jobs folder: every run summary under it (a JSON file with ``frames`` and
``duration``) is a run. A run's files are found through the summary's ``files`` (written
when ``--snapshots``, ``--clips`` or ``--heatmap`` was asked; paths relative to the
summary), else by name next to it (``X.summary.json`` → ``X.events.jsonl``, ``X.mp4``,
``X.heatmap.png`` and the folders ``X.snapshots/``, ``X.clips/`` of ``vidtrack batch``).

:class:`ReviewIndex` lists the events of every run with their time, file or camera,
type, class, line or zone, and URLs of their snapshot, clip (with the event's offset in
it) and annotated video; and each run's heatmap. :meth:`ReviewIndex.file` serves only
files under DIR with a picture or video suffix. The folder is read again when it changes
(new runs appear without a restart).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from vidtrack.errors import OptionError

#: Files the review routes serve, by suffix, with their media type.
MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".mp4": "video/mp4", ".webm": "video/webm"}
#: Summary files read at most (a huge tree is cut here, and the page says so).
MAX_RUNS = 5000


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _events(path: Path) -> list[dict[str, Any]]:
    out = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a cut last line
                if isinstance(record, dict) and "type" in record and "t" in record:
                    out.append(record)
    except OSError:
        pass
    return out


class ReviewIndex:
    """The runs and events under ``root`` (see the module docstring).

    Raises:
        OptionError: ``root`` is not a folder.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise OptionError(f"--review {root} is not a folder", "give the folder of a batch, of run outputs or of the service's jobs")
        self._lock = threading.Lock()
        self._stamp: tuple[int, float] | None = None
        self._data: dict[str, Any] = {"runs": [], "events": [], "truncated": False}

    def url(self, path: Path | None) -> str | None:
        """``/review/files/<path under root>`` for a servable file under root; None otherwise."""
        if path is None:
            return None
        try:
            rel = path.resolve().relative_to(self.root)
        except (ValueError, OSError):
            return None
        if path.suffix.lower() not in MEDIA_TYPES or not path.is_file():
            return None
        return "/review/files/" + quote(rel.as_posix())

    def file(self, rel: str) -> tuple[Path, str] | None:
        """The file ``rel`` (a path under root) and its media type, or None when not servable."""
        path = (self.root / rel).resolve()
        try:
            path.relative_to(self.root)
        except ValueError:
            return None
        kind = MEDIA_TYPES.get(path.suffix.lower())
        if kind is None or not path.is_file():
            return None
        return path, kind

    def data(self) -> dict[str, Any]:
        """``{"runs": [...], "events": [...], "truncated": bool}``, rebuilt when a summary was added or changed."""
        summaries = []
        for dirpath, _, names in os.walk(self.root):
            for name in names:
                if name.endswith(".json") and not name.startswith("."):
                    summaries.append(Path(dirpath) / name)
                    if len(summaries) > MAX_RUNS * 4:
                        break
        summaries.sort()
        stamp = (len(summaries), max((p.stat().st_mtime for p in summaries if p.exists()), default=0.0))
        with self._lock:
            if stamp != self._stamp:
                self._data = self._build(summaries)
                self._stamp = stamp
            return self._data

    def _build(self, summaries: list[Path]) -> dict[str, Any]:
        runs: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for path in summaries:
            summary = _json(path)
            if not isinstance(summary, dict) or "frames" not in summary or "duration" not in summary:
                continue
            if len(runs) >= MAX_RUNS:
                return {"runs": runs, "events": events, "truncated": True}
            run_id = len(runs)
            files = self._files(path, summary)
            snapshots, clips = files.get("snapshots"), files.get("clips")
            clip_start = {c["file"]: c["start_t"] for c in (summary.get("clips") or {}).get("items", [])}
            heatmaps = [self.url(self._resolve(path, p)) for p in (summary.get("heatmap") or {}).get("files", [])]
            if not any(heatmaps) and files.get("heatmap"):
                heatmaps = [self.url(files["heatmap"])]
            video = self.url(files.get("video"))
            runs.append({
                "id": run_id,
                "name": str(summary.get("source") or path.stem),
                "summary": path.relative_to(self.root).as_posix(),
                "start_time": summary.get("start_time"),
                "duration": summary.get("duration"),
                "video": video,
                "heatmaps": [h for h in heatmaps if h],
            })
            for event in _events(files["events"]) if files.get("events") else []:
                clip = self.url(clips / event["clip"]) if clips and event.get("clip") else None
                events.append({
                    "run": run_id,
                    "file": runs[-1]["name"],
                    "t": event.get("t"),
                    "time": event.get("time"),
                    "type": event.get("type"),
                    "class": event.get("class"),
                    "where": event.get("line") or event.get("zone"),
                    "direction": event.get("direction"),
                    "track_id": event.get("track_id"),
                    "speed_kmh": event.get("speed_kmh"),
                    "snapshot": self.url(snapshots / event["snapshot"]) if snapshots and event.get("snapshot") else None,
                    "clip": clip,
                    "clip_offset": round(event["t"] - clip_start[event["clip"]], 3) if clip and event.get("clip") in clip_start else None,
                    "video": video,
                })
        events.sort(key=lambda e: (e["time"] or "", e["run"], e["t"] or 0))
        return {"runs": runs, "events": events, "truncated": False}

    def _resolve(self, summary_path: Path, given: str) -> Path:
        """A path the summary gives: relative to the summary's folder first, then as written."""
        candidate = summary_path.parent / given
        return candidate if candidate.exists() else Path(given)

    def _files(self, path: Path, summary: dict[str, Any]) -> dict[str, Path]:
        files = {kind: self._resolve(path, rel) for kind, rel in (summary.get("files") or {}).items() if isinstance(rel, str)}
        files = {kind: p for kind, p in files.items() if p.exists()}  # a batch renames its files after the run
        stem = path.name.removesuffix(".json").removesuffix(".summary")
        guesses = {
            "events": [f"{stem}.events.jsonl", f"{stem}-events.jsonl"],
            "video": [f"{stem}.mp4", f"{stem}.webm", f"{stem}.mkv"],
            "heatmap": [f"{stem}.heatmap.png"],
        }
        for kind, names in guesses.items():
            if kind not in files:
                found = next((path.parent / n for n in names if (path.parent / n).is_file()), None)
                if found is not None:
                    files[kind] = found
        for kind in ("snapshots", "clips"):  # a batch's per-file folders, X.snapshots/ and X.clips/
            folder = path.parent / f"{stem}.{kind}"
            if kind not in files and folder.is_dir():
                files[kind] = folder
        for kind, key in (("snapshots", "snapshots"), ("clips", "clips")):
            folder = (summary.get(key) or {}).get("folder")
            if kind not in files and folder:
                files[kind] = self._resolve(path, folder)
        return files
