"""The batch driver: plan the files, hand them to an engine, record and publish each result.

Order of a batch (everything that can fail on user input fails before anything is written):

1. check the options (the same :func:`~vidtrack.options.request_from_options` as ``run``),
   expand INPUTS, check OUT_DIR and the model path, connect the engine (Ray: reachable,
   vidtrack installed on the workers, inputs readable there);
2. create OUT_DIR, lock it, delete partial files of killed runs, read the manifest;
3. skip files done with the same settings fingerprint and unchanged input; run the rest;
4. for each finished file: fsync a manifest record, *then* rename its outputs from their
   temporary names; a failed file's partial and old outputs are removed;
5. write ``report.csv``/``report.jsonl`` (also after Ctrl-C).
"""

from __future__ import annotations

import datetime
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from vidtrack.batch.inputs import FOLDER_OUTPUTS, OUTPUT_SUFFIXES, PARTIAL_PREFIX, BatchInput, check_out_dir, discover
from vidtrack.batch.job import DONE, FAILED, INTERRUPTED, FileJob, FileResult, remove_quietly
from vidtrack.batch.manifest import Manifest, OutDirLock, input_identity, live_run_ids, settings_fingerprint
from vidtrack.batch.report import make_row, write_report
from vidtrack.errors import ModelError, OptionError, check_option
from vidtrack.options import OPTIONS

#: ``run`` options a batch sets itself per file (outputs) or cannot honour (viewers).
#: ``heatmap``, ``snapshots`` and ``clips`` are asked with ``run_batch(heatmap=, snapshots=,
#: clips=)`` (``vidtrack batch --heatmaps --snapshots --clips``), which names them per file.
#: Every other path option of the table is one too (an output registered with its own option).
RESERVED_OPTIONS = ("output", "jsonl", "mot", "summary", "events", "show", "serve", "token", "heatmap", "snapshots", "clips")
RESERVED_OPTIONS += tuple(n for n, o in OPTIONS.items() if issubclass(o.kind, Path) and n not in RESERVED_OPTIONS)


class BatchEngine(Protocol):
    """Where a batch's files run: :class:`~vidtrack.batch.local.LocalEngine` (this machine) or
    :class:`~vidtrack.batch.ray_engine.RayEngine` (a Ray cluster). The driver relies on these only."""

    #: True when files run side by side (the driver then queues the biggest first).
    parallel: bool

    def describe(self) -> str:
        """The engine in words, for the progress line (e.g. "2 worker processes, 1 core(s) each")."""

    def connect(self, inputs: list[str]) -> None:
        """Get ready before anything is written (Ray: reach the cluster, check every node can read
        ``inputs``); raises a VidtrackError with the fix when it cannot."""

    def run(
        self,
        jobs: Iterable[FileJob],
        on_result: Callable[[FileJob, FileResult], bool],
        on_frames: Callable[[int], None],
    ) -> None:
        """Run every job; ``on_result`` is called in the caller's thread and returns False to stop;
        ``on_frames(n)`` reports n more frames processed."""

    def close(self) -> None:
        """Release what :meth:`connect` and :meth:`run` acquired (safe to call more than once)."""


class BatchProgress(Protocol):
    """What the driver reports while it runs (the CLI draws a rich progress bar from it)."""

    def start(self, total: int, skipped: int, engine: str) -> None:
        """``total`` files in the batch, ``skipped`` of them already done; ``engine`` in words."""

    def frames(self, count: int) -> None:
        """``count`` more frames processed (any file, any worker)."""

    def file_done(self, row: dict[str, Any]) -> None:
        """A file finished (done or failed); ``row`` is its report row."""


class _NoProgress:
    def start(self, total: int, skipped: int, engine: str) -> None:
        pass

    def frames(self, count: int) -> None:
        pass

    def file_done(self, row: dict[str, Any]) -> None:
        pass


