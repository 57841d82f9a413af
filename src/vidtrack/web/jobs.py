"""Video jobs: an uploaded video through the same pipeline as ``vidtrack run``.

A job is a folder ``JOBS_DIR/<id>/`` holding ``record.json`` (state, progress, options,
error), the upload while it waits or runs, and the outputs: ``video.mp4`` (H.264),
``tracks.jsonl``, ``summary.json`` (and ``events.jsonl`` when the run has an events
output); when the client asks ``snapshots``, ``clips`` or ``heatmap`` (true: the server
names them, see :data:`JOB_FOLDERS`), ``heatmap.png`` and the folders ``snapshots/`` and
``clips/``, whose files are served at ``/v1/jobs/<id>/snapshots/<file>`` and
``/v1/jobs/<id>/clips/<file>``. The request is built by :func:`vidtrack.options.request_from_options` from the
client's options, named as ``vidtrack run``'s, and run by the function the server hands the
:class:`JobManager` (``vidtrack serve`` hands it :func:`vidtrack.runner.execute`) with the
server's one shared model. At most ``max_jobs`` run at once; the rest queue.

Ids are 128 random bits (``secrets.token_urlsafe(16)``); clients never name a path: every
option typed as a path in ``vidtrack run`` (outputs, config files...) is the server's, as
are the model and the viewers. A server restarted on the same folder lists the finished
jobs again and marks the ones it interrupted as failed.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Mapping

from vidtrack.errors import OptionError, VidtrackError
from vidtrack.web.uploads import UploadError, check_video

if TYPE_CHECKING:
    from vidtrack.web.service import DetectionService

log = logging.getLogger(__name__)

#: The shape of a job id: 16 random bytes, URL-safe base64 without padding.
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
#: Output files a client may fetch, by the name in the URL.
OUTPUT_FILES = {"video.mp4": "video/mp4", "tracks.jsonl": "application/x-ndjson",
                "events.jsonl": "application/x-ndjson", "summary.json": "application/json",
                "heatmap.png": "image/png"}
#: Outputs a client may ask for with ``true`` (they are paths in ``vidtrack run``: the server
#: names them inside the job's folder): option -> the file or folder name.
JOB_OUTPUTS = {"snapshots": "snapshots", "clips": "clips", "heatmap": "heatmap.png"}
#: The job's folders of files (snapshots, clips): the suffixes served from them, with their type.
JOB_FOLDERS = {"snapshots": {".jpg": "image/jpeg"}, "clips": {".mp4": "video/mp4"}}
#: Run options the server decides, whatever the client sends (paths are found by type too).
#: ``webhook``/``mqtt``: a client must not make the server send requests to addresses it chooses.
SERVER_OPTIONS = {"model", "imgsz", "device", "backend", "show", "serve", "token", "loop", "quiet", "webhook", "mqtt"}
#: Seconds between progress writes of record.json while a job runs.
PERSIST_EVERY_S = 1.0
QUEUED, RUNNING, FINISHED, FAILED = "queued", "running", "finished", "failed"
INPUT_NAME = "input.video"
#: Seconds a client is told to wait (``Retry-After``) when the queue or the disk budget is full.
RETRY_AFTER_S = 30
#: Bytes kept free on the jobs disk beyond an upload: the job's record and first outputs.
DISK_RESERVE = 1 << 20
#: A file of this many bytes is kept in the jobs folder and deleted when the disk is full,
#: so that a failed job's record can still be written (recreated at the next upload).
RESERVE_FILE, RESERVE_BYTES = ".disk-reserve", 256 * 1024


def free_bytes(folder: Path) -> int:
    """Bytes free for this user on ``folder``'s file system (0 when it cannot be read)."""
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0


def is_disk_full(exc: BaseException) -> bool:
    """True for the OS errors of a full disk or an exhausted quota (ENOSPC, EDQUOT)."""
    import errno

    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def disk_full_error(folder: Path, what: str) -> UploadError:
    """The 507 of a full jobs disk: names the folder and the space left on it."""
    free = free_bytes(folder)
    return UploadError(
        507, f"{what}: the disk of the jobs folder {folder} is full ({free / (1 << 20):.1f} MB free)",
        "free space on that disk, delete finished jobs (DELETE /v1/jobs/ID), or start the server with "
        "another --jobs-dir", {"Retry-After": str(RETRY_AFTER_S)},
    )


