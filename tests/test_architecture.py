"""The layer contract of ../shared/STYLE.md, read from the code's own imports (lazy ones included).

``cli/web -> runner/batch -> pipeline -> stages -> types``: the layers are listed in
pyproject.toml's ``[tool.importlinter]`` (also run by ``lint-imports`` in .ci/run).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _figures():
    spec = importlib.util.spec_from_file_location("architecture", ROOT / "benchmarks" / "architecture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_import_linter_contracts_are_kept() -> None:
    """``lint-imports`` itself, in a child process (it reconfigures logging, which would silence vidtrack's)."""
    pytest.importorskip("importlinter", reason="pip install -e '.[dev]' (import-linter)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_no_import_circle_and_no_upward_import() -> None:
    grimp = pytest.importorskip("grimp", reason="pip install -e '.[dev]' (import-linter brings grimp)")
    figures = _figures()
    graph = grimp.build_graph("vidtrack", cache_dir=None)
    assert figures.circles(graph) == []
    assert figures.upward_imports(graph, figures.read_layers()) == []
