"""One run option's declaration (:class:`Option`): the row type of the option table, and its help panels.

It sits at the bottom of the layers so that a stage can declare the option it needs where
it is written (an output sink declares its path option in its own file, ``sinks/open.py``
registers it), while :data:`vidtrack.options.OPTIONS`, the table every front end reads,
collects them. Nothing here imports the rest of vidtrack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: ``vidtrack run -h`` help panels. Everyday options have none (typer's "Options", shown
#: first); the rest are grouped, tuning knobs last under "Advanced: ..." (``-h`` leaves
#: those out, ``--help-all`` lists them).
PANEL_EVERYDAY = None
PANEL_OUTPUT = "Outputs and overlay"
PANEL_LIVE = "Live sources and viewing"
PANEL_REDACT = "Redaction"
PANEL_ANALYTICS = "Advanced: lines and zones"
PANEL_DETECT = "Advanced: detector"
PANEL_ADV_IO = "Advanced: outputs, live sources, redaction"
PANEL_TRACK = "Advanced: tracker"

#: What :func:`vidtrack.options.request_from_options` builds from an option: the part of the
#: run request it belongs to.
GROUPS = ("detector", "schedule", "tracker", "overlay", "output", "source", "view", "analytics")


@dataclass(frozen=True)
class Option:
    """One run option: everything a front end needs to offer it, written once.

    ``kind`` is the type of one value (``bool``, ``int``, ``float``, ``str`` or ``Path``); a
    ``repeatable`` option takes a list of them (``--line``, ``--zone``...). ``low``/``high``:
    the range of a number (inclusive; None: open). ``default``: the value when the option is
    not given (None: "not set", the config's own default applies). ``help``: one paragraph for
    ``vidtrack run --help``, ``/docs`` and the docstrings. ``flags``: the CLI spellings
    (``("--output", "-o")``; empty: ``--name-with-dashes``; a bool is a switch that is off
    by default); ``panel``: its ``-h`` panel; ``metavar``: what the help shows for its value;
    ``group``: the part of the run request it sets (:data:`GROUPS`).
    """

    kind: type
    group: str
    help: str
    default: Any = None
    repeatable: bool = False
    low: float | None = None
    high: float | None = None
    flags: tuple[str, ...] = ()
    panel: str | None = PANEL_EVERYDAY
    metavar: str | None = None

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"option group {self.group!r} is not one of {GROUPS}")

    def flag_names(self, name: str) -> tuple[str, ...]:
        """The CLI spellings of option ``name`` (``max_age`` -> ``("--max-age",)`` unless ``flags`` says otherwise)."""
        return self.flags or ("--" + name.replace("_", "-"),)
