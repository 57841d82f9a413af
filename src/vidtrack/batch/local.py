"""Run a batch's files on this machine: in this process, or in N worker processes.

``workers=1`` runs files here, one after another (Ctrl-C stops the current file cleanly).
``workers=N`` starts N processes (spawned, so no inherited threads or locks); each pins
itself to its share of the cores (:mod:`vidtrack.batch.cpus`), loads the model on its
first file and keeps it. At most two files per worker are queued, so a long archive is
not all submitted at once. A worker that dies (killed, out of memory, a crashing decoder)
costs only its current files, which are retried once in a fresh pool.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable

from vidtrack.batch.job import FAILED, INTERRUPTED, FileJob, FileResult, Worker

#: Attempts per file when worker processes die under it.
MAX_ATTEMPTS = 2

# -- inside a worker process ----------------------------------------------------------------

_worker: Worker | None = None
_progress: Any = None


def _init_worker(cores: int, progress: Any) -> None:
    """Worker process start: ignore Ctrl-C (the driver stops us), pin cores, die with the driver."""
    global _worker, _progress
    from vidtrack.batch.cpus import claim_cpu_slot, die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()
    claim_cpu_slot(cores)
    _worker = Worker()
    _progress = progress


def _run_in_worker(job: FileJob) -> FileResult:
    assert _worker is not None, "worker process not initialised"
    return _worker.run(job, on_frames=_progress.put if _progress is not None else None)


# -- in the driver ---------------------------------------------------------------------------


class LocalEngine:
    """Runs jobs on this machine.

    Args:
        workers: processes (1: this process).
        cores_per_worker: cores each worker process is pinned to (default: cores / workers).
    """

    name = "local"

    def __init__(self, workers: int = 1, cores_per_worker: int | None = None) -> None:
        from vidtrack.batch.cpus import machine_cores

        self.workers = max(1, int(workers))
        self.cores_per_worker = cores_per_worker or max(1, machine_cores() // self.workers)
        self.parallel = self.workers > 1  # files run side by side (the driver queues big ones first)

    def describe(self) -> str:
        """One line for the log: how files are run."""
        if self.workers == 1:
            return "1 worker (this process)"
        return f"{self.workers} worker processes, {self.cores_per_worker} core(s) each"

    def connect(self, inputs: list[str]) -> None:
        """Nothing to reach on this machine (worker processes start in :meth:`run`)."""

    def close(self) -> None:
        """Nothing held between runs: :meth:`run` stops its worker processes itself."""

    def run(
        self,
        jobs: Iterable[FileJob],
        on_result: Callable[[FileJob, FileResult], bool],
        on_frames: Callable[[int], None],
    ) -> None:
        """Run every job; ``on_result`` is called in this thread and returns False to stop."""
        if self.workers == 1:
            self._run_here(jobs, on_result, on_frames)
        else:
            self._run_pool(list(jobs), on_result, on_frames)

    def _run_here(self, jobs: Iterable[FileJob], on_result: Callable[..., bool], on_frames: Callable[[int], None]) -> None:
        worker = Worker()
        for job in jobs:
            result = worker.run(job, on_frames=on_frames, install_signals=True)
            if not on_result(job, result) or result.status == INTERRUPTED:
                if result.status == INTERRUPTED:
                    raise KeyboardInterrupt
                return

    def _run_pool(self, jobs: list[FileJob], on_result: Callable[..., bool], on_frames: Callable[[int], None]) -> None:
        context = multiprocessing.get_context("spawn")
        progress = context.Queue()
        stop_drain = threading.Event()
        drain = threading.Thread(target=_drain, args=(progress, on_frames, stop_drain), daemon=True)
        drain.start()
        todo = list(reversed(jobs))  # pop() from the end keeps the input order
        try:
            while todo:
                todo = self._one_pool(context, progress, todo, on_result)
        finally:
            stop_drain.set()
            drain.join(timeout=2)

    def _one_pool(self, context: Any, progress: Any, todo: list[FileJob], on_result: Callable[..., bool]) -> list[FileJob]:
        """Run jobs until done or the pool breaks; returns the jobs still to run."""
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(todo)),
            mp_context=context,
            initializer=_init_worker,
            initargs=(self.cores_per_worker, progress),
        )
        running: dict[Future, FileJob] = {}
        finished = False
        try:
            while todo or running:
                while todo and len(running) < 2 * self.workers:
                    job = todo.pop()
                    running[pool.submit(_run_in_worker, job)] = job
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        retry = _retry_or_fail(job, on_result)
                        lost = [retry] if retry else []
                        for other in running.values():
                            again = _retry_or_fail(other, on_result)
                            if again:
                                lost.append(again)
                        running.clear()
                        return todo + lost[::-1]
                    if not on_result(job, result):
                        return []
            finished = True
            return []
        finally:
            _shutdown(pool, kill=not finished)


def _retry_or_fail(job: FileJob, on_result: Callable[..., bool]) -> FileJob | None:
    """A job whose worker died: a new attempt, or a failed result after :data:`MAX_ATTEMPTS`."""
    from dataclasses import replace

    if job.attempt < MAX_ATTEMPTS:
        return replace(job, attempt=job.attempt + 1)
    on_result(job, FileResult(rel=job.rel, status=FAILED, error="the worker process died (crash or out of memory) twice on this file"))
    return None


def _drain(progress: Any, on_frames: Callable[[int], None], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            on_frames(int(progress.get(timeout=0.2)))
        except queue.Empty:
            continue
        except (EOFError, OSError, ValueError):
            return


def _shutdown(pool: ProcessPoolExecutor, kill: bool) -> None:
    """Stop the pool; with ``kill``, at once: queued jobs cancelled, running workers killed
    (their partial files are removed by the driver and redone by the next batch)."""
    if not kill:
        pool.shutdown(wait=True)
        return
    processes = list(getattr(pool, "_processes", {}).values())  # no public way before Python 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            try:
                os.kill(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    for process in processes:
        process.join(timeout=5)


#: Cores per worker process when --workers is not given. One pipeline already keeps two
#: cores busy (decode, two inference requests and encoding overlap in threads): on 2 cores,
#: benchmarks/batch_throughput.py measured serial 14.5 frames/s against 11.1 for two workers
#: pinned to one core each and 9.7 for two unpinned workers (load average 2.5-8 from other
#: users; an earlier run at load 10: 5.9, 5.1 and 8.0). So the default is one worker per two cores.
DEFAULT_CORES_PER_WORKER = 2


def default_workers() -> int:
    """Worker processes for ``--workers`` unset: the machine's cores / :data:`DEFAULT_CORES_PER_WORKER`
    (at least 1): 1 on 2 cores, 8 on 16."""
    from vidtrack.batch.cpus import machine_cores

    return max(1, machine_cores() // DEFAULT_CORES_PER_WORKER)
