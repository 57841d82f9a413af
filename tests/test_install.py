"""A default install (`pip install .` in a fresh venv, nothing else) runs the main job.

Installing torch, Ultralytics and OpenVINO takes minutes, so ``.ci/run`` builds that venv
once, before the test suite, and points ``VIDTRACK_FRESH_VENV`` at it; this test checks what
it holds and runs ``vidtrack run`` from it. In CI a missing venv fails the test; elsewhere
it skips.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, in_ci, shared_path, video_path


def _fresh_venv() -> Path:
    venv = Path(os.environ.get("VIDTRACK_FRESH_VENV") or PROJECT_ROOT / ".fresh-venv")
    if not (venv / "bin" / "vidtrack").exists():
        message = f"no fresh venv at {venv} (.ci/run builds it with: python3 -m venv .fresh-venv && .fresh-venv/bin/python -m pip install .)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return venv


def _clean_env() -> dict[str, str]:
    """The environment a new user has: no PYTHONPATH to this checkout, no model variable."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIDTRACK_MODEL", "VIRTUAL_ENV")}


@pytest.mark.realdata
def test_pip_install_dot_alone_runs_the_main_job(tmp_path: Path) -> None:
    venv = _fresh_venv()
    cfg = (venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg  # a real fresh venv, not the dev one
    python = str(venv / "bin" / "python")
    probe = (
        "import importlib.metadata as m, importlib.util as u, vidtrack\n"
        "print(vidtrack.__file__)\n"
        "print([r for r in m.requires('vidtrack') if 'extra ==' not in r])\n"
        "print(all(u.find_spec(p) for p in ('ultralytics', 'openvino', 'torch', 'yaml')))\n"
    )
    lines = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True, env=_clean_env(),
                           cwd=tmp_path).stdout.splitlines()
    assert str(venv) in lines[0]  # the installed copy, not this checkout's src/
    base = lines[1]
    assert "ultralytics" in base and "openvino" in base and "onnxruntime" not in base
    assert lines[2] == "True"

    video = video_path("people_street_1080p.mp4")
    model = shared_path("assets", "models", "yolo11n_int8_openvino_model")
    result = subprocess.run(
        [str(venv / "bin" / "vidtrack"), "run", str(video), "--model", str(model), "-o", "out.mp4", "--quiet"],
        capture_output=True, text=True, env=_clean_env(), cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    import av

    with av.open(str(tmp_path / "out.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 302
