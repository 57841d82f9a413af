"""Cleans up a local Ray instance whose driver died without shutting it down (``kill -9``).

``vidtrack batch --ray`` without an address starts its own Ray: GCS, raylet, and the agents
and workers the raylet starts. Killed with SIGKILL, the driver never calls
``ray.shutdown()``; the raylet and GCS notice, but the agents they started stay, orphaned.

:func:`start_watchdog` starts this module as a small process (its own session, so Ctrl-C in
the terminal does not reach it) that notes, every second, every process descended from the
driver, and waits on a pipe from the driver. The driver writes ``done`` to it after a clean
shutdown; if the pipe closes without it (the driver died), the watchdog sends SIGTERM, then
SIGKILL, to each noted process still running (same pid *and* start time, so a reused pid is
never hit). Linux only (it reads ``/proc``); elsewhere it does nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

#: Seconds between two looks at the driver's descendants.
SCAN_EVERY_S = 1.0
#: Seconds the noted processes get between SIGTERM and SIGKILL.
TERM_GRACE_S = 3.0


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()  # after "pid (comm) ": state ppid ...
    return int(fields[1]), int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """Every process below ``root`` now: pid -> start time."""
    children: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None:
                children.setdefault(info[0], []).append(int(entry))
                starts[int(entry)] = info[1]
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found[child] = starts[child]
                todo.append(child)
    return found


def _kill(noted: dict[int, int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [pid for pid, start in noted.items() if (_stat(pid) or (0, -1))[1] == start]
        for pid in alive:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        if not alive:
            return
        time.sleep(TERM_GRACE_S if sig == signal.SIGTERM else 0)


def watch(driver: int, pipe: IO[bytes]) -> None:
    """Note ``driver``'s descendants until ``pipe`` ends; kill them unless it said ``done``."""
    noted: dict[int, int] = {}
    said: list[bytes] = []
    ended = threading.Event()

    def read() -> None:
        said.append(pipe.read())
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    while not ended.is_set():
        found = descendants(driver)
        found.pop(os.getpid(), None)
        noted.update(found)
        ended.wait(SCAN_EVERY_S)
    if said and said[0].startswith(b"done"):
        return
    _kill(noted)


def start_watchdog() -> subprocess.Popen | None:
    """Start the watchdog for this process (None where /proc is missing); see :func:`stop_watchdog`."""
    if not os.path.isdir("/proc/self"):
        return None
    return subprocess.Popen(
        [sys.executable, "-m", "vidtrack.batch.ray_watchdog", str(os.getpid())],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True,
    )


def stop_watchdog(process: subprocess.Popen | None) -> None:
    """Tell the watchdog the driver shut Ray down itself, and let it exit."""
    if process is None:
        return
    try:
        assert process.stdin is not None
        process.stdin.write(b"done")
        process.stdin.close()
        process.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired, AssertionError):
        process.kill()


if __name__ == "__main__":
    watch(int(sys.argv[1]), sys.stdin.buffer)