def default_jobs_dir() -> Path:
    """``$XDG_DATA_HOME/vidtrack/jobs`` (``~/.local/share/vidtrack/jobs``): kept across restarts."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "vidtrack" / "jobs"


def client_options(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A client's job options as run options of the right types, checked.

    Names are ``vidtrack run``'s (dashes or underscores). Values may be text (form fields)
    or JSON values.

    Raises:
        OptionError: an unknown name, an option the server decides, or a bad value.
    """
    from pathlib import PurePath

    from vidtrack.options import OPTIONS, check_known, check_value, normalise_key

    check_known(raw)
    run: dict[str, Any] = {}
    for key, value in raw.items():
        name = normalise_key(key)
        if name in JOB_OUTPUTS:  # asked with true/false; the server names the path
            if _flag(name, value):
                run[name] = True
            continue
        if name in SERVER_OPTIONS or issubclass(OPTIONS[name].kind, PurePath):
            raise OptionError(f"option {name!r} is set by the server", "leave it out: outputs are fetched from the job's URLs")
        run[name] = check_value(name, value)
    return run


def _flag(name: str, value: Any) -> bool:
    """``true``/``false`` of a job output a client asks for (``snapshots``, ``clips``, ``heatmap``).

    Raises:
        OptionError: anything else (a path: the server names the job's files).
    """
    text = str(value).strip().lower()
    if isinstance(value, bool) or text in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        return value if isinstance(value, bool) else text in ("true", "1", "yes", "on")
    raise OptionError(f"option {name!r} of a job is true or false, not {str(value)[:40]!r}",
                      f"send {name}=true: the server names the job's files and serves them under the job's URL")


@dataclass
class Job:
    """One job's record (what ``GET /v1/jobs/{id}`` shows) and its run-time handles."""

    id: str
    folder: Path
    state: str = QUEUED
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    frames_done: int = 0
    frames_total: int | None = None
    error: dict[str, str] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    filename: str = ""
    summary: dict[str, Any] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    deleted: bool = False

    def public(self, base: str = "") -> dict[str, Any]:
        """The JSON a client sees: state, progress, errors and output URLs (never paths).

        ``outputs.snapshots``/``outputs.clips`` are lists of the URLs of the folder's files."""
        outputs: dict[str, Any] = {}
        if self.state == FINISHED:
            for name in OUTPUT_FILES:
                if (self.folder / name).exists():
                    outputs[name.split(".")[0]] = f"{base}/v1/jobs/{self.id}/{name}"
            for kind, suffixes in JOB_FOLDERS.items():
                folder = self.folder / kind
                if folder.is_dir():
                    outputs[kind] = [f"{base}/v1/jobs/{self.id}/{kind}/{p.name}" for p in sorted(folder.iterdir())
                                     if p.suffix.lower() in suffixes and p.is_file()]
        total = self.frames_total
        return {
            "id": self.id,
            "state": self.state,
            "progress": {
                "frames_done": self.frames_done,
                "frames_total": total,
                "fraction": round(min(1.0, self.frames_done / total), 4) if total else None,
            },
            "error": self.error,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "filename": self.filename,
            "options": self.options,
            "outputs": outputs,
            "summary": self.summary,
        }

    def record(self) -> dict[str, Any]:
        """What ``record.json`` holds (the public view less the URLs)."""
        data = self.public()
        data.pop("outputs")
        return data


#: What runs a job's request: :func:`vidtrack.runner.execute`'s signature (request,
#: ``on_start``, ``on_frame``, ``detector``, ``cancel`` by keyword) -> its ``RunOutcome``.
RunFunction = Callable[..., Any]