def output_kinds(
    video: bool, options: Mapping[str, Any] | None = None, heatmap: bool = False, snapshots: bool = False, clips: bool = False
) -> list[str]:
    """Outputs written per file: annotated video (unless ``video`` is False), JSONL, summary,
    events when ``options`` draw a line or a zone (without them there are no events, and an
    empty ``.events.jsonl`` per file would only be clutter), a heatmap PNG when ``heatmap``,
    and the folders ``<rel>.snapshots``/``<rel>.clips`` when ``snapshots``/``clips``."""
    from vidtrack.options import RUN_OPTIONS, normalise_key

    kinds = (["output"] if video else []) + ["jsonl", "summary"]
    analytics = any(normalise_key(str(k)) in ("line", "zone") and v for k, v in (options or {}).items())
    if "events" in RUN_OPTIONS and analytics:
        kinds.append("events")
    if heatmap:
        kinds.append("heatmap")
    if snapshots:
        kinds.append("snapshots")
    if clips:
        kinds.append("clips")
    return kinds


def check_options(options: Mapping[str, Any] | None, kinds: Sequence[str]) -> tuple[dict[str, Any], str]:
    """Validate ``run`` options for a batch; returns them normalised and their fingerprint.

    Raises:
        OptionError: an unknown option, a bad value, or an option the batch sets per file.
    """
    from vidtrack.options import normalise_key, request_from_options

    clean = {normalise_key(k): v for k, v in (options or {}).items() if v is not None}
    config = clean.pop("config", None)
    if config is not None:  # a --config file (YAML/TOML of run options); explicit options win
        from vidtrack.config_file import load_config_file

        from_file = {k: v for k, v in load_config_file(config).items() if k not in RESERVED_OPTIONS}
        clean = {**from_file, **clean}
    for key in RESERVED_OPTIONS:
        if clean.get(key) not in (None, False):
            raise OptionError(
                f"option {key!r} cannot be used with batch", "each file's outputs go under OUT_DIR; drop the option"
            )
        clean.pop(key, None)
    clean["model"] = _model_for_workers(str(clean.get("model") or ""))
    probe = {kind: f"file{OUTPUT_SUFFIXES[kind]}" for kind in kinds}
    request = request_from_options(["file"], {**clean, **probe})
    return clean, settings_fingerprint(request)


def _model_for_workers(model: str) -> str:
    """The model as every worker must see it: the default resolved here (workers may have
    another ``VIDTRACK_MODEL``), a local path made absolute (workers have another cwd)."""
    from vidtrack.config import default_model
    from vidtrack.detection.base import looks_like_path

    model = model or default_model()
    path = Path(model).expanduser()
    return str(path.resolve()) if looks_like_path(model) and path.exists() else model


def _check_model(options: Mapping[str, Any]) -> None:
    from vidtrack.detection.base import looks_like_path

    model = str(options["model"])
    if looks_like_path(model) and not Path(model).expanduser().exists():
        raise ModelError(f"no model at {model}", "pass --model PATH to an existing model or set VIDTRACK_MODEL")


#: The error of a file whose size or mtime changed while it was processed (it is redone next time).
CHANGED_ERROR = "the input changed while it was processed: run the batch again once it is complete"


