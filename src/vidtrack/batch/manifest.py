"""The batch manifest: one record per input saying done or failed, and with which settings.

``OUT_DIR/manifest.jsonl`` is append-only: one JSON line per finished file, flushed and
fsynced before that file's outputs are renamed into place, so after any kill (even
SIGKILL) every finished output has its record. The last record of an input wins; a line
cut by a kill is ignored. Only the driver (one process) writes it, and a lock file stops a
second batch from writing into the same OUT_DIR at the same time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import IO, Any

from vidtrack.batch.inputs import BatchInputError
from vidtrack.paths import atomic_write
from vidtrack.request import RunRequest

MANIFEST_NAME = "manifest.jsonl"
LOCK_NAME = ".vidtrack-batch.lock"

#: Request fields that say where results go or how they are watched, not what they are.
_NOT_SETTINGS = ("sources", "show", "serve", "token")


def _model_identity(model: str) -> dict[str, Any]:
    """The model by path, size and modification time (a re-exported model changes it)."""
    path = Path(model).expanduser()
    if not path.exists():
        return {"name": model}
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    stats = [p.stat() for p in files]
    return {
        "path": str(path.resolve()),
        "bytes": sum(s.st_size for s in stats),
        "mtime_ns": max((s.st_mtime_ns for s in stats), default=0),
    }


def settings_fingerprint(request: "RunRequest") -> str:
    """A short hash of every setting that changes a file's outputs.

    Covers the detector (and the model file's size and mtime), tracker, source, overlay
    and output settings (which outputs are written, crf, preset), not the output paths or
    viewers. Equal fingerprints mean a finished file need not be redone.
    """
    data = dataclasses.asdict(request)
    for key in _NOT_SETTINGS:
        data.pop(key, None)
    output = data.pop("output", {}) or {}
    data["outputs"] = sorted(k for k, v in output.items() if isinstance(v, (str, os.PathLike)) and v)
    data["output_settings"] = {k: v for k, v in output.items() if not isinstance(v, (str, os.PathLike)) and v is not None}
    data["model"] = _model_identity(str(request.detector.model))
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def input_identity(path: Path) -> dict[str, int]:
    """Size and mtime of an input file: a replaced file is redone."""
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


class Manifest:
    """Read the latest record per input, append new ones durably.

    Records are dicts with at least ``rel`` (the input's relative path, the key),
    ``status`` ("done" or "failed") and ``fingerprint``.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / MANIFEST_NAME
        self.records: dict[str, dict[str, Any]] = {}
        self._file: IO[str] | None = None
        if self.path.exists():
            with open(self.path, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                    except ValueError:  # the last line of a killed run may be cut
                        continue
                    if isinstance(record, dict) and "rel" in record:
                        self.records[str(record["rel"])] = record

    def get(self, rel: str) -> dict[str, Any] | None:
        """The latest record for ``rel``, or None."""
        return self.records.get(rel)

    def compact(self) -> None:
        """Rewrite the file with only the latest record per input (atomically)."""
        with atomic_write(self.path, fsync=True) as handle:
            for record in self.records.values():
                handle.write(json.dumps(record, sort_keys=True) + "\n")

    def append(self, record: dict[str, Any]) -> None:
        """Add a record and make it durable (fsync) before returning."""
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(json.dumps(record, sort_keys=True) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.records[str(record["rel"])] = record

    def close(self) -> None:
        """Close the file handle (records stay readable)."""
        if self._file is not None:
            self._file.close()
            self._file = None


class OutDirLock:
    """An exclusive lock on OUT_DIR for the life of a batch (released when the process dies)."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, run_id: str = "") -> None:
        """Take the lock and write ``run_id`` in it (so other batches know whose partial files are live).

        Raises:
            BatchInputError: another batch holds it.
        """
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise BatchInputError(
                f"another batch is writing to {self.path.parent}", "wait for it to finish or choose another OUT_DIR"
            ) from None
        self._fd = fd
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, run_id.encode("ascii", "replace"), 0)
        except OSError:
            pass

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def live_run_ids(out_dir: Path) -> set[str]:
    """Run ids of the other batches running now in ``out_dir``, a folder inside it, or one around it.

    Each batch holds an exclusive lock on ``OUT_DIR/.vidtrack-batch.lock`` holding its run
    id; a lock file nobody holds is a finished or killed batch's (its partial files are
    leftovers). ``out_dir``'s own lock is not read (the caller holds it).
    """
    import fcntl

    own = (out_dir / LOCK_NAME).resolve()
    candidates = [parent / LOCK_NAME for parent in out_dir.resolve().parents]
    for root, _dirs, files in os.walk(out_dir):
        if LOCK_NAME in files:
            candidates.append(Path(root) / LOCK_NAME)
    live: set[str] = set()
    for path in candidates:
        try:
            if path.resolve() == own or not path.is_file():
                continue
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # held: a batch is running there
            run_id = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
            if run_id:
                live.add(run_id)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    return live
