"""Run a batch's files on a Ray cluster (``pip install 'vidtrack[ray]'``).

One actor per worker slot (``cores_per_worker`` CPUs each, and a fraction of a GPU when
the cluster has GPUs and the model can use one); an actor loads the model on its first file
and keeps it. Each file is one actor task: the actor reads the input from shared storage,
writes the outputs to its node's temp folder and returns them as bytes, and the driver
writes them, records them in the manifest and renames them into OUT_DIR, so only the
driver ever writes OUT_DIR. At most two files per actor are in flight; a task whose actor
dies (node lost, out of memory) is retried by Ray on a restarted actor.

Before any file is written the driver checks that the cluster answers, that every node has
vidtrack (the same version) and that the nodes can read the inputs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from vidtrack.batch.inputs import BatchInputError
from vidtrack.batch.job import DONE, FAILED, FileJob, FileResult
from vidtrack.errors import OptionError

#: Files queued per actor (one running, one waiting): bounds the driver's in-flight work.
IN_FLIGHT_PER_ACTOR = 2
#: Ray restarts of a lost actor, and retries of the file it was running.
MAX_RETRIES = 2
#: Seconds to wait for the cluster to answer the per-node checks.
PROBE_TIMEOUT_S = 120.0
#: CPUs per actor when --cores-per-worker is not given: as locally, one pipeline keeps two
#: cores busy (see vidtrack.batch.local.DEFAULT_CORES_PER_WORKER).
DEFAULT_CPUS_PER_ACTOR = 2

_HOST_PORT = re.compile(r"^(?:ray://)?(?P<host>[\w.\-]+|\[[0-9a-fA-F:]+\]):(?P<port>\d+)$")


def _probe_node(paths: list[str]) -> tuple[str, str | None, list[str]]:
    """Runs on a node: (hostname, vidtrack version or None, paths it cannot read)."""
    import importlib
    import os as _os
    import socket as _socket

    try:
        version: str | None = importlib.import_module("vidtrack").__version__
    except ImportError:
        version = None
    return _socket.gethostname(), version, [p for p in paths if not _os.access(p, _os.R_OK)]


# Pickled by value (not by reference to this module), so it runs on a node without vidtrack.
_probe_node.__module__ = "__main__"


#: Prefix of an actor's temporary folders: ``vidtrack-batch-<actor pid>-<random>``.
TEMP_PREFIX = "vidtrack-batch-"


def remove_dead_actor_folders(root: str | None = None) -> list[str]:
    """Remove temporary folders of actors that no longer run on this node (killed mid-file).

    A folder's name holds its actor's pid; the folder is removed when no process has that
    pid (or it is a process of another user). Returns the folders removed.
    """
    root = root or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(root)
    except OSError:
        return removed
    for name in names:
        pid_text = name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not name.startswith(TEMP_PREFIX) or not pid_text.isdigit():
            continue
        try:
            os.kill(int(pid_text), 0)
            continue  # its actor still runs
        except ProcessLookupError:
            pass
        except OSError:
            continue
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        removed.append(os.path.join(root, name))
    return removed


class _BatchActor:
    """A Ray actor holding one :class:`~vidtrack.batch.job.Worker` (and so one loaded model).

    A (re)started actor first removes the temporary folders of actors killed on its node.
    """

    def __init__(self, cores: int) -> None:
        from vidtrack.batch.cpus import claim_cpu_slot
        from vidtrack.batch.job import Worker

        remove_dead_actor_folders()
        claim_cpu_slot(cores)
        self.worker = Worker()

    def run(self, job: FileJob) -> FileResult:
        """Process ``job`` in a local temp folder and return its outputs as bytes."""
        remove_dead_actor_folders()  # a retried file's earlier try left its folder when its actor was killed
        folder = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-")
        try:
            local = {kind: os.path.join(folder, Path(path).name) for kind, path in job.outputs.items()}
            result = self.worker.run(replace(job, outputs=local))
            if result.status == DONE:
                result.files = {kind: _read_output(p) for kind, p in local.items() if os.path.exists(p)}
            return result
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class RayEngine:
    """Runs jobs as Ray actor tasks.

    Args:
        address: ``auto``, ``HOST:PORT``, ``ray://HOST:PORT``, ``local`` (a new local
            instance), or None (``$RAY_ADDRESS``, else a new local instance).
        workers: actors (default: the cluster's CPUs / ``cores_per_worker``).
        cores_per_worker: CPUs per actor (default :data:`DEFAULT_CPUS_PER_ACTOR`).
    """

    name = "ray"
    parallel = True

    def __init__(self, address: str | None, workers: int | None = None, cores_per_worker: int | None = None) -> None:
        self.address = address
        self.workers = workers
        self.cores = max(1, int(cores_per_worker or DEFAULT_CPUS_PER_ACTOR))
        self._ray: Any = None
        self._watchdog: Any = None
        self._nodes: list[str] = []
        self._actors: list[Any] = []

    def describe(self) -> str:
        """One line for the log."""
        where = self.address or os.environ.get("RAY_ADDRESS") or "a local Ray instance"
        return f"Ray at {where}: {len(self._nodes)} node(s), {self.cores} CPU(s) per actor"

    # -- connecting and checking ------------------------------------------------------------

    def connect(self, inputs: list[str]) -> None:
        """Connect and check the cluster before anything is written.

        Raises:
            OptionError: the ray package is missing here.
            BatchInputError: the cluster cannot be reached, a node lacks vidtrack (or has
                another version), or a node cannot read the inputs.
        """
        try:
            import ray
        except ImportError:
            raise OptionError("--ray needs the ray package", "pip install 'vidtrack[ray]'") from None
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        match = _HOST_PORT.match(address or "")
        if match:
            _check_reachable(address or "", match.group("host").strip("[]"), int(match.group("port")))
        kwargs: dict[str, Any] = {"logging_level": "ERROR", "log_to_driver": False}
        if address in (None, "local"):
            kwargs["include_dashboard"] = False
        if address in (None, "local"):  # Ray started here: cleaned up even if this process is killed
            from vidtrack.batch.ray_watchdog import start_watchdog

            self._watchdog = start_watchdog()
        try:
            with _quiet_stderr():  # Ray's C++ core logs connection retries straight to fd 2
                ray.init(address=address, **kwargs)
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError from Ray's own checks
            if self._watchdog is not None:  # whatever Ray started before failing goes too
                with contextlib.suppress(OSError):
                    self._watchdog.stdin.close()
                self._watchdog = None
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            fix = "start one with `ray start --head` and pass its address, e.g. --ray HOST:6379"
            if match or "auth" in str(exc).lower():  # the port answered: a refusal, not a missing cluster
                fix = (
                    "check that it is the head's GCS port and that Ray versions match; with token"
                    " authentication set RAY_AUTH_MODE=token and the cluster's RAY_AUTH_TOKEN here"
                )
            raise BatchInputError(
                f"cannot connect to the Ray cluster at {address or 'a new local instance'} ({first})", fix
            ) from None
        self._ray = ray
        with _quiet_stderr():
            self._check_nodes(inputs)

    def _check_nodes(self, inputs: list[str]) -> None:
        from vidtrack.version import __version__

        ray = self._ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]
        if not nodes:
            raise BatchInputError("the Ray cluster has no node with CPUs", "add worker nodes (ray start --address ...)")
        sample = sorted({inputs[0], inputs[-1], *inputs[: min(3, len(inputs))]})
        probe = ray.remote(num_cpus=0, max_retries=0)(_probe_node)
        refs = [
            probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(sample)
            for n in nodes
        ]
        try:
            answers = ray.get(refs, timeout=PROBE_TIMEOUT_S)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise BatchInputError(f"the Ray workers did not answer ({first})", "check the cluster with `ray status`") from None
        for host, version, unreadable in answers:
            if version is None:
                raise BatchInputError(
                    f"Ray node {host} has no vidtrack installed",
                    "pip install 'vidtrack[ray]' in the Python environment of every node, then restart Ray there",
                )
            if version != __version__:
                raise BatchInputError(
                    f"Ray node {host} has vidtrack {version}, this machine {__version__}",
                    "install the same vidtrack version on every node",
                )
            if unreadable:
                raise BatchInputError(
                    f"Ray node {host} cannot read {unreadable[0]}",
                    "put the inputs on storage every node mounts at the same path (NFS, SMB...)",
                )
        self._nodes = [host for host, _, _ in answers]

    # -- running -----------------------------------------------------------------------------

    def _gpu_share(self, jobs: list[FileJob], actors: int) -> float:
        """GPU fraction per actor: a fair share of the cluster's GPUs when the model can use one."""
        gpus = float(self._ray.cluster_resources().get("GPU", 0))
        if gpus <= 0 or not jobs:
            return 0.0
        options = jobs[0].options
        device = str(options.get("device") or "").lower()
        model = Path(str(options.get("model") or ""))
        openvino = model.is_dir() and any(model.glob("*.xml"))
        if device == "cpu" or device.startswith("intel") or openvino:
            return 0.0
        return min(1.0, int(gpus / actors * 100) / 100) or 0.01

    def run(
        self,
        jobs: Iterable[FileJob],
        on_result: Callable[[FileJob, FileResult], bool],
        on_frames: Callable[[int], None],
    ) -> None:
        """Run every job on the cluster; ``on_result`` (in this thread) returns False to stop."""
        ray = self._ray
        todo = list(jobs)
        cpus = float(ray.cluster_resources().get("CPU", 1))
        count = max(1, min(len(todo), self.workers or int(cpus // self.cores) or 1))
        actor_class = ray.remote(_BatchActor).options(
            num_cpus=self.cores,
            num_gpus=self._gpu_share(todo, count),
            max_restarts=MAX_RETRIES,
            max_task_retries=MAX_RETRIES,
        )
        self._actors = [actor_class.remote(self.cores) for _ in range(count)]
        load = {i: 0 for i in range(count)}
        pending: dict[Any, tuple[int, FileJob]] = {}
        todo.reverse()
        while todo or pending:
            while todo and min(load.values()) < IN_FLIGHT_PER_ACTOR:
                index = min(load, key=load.__getitem__)
                job = todo.pop()
                pending[self._actors[index].run.remote(job)] = (index, job)
                load[index] += 1
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                index, job = pending.pop(ref)
                load[index] -= 1
                try:
                    result = ray.get(ref)
                except Exception as exc:  # RayActorError after the retries: the node or process was lost
                    first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
                    result = FileResult(
                        rel=job.rel, status=FAILED,
                        error=f"Ray worker lost {MAX_RETRIES + 1} times on this file ({first})",
                    )
                if result.summary:
                    on_frames(int(result.summary.get("frames") or 0))
                if not on_result(job, result):
                    return

    def close(self) -> None:
        """Stop the actors and disconnect (a local instance started here is shut down)."""
        if self._ray is None:
            return
        for actor in self._actors:
            try:
                self._ray.kill(actor)
            except Exception:  # already dead
                pass
        self._actors = []
        self._ray.shutdown()
        self._ray = None
        if self._watchdog is not None:
            from vidtrack.batch.ray_watchdog import stop_watchdog

            stop_watchdog(self._watchdog)
            self._watchdog = None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for a while (C++ logging bypasses Python's)."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _check_reachable(address: str, host: str, port: int) -> None:
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
    except OSError as exc:
        raise BatchInputError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc})",
            "start it with `ray start --head --port PORT` there, or check the address and firewall",
        ) from None


def _read_output(path: str) -> "bytes | dict[str, bytes]":
    """An output's bytes; a folder output (snapshots, clips): its files' bytes by name."""
    if os.path.isdir(path):
        return {entry.name: entry.read_bytes() for entry in sorted(Path(path).iterdir()) if entry.is_file()}
    return Path(path).read_bytes()
