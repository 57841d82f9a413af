"""Tracker options shared by ``vidtrack run`` and ``vidtrack eval``.

Each alias is a typer ``Annotated`` type; a command declares e.g.
``iou_threshold: IouThresholdOption = TRACKER_DEFAULTS.iou_threshold`` and passes the
values to :func:`tracker_config_from_options`, so both commands offer the same flags with
the same defaults and help (both taken from :class:`TrackerConfig`, never repeated here).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vidtrack.options import TRACKER_OPTIONS
from vidtrack.tracking.config import TrackerConfig, knob_help

PANEL = "Tracker"
TRACKER_DEFAULTS = TrackerConfig()


def _option(name: str, flag: str | None = None, help: str | None = None) -> Any:
    """A ``typer.Option`` for the tracker setting ``name``: flag from the name, help from TrackerConfig."""
    return typer.Option(flag or "--" + name.replace("_", "-"), help=help or knob_help(name), rich_help_panel=PANEL)


IouThresholdOption = Annotated[float, _option("iou_threshold")]
LowIouThresholdOption = Annotated[float, _option("low_iou_threshold")]
HighScoreRankOption = Annotated[float, _option("high_score_rank")]
MinScoreRankOption = Annotated[float, _option("min_score_rank")]
NewTrackScoreRankOption = Annotated[float, _option("new_track_score_rank")]
MinHitsOption = Annotated[int, _option("min_hits")]
MaxAgeOption = Annotated[float, _option("max_age")]
PositionGainOption = Annotated[float, _option("position_gain")]
VelocityGainOption = Annotated[float, _option("velocity_gain")]
ScoreMemoryOption = Annotated[int, _option("score_memory")]
IouBufferOption = Annotated[float, _option("iou_buffer")]
NewTrackGateOption = Annotated[float, _option("new_track_gate")]
CmcOption = Annotated[str, _option("cmc")]
#: ``--raw-boxes`` is the CLI's name for ``smooth_boxes=False``.
RawBoxesOption = Annotated[
    bool, _option("smooth_boxes", "--raw-boxes", "Report the detector's boxes instead of the tracks' filtered (steadier) boxes.")
]


#: The command parameters that hold tracker options (named as TrackerConfig's fields,
#: except ``raw_boxes``, the CLI's name for ``smooth_boxes=False``).
TRACKER_OPTION_NAMES = TRACKER_OPTIONS  # one list, in vidtrack.options


def tracker_config_from_options(values: dict[str, Any]) -> TrackerConfig:
    """Build (and validate: raises ``OptionError``) the tracker config from a command's
    parameters, e.g. ``tracker_config_from_options(locals())``; other keys are ignored."""
    fields = {name: values[name] for name in TRACKER_OPTION_NAMES if name in values and name != "raw_boxes"}
    return TrackerConfig(**fields, smooth_boxes=not values.get("raw_boxes", False))
