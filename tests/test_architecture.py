"""The layer contract of ../shared/STYLE.md, read from the code's own imports (lazy ones included).

``cli/web -> runner/batch -> pipeline -> stages -> types``: the layers are listed in
pyproject.toml's ``[tool.importlinter]`` (also run by ``lint-imports`` in .ci/run).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _figures():
    spec = importlib.util.spec_from_file_location("architecture", ROOT / "benchmarks" / "architecture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_import_linter_contracts_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("importlinter", reason="pip install -e '.[dev]' (import-linter)")
    from importlinter.cli import lint_imports

    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0, "run lint-imports to see the broken import"


def test_no_import_circle_and_no_upward_import() -> None:
    grimp = pytest.importorskip("grimp", reason="pip install -e '.[dev]' (import-linter brings grimp)")
    figures = _figures()
    graph = grimp.build_graph("vidtrack", cache_dir=None)
    assert figures.circles(graph) == []
    assert figures.upward_imports(graph, figures.read_layers()) == []
