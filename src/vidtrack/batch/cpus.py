"""Give each batch worker its own share of the machine's cores.

A worker pins itself (``sched_setaffinity``) to a slot of ``k`` cores. OpenVINO, libx264
and FFmpeg size their thread pools from the process's affinity mask, so N workers of
k = cores / N cores run N x k threads in all rather than N x cores: no oversubscription,
with one knob and no per-library thread settings. Slots are claimed with ``flock`` on
files in the temp folder, so the workers of a batch (local processes or Ray actors on one
node) spread over different cores, and a slot frees itself when its worker dies.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: Open lock files of the slot this process holds (kept open for the process's life).
_held: list[int] = []


def machine_cores() -> int:
    """Cores this process may run on (the affinity mask, else ``os.cpu_count()``)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def claim_cpu_slot(cores: int, lock_dir: Path | None = None) -> set[int] | None:
    """Pin this process to a free slot of ``cores`` consecutive allowed cores.

    Args:
        cores: cores per worker (>= 1). A request for all cores (or more) pins nothing.
        lock_dir: where slot lock files live; default ``$TMPDIR/vidtrack-cpu-slots``.

    Returns:
        The cores pinned to, or None when nothing was pinned (no affinity support,
        ``cores`` covers the machine, or every slot is taken).
    """
    if not hasattr(os, "sched_setaffinity") or _held:
        return None
    import fcntl

    allowed = sorted(os.sched_getaffinity(0))
    cores = max(1, int(cores))
    if cores >= len(allowed):
        return None
    folder = lock_dir or Path(tempfile.gettempdir()) / "vidtrack-cpu-slots"
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(allowed) - cores + 1, cores):
        slot = allowed[start : start + cores]
        fd = os.open(folder / f"cores-{slot[0]}-{slot[-1]}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _held.append(fd)
        os.sched_setaffinity(0, slot)
        return set(slot)
    return None


def die_with_parent() -> None:
    """Linux: have the kernel kill this process when its parent dies (SIGKILL of a batch)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    except (OSError, AttributeError):  # not Linux: orphans finish their file and exit
        pass
