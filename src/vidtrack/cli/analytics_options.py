"""Counting options shared by ``vidtrack run`` and ``vidtrack eval --line``.

Flags, help and defaults come from the option table (``vidtrack.options.OPTIONS``, which
reads the defaults from :class:`LineConfig` and :class:`LinkConfig`), never repeated here.
"""

from __future__ import annotations

from vidtrack.analytics.identity import LinkConfig
from vidtrack.analytics.lines import LineConfig
from vidtrack.cli.option_params import annotated
from vidtrack.optionspec import PANEL_ANALYTICS as PANEL

LINE_DEFAULTS = LineConfig()
LINK_DEFAULTS = LinkConfig()

LineOption = annotated("line")
CountModeOption = annotated("count_mode")
LineMarginOption = annotated("line_margin")
LineConfirmOption = annotated("line_confirm")
LinkGapOption = annotated("link_gap")
LinkDistanceOption = annotated("link_distance")
AnchorOption = annotated("anchor")

__all__ = [
    "PANEL", "LINE_DEFAULTS", "LINK_DEFAULTS", "AnchorOption", "CountModeOption", "LineConfirmOption", "LineMarginOption",
    "LineOption", "LinkDistanceOption", "LinkGapOption",
]