def _remove_partials(out_dir: Path, keep: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Delete temporary outputs left by killed batches (they never look finished).

    ``keep``: run ids of batches still running (in a folder inside OUT_DIR, or in one
    around it): their ``.partial-<run id>-*`` files are theirs and stay.
    """
    for root, dirs, files in os.walk(out_dir):
        for name in files:
            if name.startswith(PARTIAL_PREFIX) and partial_run_id(name) not in keep:
                remove_quietly([os.path.join(root, name)])
        for name in [d for d in dirs if d.startswith(PARTIAL_PREFIX)]:  # snapshot/clip folders
            dirs.remove(name)
            if partial_run_id(name) not in keep:
                remove_quietly([os.path.join(root, name)])


def _publish_recorded_partials(out_dir: Path, manifest: Manifest, keep: set[str]) -> None:
    """Finish what a killed batch had recorded: a file's outputs are recorded ``done`` (with
    their sizes) before their temporary names are renamed to the final ones, so a batch
    killed between the two leaves ``.partial-<run id>-<name>`` files whose record is already
    written. Each such file whose final name is missing and whose size is the recorded one is
    renamed into place (as the killed batch would have); anything else is left for
    :func:`_remove_partials`. ``keep``: run ids of batches still running (never touched).
    """
    recorded: dict[str, int] = {}
    for record in manifest.records.values():
        if record.get("status") == DONE:
            recorded.update({str(rel): int(size) for rel, size in (record.get("output_sizes") or {}).items()})
    for root, dirs, files in os.walk(out_dir):
        folders = [d for d in dirs if d.startswith(PARTIAL_PREFIX)]
        dirs[:] = [d for d in dirs if not d.startswith(PARTIAL_PREFIX)]
        for name in [*files, *folders]:
            if not name.startswith(PARTIAL_PREFIX) or partial_run_id(name) in keep:
                continue
            final_name = name[len(PARTIAL_PREFIX):].split("-", 1)[-1]
            partial = Path(root) / name
            final = Path(root) / final_name
            rel = final.relative_to(out_dir).as_posix()
            try:
                if rel in recorded and not final.exists() and output_size(partial) == recorded[rel]:
                    os.replace(partial, final)
            except OSError:
                continue  # left for _remove_partials; the record then fails its size check and is redone


def output_size(path: Path) -> int | None:
    """Bytes of an output: a file's size, a folder's (snapshots, clips) total over its files; None when missing."""
    try:
        if path.is_dir():
            return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


def _publish(partial: Path, final: Path) -> None:
    """Rename an output into place; a folder replaces the older folder of the same name."""
    if partial.is_dir() and final.is_dir() and not final.is_symlink():
        shutil.rmtree(final)
    os.replace(partial, final)


def partial_run_id(name: str) -> str:
    """The run id in a partial file's name ``.partial-<run id>-<final name>``."""
    return name[len(PARTIAL_PREFIX):].split("-", 1)[0]


def _input_identity_or_none(path: Path) -> dict[str, int] | None:
    try:
        return input_identity(path)
    except OSError:
        return None


def _is_current(record: Mapping[str, Any] | None, item: BatchInput, fingerprint: str, out_dir: Path) -> bool:
    """True when ``record`` says ``item`` is done with these settings and its outputs are intact."""
    if not record or record.get("status") != DONE or record.get("fingerprint") != fingerprint:
        return False
    try:
        if record.get("input_identity") != input_identity(item.source):
            return False
    except OSError:
        return False
    for rel, size in (record.get("output_sizes") or {}).items():
        if output_size(out_dir / rel) != size:
            return False
    return True


def make_engine(engine: str, workers: int | None, cores_per_worker: int | None, address: str | None) -> BatchEngine:
    """The engine named ``local`` or ``ray`` (Ray: not yet connected)."""
    if engine == "local":
        from vidtrack.batch.local import LocalEngine, default_workers

        return LocalEngine(workers or default_workers(), cores_per_worker)
    if engine == "ray":
        from vidtrack.batch.ray_engine import RayEngine

        return RayEngine(address, workers=workers, cores_per_worker=cores_per_worker)
    raise OptionError(f"engine {engine!r} is unknown", "use 'local' or 'ray'")


