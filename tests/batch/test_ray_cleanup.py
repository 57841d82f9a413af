"""Ray leaves nothing behind (issue 23, item 12): killed actors' temporary folders, a killed driver's Ray."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temporary_folders_of_killed_actors_are_removed(tmp_path: Path) -> None:
    from vidtrack.batch.ray_engine import TEMP_PREFIX, remove_dead_actor_folders

    killed = tmp_path / f"{TEMP_PREFIX}{dead_pid()}-abc123"
    killed.mkdir()
    (killed / ".partial-x.mp4").write_bytes(b"half a video")
    running = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-def456"
    running.mkdir()
    unrelated = tmp_path / "vidtrack-batch-notes"
    unrelated.mkdir()
    assert remove_dead_actor_folders(str(tmp_path)) == [str(killed)]
    assert running.is_dir() and unrelated.is_dir()


DRIVER = textwrap.dedent("""
    import sys, time
    from vidtrack.batch.ray_engine import RayEngine
    engine = RayEngine("local", workers=1, cores_per_worker=1)
    engine.connect([sys.argv[1]])
    print("connected", flush=True)
    time.sleep(600)
""")


def test_a_driver_killed_with_sigkill_leaves_no_ray_process(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from vidtrack.batch.ray_watchdog import descendants

    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT / "src"), RAY_ADDRESS="")
    env.pop("RAY_ADDRESS")
    driver = subprocess.Popen([sys.executable, str(script), str(script)], stdout=subprocess.PIPE, env=env,
                              cwd=tmp_path)
    try:
        assert driver.stdout is not None
        assert driver.stdout.readline().strip() == b"connected"
        time.sleep(3)  # the raylet's agents are up
        started = descendants(driver.pid)
        assert len(started) >= 4, started  # watchdog, GCS, raylet, agents...
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            alive = [pid for pid, start in started.items() if _start_time(pid) == start]
            if not alive:
                break
            time.sleep(0.5)
        assert not alive, [Path(f"/proc/{pid}/cmdline").read_bytes()[:80] for pid in alive if Path(f"/proc/{pid}").exists()]
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(10)


def _start_time(pid: int) -> int | None:
    from vidtrack.batch.ray_watchdog import _stat

    info = _stat(pid)
    return None if info is None else info[1]