class JobManager:
    """Queues video jobs and runs at most ``max_jobs`` at once on the shared model.

    ``run`` is the function that runs a request (``vidtrack serve`` hands it
    :func:`vidtrack.runner.execute`): this layer never imports the runner. None: jobs
    are accepted and listed, and each fails saying the server runs none.

    ``max_queued``: most jobs waiting at once (503 + Retry-After past it); None: no cap.
    ``disk_budget``: most bytes the jobs folder may hold, uploads and outputs together
    (507 + Retry-After when an upload would pass it); None: only the disk's free space.
    A full disk never takes a worker down: the job fails with the cause, its outputs are
    removed, and the next job runs. Folders of uploads cut short by a killed server are
    removed at start.

    Raises:
        OptionError: ``max_jobs`` < 1 or ``folder`` cannot be created.
    """

    def __init__(
        self, service: "DetectionService", folder: Path, max_jobs: int = 1, run: RunFunction | None = None,
        max_queued: int | None = None, disk_budget: int | None = None,
    ) -> None:
        if max_jobs < 1:
            raise OptionError(f"--max-jobs {max_jobs} must be at least 1", "use 1 on a small machine")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OptionError(f"cannot create the jobs folder {folder}: {exc.strerror}", "pass --jobs-dir DIR") from exc
        self.service = service
        self.run = run
        self.folder = folder
        self.max_jobs = max_jobs
        self.max_queued = max_queued
        self.disk_budget = disk_budget
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._load()
        self._keep_reserve()
        self._workers = [
            threading.Thread(target=self._work, name=f"job-worker-{i}", daemon=True) for i in range(max_jobs)
        ]
        for worker in self._workers:
            worker.start()

    # ------------------------------------------------------------------ API

    def check_room(self, size: int | None) -> None:
        """Refuse a new job now if the queue is full or ``size`` bytes would not fit.

        Called before an upload is read (``size`` from ``Content-Length``) and again before
        it is stored.

        Raises:
            UploadError: 503 queue full, 507 disk budget or free space too small (both
                with ``Retry-After``).
        """
        if self.max_queued is not None and self.counts()[QUEUED] >= self.max_queued:
            raise UploadError(503, f"the job queue is full ({self.max_queued} jobs waiting)",
                              f"retry in {RETRY_AFTER_S} s, or start the server with a larger --max-queued",
                              {"Retry-After": str(RETRY_AFTER_S)})
        size = size or 0
        if self.disk_budget is not None and self.disk_used() + size > self.disk_budget:
            raise UploadError(
                507, f"the jobs folder is at its disk budget ({self.disk_budget / (1 << 20):g} MB)",
                "delete finished jobs (DELETE /v1/jobs/ID), retry later, or start the server with a larger --jobs-max-mb",
                {"Retry-After": str(RETRY_AFTER_S)},
            )
        if size and size + DISK_RESERVE > free_bytes(self.folder):
            raise disk_full_error(self.folder, f"the upload ({size / (1 << 20):.1f} MB) does not fit")

    def disk_used(self) -> int:
        """Bytes the jobs folder holds now (uploads, outputs and records)."""
        total = 0
        for root, _dirs, files in os.walk(self.folder):
            for name in files:
                try:
                    total += os.lstat(os.path.join(root, name)).st_size
                except OSError:
                    pass
        return total

    def submit(self, upload: BinaryIO, filename: str, options: Mapping[str, Any], size: int | None = None) -> Job:
        """Store an upload, check it is a video and the options are valid, and queue it.

        ``size``: the upload's size when known (checked against the free space first).

        Raises:
            OptionError: bad options (nothing is kept).
            UploadError: not a video (415) or a corrupt one (422); queue full (503); the
                disk or its budget full (507); nothing is kept.
        """
        run_options = client_options(options)
        try:  # nothing non-finite is ever stored (record.json must stay strict JSON)
            json.dumps(run_options, allow_nan=False)
        except ValueError:
            raise OptionError("an option value is not a finite number", "send finite numbers") from None
        request = self._request(Path(INPUT_NAME), run_options)
        self.service.detector_for_config(request.detector)  # unknown classes... before the upload is stored
        self.check_room(size)
        self._keep_reserve()
        job = Job(id=secrets.token_urlsafe(16), folder=Path())
        job.folder = self.folder / job.id
        try:
            job.folder.mkdir()
            with open(job.folder / INPUT_NAME, "wb") as out:
                shutil.copyfileobj(upload, out, 1 << 20)
            slots = getattr(self.service, "slots", None)
            if slots is not None:
                with slots:  # decoding a first frame counts against the picture slots too
                    check_video(job.folder / INPUT_NAME)
            else:
                check_video(job.folder / INPUT_NAME)
        except BaseException as exc:
            shutil.rmtree(job.folder, ignore_errors=True)
            if is_disk_full(exc):
                raise disk_full_error(self.folder, "the upload does not fit") from None
            raise
        job.options = dict(run_options)
        job.filename = _display_name(filename)
        try:
            with self._lock:
                self._persist(job)
                self._jobs[job.id] = job
        except OSError as exc:
            shutil.rmtree(job.folder, ignore_errors=True)
            if is_disk_full(exc):
                raise disk_full_error(self.folder, "the job's record does not fit") from None
            raise
        self._queue.put(job.id)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None (also for ids of the wrong shape)."""
        if not JOB_ID.match(job_id):
            return None
        with self._lock:
            job = self._jobs.get(job_id)
        return None if job is None or job.deleted else job

    def list(self) -> list[Job]:
        """Every job, newest first."""
        with self._lock:
            return sorted((j for j in self._jobs.values() if not j.deleted), key=lambda j: -j.created)

    def output(self, job: Job, name: str) -> Path | None:
        """The path of a finished job's output ``name`` (one of :data:`OUTPUT_FILES`, or
        ``snapshots/<file>``/``clips/<file>`` of :data:`JOB_FOLDERS`), if it exists."""
        if job.state != FINISHED:
            return None
        kind, _, file = name.partition("/")
        if file:
            if kind not in JOB_FOLDERS or not re.fullmatch(r"[A-Za-z0-9_.-]+", file) or file.startswith("."):
                return None
            if Path(file).suffix.lower() not in JOB_FOLDERS[kind]:
                return None
            path = job.folder / kind / file
        elif name in OUTPUT_FILES:
            path = job.folder / name
        else:
            return None
        return path if path.is_file() else None

    @staticmethod
    def media_type(name: str) -> str:
        """The media type of an output name :meth:`output` accepted."""
        kind, _, file = name.partition("/")
        return JOB_FOLDERS[kind][Path(file).suffix.lower()] if file else OUTPUT_FILES[name]

    def delete(self, job: Job) -> None:
        """Forget a job and remove its files; a running job is stopped first (in its worker)."""
        with self._lock:
            job.deleted = True
            running = job.state == RUNNING
            self._jobs.pop(job.id, None)
        job.cancel.set()
        if not running:
            shutil.rmtree(job.folder, ignore_errors=True)

    def dead_workers(self) -> int:
        """How many job runner threads have died (none should: ``/healthz`` answers 503 if any)."""
        return sum(1 for worker in self._workers if not worker.is_alive())

    def counts(self) -> dict[str, int]:
        """How many jobs are in each state."""
        with self._lock:
            out = {QUEUED: 0, RUNNING: 0, FINISHED: 0, FAILED: 0}
            for job in self._jobs.values():
                out[job.state] = out.get(job.state, 0) + 1
            return out

    def close(self) -> None:
        """Stop running jobs (they are marked failed) and the workers."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel.set()
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            worker.join(timeout=10)

    # ------------------------------------------------------------- internals

    def _request(self, source: Path, run_options: Mapping[str, Any], folder: Path | None = None) -> Any:
        """The run request of a job: the client's options plus the server's model and outputs."""
        from vidtrack.options import RUN_OPTIONS, request_from_options

        folder = folder or Path(".")
        outputs: dict[str, Any] = {"output": folder / "video.mp4", "jsonl": folder / "tracks.jsonl",
                                   "summary": folder / "summary.json", "model": self.service.config.model,
                                   "imgsz": self.service.config.imgsz}
        if "events" in RUN_OPTIONS:
            outputs["events"] = folder / "events.jsonl"
        asked = {name: folder / JOB_OUTPUTS[name] for name in JOB_OUTPUTS if run_options.get(name) is True}
        return request_from_options([str(source)], {**run_options, **asked, **outputs})

    def _work(self) -> None:
        """A job runner thread: no exception ever leaves it (a job's failure is the job's)."""
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                self._work_on(job_id)
            except BaseException:  # pragma: no cover - _work_on handles its own; belt and braces
                log.exception("job runner: unexpected error on job %s", job_id)

    def _work_on(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.deleted:
                return
            job.state, job.started = RUNNING, time.time()
        try:
            with self._lock:
                self._persist(job)
            self._run(job)
        except VidtrackError as exc:  # a bad upload, a stop: the record says it all
            log.warning("job %s failed: %s", job.id, exc)
            self._fail(job, exc)
        except BaseException as exc:  # a job must never take its worker down
            if is_disk_full(exc):
                log.warning("job %s failed: the jobs disk is full", job.id)
            else:
                log.exception("job %s failed", job.id)
            self._fail(job, exc)
        finally:
            (job.folder / INPUT_NAME).unlink(missing_ok=True)
            if job.deleted:
                shutil.rmtree(job.folder, ignore_errors=True)

    def _run(self, job: Job) -> None:
        if self.run is None:
            raise OptionError("this server runs no video jobs", "start it with 'vidtrack serve'")
        request = self._request(job.folder / INPUT_NAME, job.options, folder=job.folder)
        last_persist = [0.0]

        def on_start(infos: list[Any], _url: str | None) -> None:
            job.frames_total = infos[0].frame_count if infos else None
            with self._lock:
                self._persist(job)

        too_big: list[tuple[int, int]] = []

        def on_frame(_lane: int, result: Any) -> None:
            from vidtrack.web import uploads

            height, width = result.frame.image.shape[:2]
            if width * height > uploads.MAX_PIXELS and not too_big:  # the picture grew mid-stream
                too_big.append((width, height))
                job.cancel.set()
            job.frames_done += 1
            now = time.monotonic()
            if now - last_persist[0] >= PERSIST_EVERY_S:
                last_persist[0] = now
                with self._lock:
                    self._persist(job)

        outcome = self.run(request, on_start=on_start, on_frame=on_frame,
                          detector=self.service.detector_for_config(request.detector), cancel=job.cancel)
        if job.deleted:
            return
        if too_big:
            from vidtrack.web.uploads import too_many_pixels

            raise too_many_pixels(*too_big[0], what="video")
        if job.cancel.is_set():
            raise VidtrackError("the job was stopped (server shutting down)", "submit it again")
        if outcome.error is not None:
            raise outcome.error
        summary = dict(outcome.summaries[0]) if outcome.summaries else None
        if summary is not None:  # name the client's file, not the server's copy of it
            from vidtrack.paths import write_json_atomic

            summary["source"] = job.filename
            summary = _without_server_paths(summary, job.folder)
            write_json_atomic(job.folder / "summary.json", summary)
        with self._lock:
            job.state, job.finished = FINISHED, time.time()
            job.summary = summary
            if job.frames_total is None or job.frames_total < job.frames_done:
                job.frames_total = job.frames_done
            self._persist(job)

    def _fail(self, job: Job, exc: BaseException) -> None:
        """Mark ``job`` failed: outputs removed first (room for the record), then the record written.

        Never raises: a record that cannot be written is logged, the job is failed in memory.
        """
        cause = exc if is_disk_full(exc) else exc.__cause__ or exc.__context__
        if is_disk_full(exc) or (isinstance(exc, VidtrackError) and cause is not None and is_disk_full(cause)):
            full = disk_full_error(self.folder, "the job failed while writing its outputs")
            error = {"error": full.problem, "fix": full.fix or ""}
        elif isinstance(exc, VidtrackError):
            error = {"error": exc.problem, "fix": exc.fix or "check the upload and options"}
        elif isinstance(exc, OSError):
            error = {"error": f"the job failed: {exc.strerror or exc} ({type(exc).__name__})",
                     "fix": "see the server log; try again"}
        else:
            error = {"error": f"the job failed ({type(exc).__name__})", "fix": "see the server log; try again"}
        for name in OUTPUT_FILES:  # half-written outputs are no use to anyone, and free the disk
            try:
                (job.folder / name).unlink(missing_ok=True)
            except OSError:
                pass
        for kind in JOB_FOLDERS:
            shutil.rmtree(job.folder / kind, ignore_errors=True)
        with self._lock:
            job.state, job.finished, job.error = FAILED, time.time(), error
            if not job.deleted:
                try:
                    self._persist(job)
                except OSError as persist_error:
                    (self.folder / RESERVE_FILE).unlink(missing_ok=True)  # the room kept for this
                    try:
                        self._persist(job)
                    except OSError:
                        log.error("job %s: cannot write its record: %s", job.id, persist_error)

    def _keep_reserve(self) -> None:
        """Make sure the reserve file exists (best effort: a full disk leaves it missing)."""
        path = self.folder / RESERVE_FILE
        try:
            if not path.exists() or path.stat().st_size < RESERVE_BYTES:
                with open(path, "wb") as out:
                    out.write(b"\0" * RESERVE_BYTES)
        except OSError:
            path.unlink(missing_ok=True)

    def _persist(self, job: Job) -> None:
        """Write record.json atomically, as strict JSON (no NaN/Infinity). Caller holds ``_lock``.

        Raises:
            OSError: the disk is full (the old record stays whole).
        """
        from vidtrack.paths import atomic_write

        if job.folder.is_dir():
            text = json.dumps(job.record(), indent=2, allow_nan=False, default=str)
            with atomic_write(job.folder / "record.json") as handle:
                handle.write(text + "\n")

    def _load(self) -> None:
        """Jobs of an earlier server on this folder: finished ones stay, unfinished ones failed.

        A job folder without a record is an upload cut short (a killed server): removed. A
        record with non-finite numbers (an older server stored ``Infinity``) is repaired
        (those values become null) so it never breaks the job list; one that does not
        parse is skipped.
        """
        for folder in sorted(self.folder.iterdir()) if self.folder.is_dir() else []:
            if JOB_ID.match(folder.name) and folder.is_dir() and not (folder / "record.json").exists():
                log.info("removing %s: an upload a stopped server did not finish storing", folder)
                shutil.rmtree(folder, ignore_errors=True)
        for path in sorted(self.folder.glob("*/record.json")):
            if not JOB_ID.match(path.parent.name):
                continue
            repaired: list[str] = []
            try:
                data = json.loads(path.read_text(encoding="utf-8"), parse_constant=lambda c: repaired.append(c))
                job = self._job_from_record(path.parent, data)
            except (OSError, ValueError, TypeError, AttributeError):
                log.warning("skipping %s: not a job record", path)
                continue
            if repaired:
                job.options = {k: v for k, v in job.options.items() if v is not None}
                try:
                    self._persist(job)
                except (OSError, ValueError):
                    pass
            if job.state in (QUEUED, RUNNING):
                job.state, job.finished = FAILED, time.time()
                job.error = {"error": "interrupted: the server stopped before the job finished", "fix": "submit it again"}
                (job.folder / INPUT_NAME).unlink(missing_ok=True)
                for name in OUTPUT_FILES:
                    (job.folder / name).unlink(missing_ok=True)
                for kind in JOB_FOLDERS:
                    shutil.rmtree(job.folder / kind, ignore_errors=True)
                try:
                    self._persist(job)
                except OSError:
                    pass
            self._jobs[job.id] = job

    @staticmethod
    def _job_from_record(folder: Path, data: Any) -> Job:
        """A :class:`Job` from a parsed record.json (TypeError/ValueError/AttributeError if it is not one)."""
        if not isinstance(data, dict):
            raise TypeError("not an object")
        options = data.get("options") or {}
        if not isinstance(options, dict):
            raise TypeError("options is not an object")
        job = Job(id=folder.name, folder=folder, state=str(data.get("state", FAILED)),
                  created=float(data.get("created") or 0), started=_number(data.get("started")),
                  finished=_number(data.get("finished")), error=data.get("error"), options=options,
                  filename=str(data.get("filename") or ""), summary=data.get("summary"))
        if job.state not in (QUEUED, RUNNING, FINISHED, FAILED):
            job.state = FAILED
        progress = data.get("progress") or {}
        job.frames_done = int(progress.get("frames_done") or 0)
        total = progress.get("frames_total")
        job.frames_total = int(total) if isinstance(total, (int, float)) else None
        return job


def _without_server_paths(value: Any, folder: Path) -> Any:
    """``value`` (a summary) with every text naming a path in the job's ``folder`` made relative
    to it (the snapshot and clip folders, the heatmap): a client never sees a server path."""
    prefix = str(folder) + os.sep
    if isinstance(value, dict):
        return {k: _without_server_paths(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_server_paths(v, folder) for v in value]
    if isinstance(value, str) and value.startswith(prefix):
        return value[len(prefix):]
    return value


def _number(value: Any) -> float | None:
    """A record's time stamp, or None when it is missing or not a number."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _display_name(filename: str) -> str:
    """The client's file name, for display only: its last component, printable, at most 120 characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    return "".join(ch for ch in name if ch.isprintable())[:120]


__all__ = ["Job", "JobManager", "UploadError", "client_options", "default_jobs_dir"]
