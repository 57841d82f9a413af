"""Tracker options shared by ``vidtrack run`` and ``vidtrack eval``.

Each alias is a typer ``Annotated`` type built from the option table (``vidtrack.options.OPTIONS``,
which reads each knob's default and help from :class:`TrackerConfig`); a command declares e.g.
``iou_threshold: IouThresholdOption = TRACKER_DEFAULTS.iou_threshold`` and passes the
values to :func:`tracker_config_from_options`, so both commands offer the same flags with
the same defaults and help, never repeated here.
"""

from __future__ import annotations

from typing import Any

from vidtrack.cli.option_params import annotated
from vidtrack.options import TRACKER_OPTIONS
from vidtrack.optionspec import PANEL_TRACK
from vidtrack.tracking.config import TrackerConfig

PANEL = PANEL_TRACK
TRACKER_DEFAULTS = TrackerConfig()

IouThresholdOption = annotated("iou_threshold")
LowIouThresholdOption = annotated("low_iou_threshold")
HighScoreRankOption = annotated("high_score_rank")
MinScoreRankOption = annotated("min_score_rank")
NewTrackScoreRankOption = annotated("new_track_score_rank")
MinHitsOption = annotated("min_hits")
MaxAgeOption = annotated("max_age")
PositionGainOption = annotated("position_gain")
VelocityGainOption = annotated("velocity_gain")
ScoreMemoryOption = annotated("score_memory")
IouBufferOption = annotated("iou_buffer")
NewTrackGateOption = annotated("new_track_gate")
CmcOption = annotated("cmc")
#: ``--raw-boxes`` is the CLI's name for ``smooth_boxes=False``.
RawBoxesOption = annotated("raw_boxes")


#: The command parameters that hold tracker options (named as TrackerConfig's fields,
#: except ``raw_boxes``, the CLI's name for ``smooth_boxes=False``).
TRACKER_OPTION_NAMES = TRACKER_OPTIONS  # one list, in vidtrack.options


def tracker_config_from_options(values: dict[str, Any]) -> TrackerConfig:
    """Build (and validate: raises ``OptionError``) the tracker config from a command's
    parameters, e.g. ``tracker_config_from_options(locals())``; other keys are ignored."""
    fields = {name: values[name] for name in TRACKER_OPTION_NAMES if name in values and name != "raw_boxes"}
    return TrackerConfig(**fields, smooth_boxes=not values.get("raw_boxes", False))
