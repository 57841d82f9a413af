"""Command-line parameters built from the option table (:data:`vidtrack.options.OPTIONS`).

``vidtrack run`` has no hand-written option parameters: :func:`run_parameters` makes one
``inspect.Parameter`` per table row (type, default, help, flags, panel, metavar all from the
row), and ``cli/run_cmd.py`` gives them to the command as its signature, which is what typer
reads. Commands that offer a few of the same options (``vidtrack eval``, ``vidtrack bench``)
take them one by one with :func:`cli_option`/:func:`annotated`, so their flags read the same.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Optional

import typer

from vidtrack.options import OPTIONS


def value_type(name: str) -> Any:
    """The Python type typer parses option ``name`` into: ``float``, ``Optional[Path]``, ``Optional[list[str]]``..."""
    option = OPTIONS[name]
    if option.repeatable:
        return Optional[list[option.kind]]  # type: ignore[name-defined]
    if option.default is None:
        return Optional[option.kind]
    return option.kind


def cli_option(name: str) -> Any:
    """The ``typer.Option`` of run option ``name``: its flags, help, panel and metavar from the table."""
    option = OPTIONS[name]
    return typer.Option(
        *option.flag_names(name),
        help=option.help,
        rich_help_panel=option.panel,
        show_default=option.default is not None,
        metavar=option.metavar,
    )


def annotated(name: str) -> Any:
    """``Annotated[type, typer.Option(...)]`` of run option ``name``, for a hand-written command's signature."""
    return Annotated[value_type(name), cli_option(name)]


def parameter(name: str) -> inspect.Parameter:
    """Run option ``name`` as a keyword parameter whose default is the table's."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=OPTIONS[name].default, annotation=annotated(name))


def run_parameters() -> list[inspect.Parameter]:
    """Every run option as a command parameter, in the table's order (``vidtrack run --help``'s)."""
    return [parameter(name) for name in OPTIONS]


def with_options(command: Any, options: list[inspect.Parameter]) -> Any:
    """Give ``command`` (``def f(ctx, sources, ..., **options)``) the parameters ``options`` in place of
    ``**options``, before its own keyword parameters (which stay last in ``--help``). Returns ``command``."""
    own = list(inspect.signature(command, eval_str=True).parameters.values())
    positional = [p for p in own if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    keyword = [p.replace(kind=p.KEYWORD_ONLY) for p in own if p not in positional and p.kind is not p.VAR_KEYWORD]
    params = [p.replace(kind=p.POSITIONAL_OR_KEYWORD) for p in positional] + options + keyword
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command