def run_batch(
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    options: Mapping[str, Any] | None = None,
    engine: str = "local",
    *,
    workers: int | None = None,
    cores_per_worker: int | None = None,
    address: str | None = None,
    video: bool = True,
    heatmap: bool = False,
    snapshots: bool = False,
    clips: bool = False,
    overwrite: bool = False,
    progress: BatchProgress | None = None,
) -> list[dict[str, Any]]:
    """Process many video files into OUT_DIR; resumable, one report row per input.

    Args:
        inputs: video files, folders (searched recursively) and glob patterns.
        out_dir: where outputs go, mirroring each input's relative path (created).
        options: ``vidtrack run`` options by name (``conf``, ``classes``, ``max_age``,
            ``line``, ``zone``...), without output paths; ``config`` names a YAML/TOML file of
            options, which the others override (its output paths are ignored).
        engine: ``"local"`` (this machine) or ``"ray"`` (a Ray cluster).
        workers: local worker processes (default :func:`vidtrack.batch.local.default_workers`),
            or Ray actors (default: the cluster's CPUs / ``cores_per_worker``).
        cores_per_worker: cores each worker is pinned to / Ray CPUs per actor.
        address: Ray address (``auto``, ``HOST:PORT``, ``ray://HOST:10001``, ``local``);
            None: ``RAY_ADDRESS`` or a new local Ray instance.
        video: write the annotated MP4 of each file.
        heatmap: write each file's heatmap, ``<rel>.heatmap.png`` (``--heatmap`` of ``vidtrack run``).
        snapshots: write each file's snapshots into the folder ``<rel>.snapshots/`` (``--snapshots``
            of ``vidtrack run``; ``vidtrack serve --review OUT_DIR`` shows them).
        clips: write each file's event clips into the folder ``<rel>.clips/`` (``--clips``; the
            ``pre``, ``post`` and ``clips_clean`` options apply).
        overwrite: redo every file, done or not.
        progress: receives progress events (None: silent).

    Returns:
        The report rows, in input order (see :mod:`vidtrack.batch.report`).

    Raises:
        VidtrackError: bad input (no videos, OUT_DIR inside an input, bad option, missing
            model, unreachable Ray cluster...): raised before anything is written; or a
            model that fails to load in the workers (the batch stops); a call from inside a
            spawned process (a script without ``if __name__ == "__main__":``).
        KeyboardInterrupt: Ctrl-C/SIGTERM; finished files are kept, the report written.
    """
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # A spawned worker still importing the parent's script (the flag multiprocessing's own
        # bootstrapping check reads): a script without a main guard would start a batch in each.
        raise OptionError(
            "run_batch was called in a batch worker process (the script re-ran on import)",
            "put the call under `if __name__ == \"__main__\":` in your script",
        )
    check_option(workers is None or workers >= 1, "--workers", workers, "use 1 or more, or leave it out (one per core)")
    check_option(
        cores_per_worker is None or cores_per_worker >= 1, "--cores-per-worker", cores_per_worker,
        "use 1 or more, or leave it out (cores / workers)",
    )
    progress = progress or _NoProgress()
    kinds = output_kinds(video, options, heatmap, snapshots, clips)
    clean, fingerprint = check_options(options, kinds)
    items, folders = discover(inputs)
    out = check_out_dir(Path(out_dir), items, folders)
    _check_model(clean)
    runner = make_engine(engine, workers, cores_per_worker, address)
    runner.connect([str(item.source) for item in items])

    out.mkdir(parents=True, exist_ok=True)
    run_id = f"{os.getpid()}{uuid.uuid4().hex[:6]}"
    lock = OutDirLock(out)
    lock.acquire(run_id)
    manifest: Manifest | None = None
    try:
        live = live_run_ids(out)
        manifest = Manifest(out)
        _publish_recorded_partials(out, manifest, live)  # a kill between a file's record and its renames
        _remove_partials(out, live)  # never another running batch's files
        manifest.compact()
        return _Batch(items, out, clean, fingerprint, kinds, manifest, progress, overwrite, run_id).run(runner)
    finally:
        if manifest is not None:
            manifest.close()
        runner.close()
        lock.release()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class _Batch:
    """One batch run's state: the rows, the jobs in flight and how results are committed."""

    def __init__(
        self,
        items: list[BatchInput],
        out: Path,
        options: dict[str, Any],
        fingerprint: str,
        kinds: list[str],
        manifest: Manifest,
        progress: BatchProgress,
        overwrite: bool,
        run_id: str | None = None,
    ) -> None:
        self.items = {str(item.rel): item for item in items}
        self.out = out
        self.options = options
        self.fingerprint = fingerprint
        self.kinds = kinds
        self.manifest = manifest
        self.progress = progress
        self.overwrite = overwrite
        self.rows: dict[str, dict[str, Any]] = {}
        self.run_id = run_id or f"{os.getpid()}{uuid.uuid4().hex[:6]}"
        self.fatal: str | None = None
        #: Each input's size and mtime taken before it is processed (checked again after).
        self.identities: dict[str, dict[str, int] | None] = {}

    def run(self, runner: BatchEngine) -> list[dict[str, Any]]:
        jobs: list[FileJob] = []
        for rel, item in self.items.items():
            record = self.manifest.get(rel)
            if not self.overwrite and _is_current(record, item, self.fingerprint, self.out):
                assert record is not None
                self.rows[rel] = {**record.get("row", {}), "status": "skipped"}
                continue
            outputs = {kind: str(item.partial_path(self.out, kind, self.run_id)) for kind in self.kinds}
            self.identities[rel] = _input_identity_or_none(item.source)
            jobs.append(FileJob(source=str(item.source), rel=rel, options=self.options, outputs=outputs))
        if runner.parallel:  # biggest files first: the last ones to finish are short, few workers idle
            jobs.sort(key=lambda job: -_size(job.source))
        self.progress.start(len(self.items), len(self.items) - len(jobs), runner.describe())
        try:
            if jobs:
                runner.run(jobs, self.commit, self.progress.frames)
        finally:
            for job in jobs:  # whatever was in flight when the batch stopped
                remove_quietly(job.outputs.values())
            rows = [self.rows.get(rel) or make_row(item.source, rel, "not run") for rel, item in self.items.items()]
            write_report(self.out, rows)
        if self.fatal:
            raise ModelError(self.fatal)
        return rows

    def commit(self, job: FileJob, result: FileResult) -> bool:
        """Record and publish one result; returns False when the batch must stop."""
        item = self.items[job.rel]
        if result.status == INTERRUPTED:
            remove_quietly(job.outputs.values())
            self.rows[job.rel] = make_row(item.source, job.rel, INTERRUPTED, worker=result.worker)
            return False
        finals = {kind: item.output_path(self.out, kind) for kind in self.kinds}
        before = self.identities.get(job.rel)
        if result.status == DONE and (before is None or _input_identity_or_none(item.source) != before):
            # replaced or rewritten while it was read: these outputs may mix two recordings
            result = FileResult(rel=job.rel, status=FAILED, error=CHANGED_ERROR, summary=result.summary,
                                wall_s=result.wall_s, worker=result.worker)
        if result.status == DONE:
            if result.files is not None:  # the worker ran elsewhere: its files came back as bytes
                for kind, data in result.files.items():
                    target = Path(job.outputs[kind])
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if isinstance(data, dict):  # a folder output: its files by name
                        target.mkdir(exist_ok=True)
                        for name, content in data.items():
                            (target / Path(name).name).write_bytes(content)
                    else:
                        target.write_bytes(data)
            produced = {
                kind: Path(job.outputs[kind]) for kind in self.kinds
                if (Path(job.outputs[kind]).is_dir() if kind in FOLDER_OUTPUTS else Path(job.outputs[kind]).is_file())
            }
            published = {kind: finals[kind].relative_to(self.out).as_posix() for kind in produced}
            row = make_row(
                item.source, job.rel, DONE, summary=result.summary, wall_s=result.wall_s,
                worker=result.worker, outputs=published.values(),
            )
            self._record(item, DONE, row, {published[k]: output_size(produced[k]) or 0 for k in produced})
            for kind, partial in produced.items():
                _publish(partial, finals[kind])
            remove_quietly(str(finals[kind]) for kind in self.kinds if kind not in produced)
        else:
            remove_quietly(job.outputs.values())
            remove_quietly(str(path) for path in finals.values())  # outputs of an earlier run are stale now
            row = make_row(
                item.source, job.rel, FAILED, error=result.error, summary=result.summary,
                wall_s=result.wall_s, worker=result.worker,
            )
            self._record(item, FAILED, row, {})
            if result.fatal:
                self.fatal = result.error
        self.rows[job.rel] = row
        self.progress.file_done(row)
        return not result.fatal

    def _record(self, item: BatchInput, status: str, row: dict[str, Any], sizes: dict[str, int]) -> None:
        identity = self.identities.get(str(item.rel))  # as it was before processing, never after
        self.manifest.append(
            {
                "rel": str(item.rel),
                "input": str(item.source),
                "status": status,
                "fingerprint": self.fingerprint,
                "input_identity": identity,
                "output_sizes": sizes,
                "row": row,
                "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            }
        )
