"""Every public function and class of the package has a docstring (the project's rule).

Public: a name that does not start with ``_``, at module level or inside a public class
(nested classes included); functions nested in functions are not looked at. A property's
setter is a function of its own and needs its own docstring. Read from the source with
:mod:`ast`, so nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "vidtrack"


def missing_docstrings(root: Path = PACKAGE) -> list[str]:
    """``path:line Qualified.name`` of each public function/class under ``root`` without a docstring."""
    missing: list[str] = []

    def walk(path: Path, node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if child.name.startswith("_"):
                continue
            if not ast.get_docstring(child):
                missing.append(f"{path.relative_to(root.parent)}:{child.lineno} {prefix}{child.name}")
            if isinstance(child, ast.ClassDef):
                walk(path, child, f"{prefix}{child.name}.")

    for path in sorted(root.rglob("*.py")):
        walk(path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), "")
    return missing


def test_package_is_found() -> None:
    assert (PACKAGE / "__init__.py").is_file(), PACKAGE


def test_every_public_function_and_class_has_a_docstring() -> None:
    missing = missing_docstrings()
    assert not missing, (
        f"{len(missing)} public function(s)/class(es) without a docstring (say what it returns or does, "
        "shapes, units, errors raised):\n" + "\n".join(missing)
    )
