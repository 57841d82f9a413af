"""The import graph's figures: circles, upward imports, getattr/hasattr (issue 18's before/after).

Reads every import of ``src/vidtrack`` (function-level and TYPE_CHECKING ones included, as
grimp does) and the layer list of ``[tool.importlinter]`` in pyproject.toml.

    PYTHONPATH=src python benchmarks/architecture.py
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def layer_of(module: str, layers: list[list[str]]) -> int | None:
    """Index of the layer (0 = top) that holds ``module``; None for the package root."""
    tail = module.split(".", 1)[1] if "." in module else ""
    for i, names in enumerate(layers):
        for name in names:
            if tail == name or tail.startswith(name + "."):
                return i
    return None


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    advanced = True
                    break
                if child in on:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def read_layers() -> list[list[str]]:
    """The layers of the first contract in pyproject.toml, top first, each a list of module names."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    return [[n.strip() for n in re.split(r"[|:]", line)] for line in config["layers"]]


def upward_imports(graph: grimp.ImportGraph, layers: list[list[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where a module imports one of a higher layer."""
    upward = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            a, b = layer_of(importer, layers), layer_of(imported, layers)
            if a is not None and b is not None and b < a:
                upward.append((importer, imported))
    return upward


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    graph = grimp.build_graph("vidtrack", cache_dir=None)
    found = circles(graph)
    print(f"modules: {len(graph.modules)}")
    print(f"import circles: {len(found)} (sizes {[len(c) for c in found]})")
    for c in found:
        print("  circle:", " ".join(m.removeprefix("vidtrack.") for m in c))
    upward = upward_imports(graph, read_layers())
    print(f"upward imports (against the layers in pyproject.toml): {len(upward)}")
    for importer, imported in upward:
        print(f"  {importer.removeprefix('vidtrack.')} -> {imported.removeprefix('vidtrack.')}")
    text = {p: p.read_text() for p in (ROOT / "src").rglob("*.py")}
    for name in ("getattr", "hasattr"):
        calls = sum(len(re.findall(rf"\b{name}\(", t)) for t in text.values())
        print(f"{name}( calls: {calls}")


if __name__ == "__main__":
    main()
