"""Counting options shared by ``vidtrack run`` and ``vidtrack eval --line``.

Defaults come from the analytics config dataclasses (:class:`LineConfig`,
:class:`LinkConfig`), never repeated here.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from vidtrack.analytics.identity import LinkConfig
from vidtrack.analytics.lines import LineConfig

PANEL = "Advanced: lines and zones"
LINE_DEFAULTS = LineConfig()
LINK_DEFAULTS = LinkConfig()

LineOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--line",
        help="Counting line x1,y1,x2,y2[:name] in pixels, or fractions of the frame when every value is in 0-1 "
        "(repeatable). The arrow from (x1,y1) to (x2,y2) sets the sides: 'in' is crossing from its left to its "
        "right as seen on screen (for a line drawn left to right: moving down). Counted at the box's anchor.",
        show_default=False,
    ),
]
CountModeOption = Annotated[
    str,
    typer.Option(
        "--count-mode",
        help="once-per-object: each object counts at most once per direction (an id switch continues the "
        "object, see --link-gap); every-crossing: every confirmed crossing counts.",
        rich_help_panel=PANEL,
    ),
]
LineMarginOption = Annotated[
    float,
    typer.Option(
        "--line-margin",
        help="Dead band around a line, in box heights: an anchor this close is 'on' the line and changes nothing. "
        "Raise: jitter never counts; lower: short steps count sooner.",
        rich_help_panel=PANEL,
    ),
]
LineConfirmOption = Annotated[
    int,
    typer.Option(
        "--line-confirm",
        help="Observations in a row past the line before a crossing counts. Raise: flicker rejected more; "
        "lower: counts sooner.",
        rich_help_panel=PANEL,
    ),
]
LinkGapOption = Annotated[
    float,
    typer.Option(
        "--link-gap",
        help="Id-switch continuation: a track born within --link-distance of where a track of the same class "
        "was lost at most this many seconds before continues it (counts once). 0 switches it off. "
        "Raise: longer occlusions bridged; newcomers more often taken for someone who left.",
        rich_help_panel=PANEL,
    ),
]
LinkDistanceOption = Annotated[
    float,
    typer.Option(
        "--link-distance",
        help="Reach of id-switch continuation, in box heights from the lost track's last (or extrapolated) "
        "anchor. Raise: bigger jumps bridged; neighbours more often merged.",
        rich_help_panel=PANEL,
    ),
]
AnchorOption = Annotated[
    str,
    typer.Option(
        "--anchor",
        help="The box point that crosses lines and sits in zones: bottom-center (feet), center, top-center, "
        "bottom-left, bottom-right.",
        rich_help_panel=PANEL,
    ),
]
