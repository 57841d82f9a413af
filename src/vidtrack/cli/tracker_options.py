"""Tracker options shared by ``vidtrack run`` and ``vidtrack eval``.

Each alias is a typer ``Annotated`` type; a command declares e.g.
``iou_threshold: IouThresholdOption = TRACKER_DEFAULTS.iou_threshold`` and passes the
values to :func:`tracker_config_from_options`, so both commands offer the same flags with
the same defaults (taken from :class:`TrackerConfig`, never repeated here).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vidtrack.options import TRACKER_OPTIONS
from vidtrack.tracking.config import TrackerConfig

PANEL = "Tracker"
TRACKER_DEFAULTS = TrackerConfig()

IouThresholdOption = Annotated[
    float,
    typer.Option(
        "--iou-threshold",
        help="Minimum IoU between a detection and a track's predicted box to match. "
        "Raise: fewer wrong matches between neighbours; lower: fast objects keep their ids.",
        rich_help_panel=PANEL,
    ),
]
LowIouThresholdOption = Annotated[
    float,
    typer.Option(
        "--low-iou-threshold",
        help="Minimum IoU for a weak detection (ranked below --high-score-rank) to extend a track. "
        "Raise: weak false boxes latch on less; lower: partly occluded objects keep their track.",
        rich_help_panel=PANEL,
    ),
]
HighScoreRankOption = Annotated[
    float,
    typer.Option(
        "--high-score-rank",
        help="Detections whose score ranks at least this high among the detector's scores seen so far "
        "(0-1; 0.15 = all but its bottom 15%) are matched first; weaker ones need --low-iou-threshold. "
        "Ranks, not raw scores, so one value suits any detector. Raise: fewer false matches, more misses.",
        rich_help_panel=PANEL,
    ),
]
MinScoreRankOption = Annotated[
    float,
    typer.Option(
        "--min-score-rank",
        help="The tracker ignores detections ranking below this among the detector's scores (0 = keep all). "
        "Raise: fewer false matches, fewer boxes kept through occlusions.",
        rich_help_panel=PANEL,
    ),
]
NewTrackScoreRankOption = Annotated[
    float,
    typer.Option(
        "--new-track-score-rank",
        help="Score rank (0-1) a detection needs to start a new track (0.35 = the detector's top 65%). "
        "Raise: fewer spurious tracks, objects picked up later.",
        rich_help_panel=PANEL,
    ),
]
MinHitsOption = Annotated[
    int,
    typer.Option(
        "--min-hits",
        help="Consecutive matched frames before a track is shown with an id. Raise: fewer short "
        "false tracks, objects appear later.",
        rich_help_panel=PANEL,
    ),
]
MaxAgeOption = Annotated[
    int,
    typer.Option(
        "--max-age",
        help="Frames a track survives unseen. Raise: ids survive longer occlusions; "
        "lost tracks may steal nearby newcomers.",
        rich_help_panel=PANEL,
    ),
]
PositionGainOption = Annotated[
    float,
    typer.Option(
        "--position-gain",
        help="How much each detection corrects the track's box (0-1). Raise: follows the detector "
        "(and its jitter); lower: steadier boxes that lag.",
        rich_help_panel=PANEL,
    ),
]
VelocityGainOption = Annotated[
    float,
    typer.Option(
        "--velocity-gain",
        help="How much each detection corrects the track's velocity (0-1). Raise: reacts to turns "
        "faster, jitter becomes motion; lower: smoother prediction.",
        rich_help_panel=PANEL,
    ),
]
ScoreMemoryOption = Annotated[
    int,
    typer.Option(
        "--score-memory",
        help="Detections the score ranking remembers (older ones fade). Raise: steadier ranks; "
        "lower: ranks adapt sooner when the scene or detector changes.",
        rich_help_panel=PANEL,
    ),
]
RawBoxesOption = Annotated[
    bool,
    typer.Option(
        "--raw-boxes",
        help="Report the detector's boxes instead of the tracks' filtered (steadier) boxes.",
        rich_help_panel=PANEL,
    ),
]


#: The command parameters that hold tracker options (named as TrackerConfig's fields,
#: except ``raw_boxes``, the CLI's name for ``smooth_boxes=False``).
TRACKER_OPTION_NAMES = TRACKER_OPTIONS  # one list, in vidtrack.options


def tracker_config_from_options(values: dict[str, Any]) -> TrackerConfig:
    """Build (and validate: raises ``OptionError``) the tracker config from a command's
    parameters, e.g. ``tracker_config_from_options(locals())``; other keys are ignored."""
    fields = {name: values[name] for name in TRACKER_OPTION_NAMES if name in values and name != "raw_boxes"}
    return TrackerConfig(**fields, smooth_boxes=not values.get("raw_boxes", False))
