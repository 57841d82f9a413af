"""``vidtrack eval``: score the tracker on MOTChallenge sequences."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from vidtrack.cli.tracker_options import (
    TRACKER_DEFAULTS,
    HighScoreRankOption,
    IouBufferOption,
    NewTrackGateOption,
    IouThresholdOption,
    LowIouThresholdOption,
    MaxAgeOption,
    MinHitsOption,
    MinScoreRankOption,
    NewTrackScoreRankOption,
    PositionGainOption,
    RawBoxesOption,
    ScoreMemoryOption,
    VelocityGainOption,
    tracker_config_from_options,
)
from vidtrack.cli.analytics_options import (
    LINE_DEFAULTS,
    LINK_DEFAULTS,
    AnchorOption,
    CountModeOption,
    LineConfirmOption,
    LineMarginOption,
    LineOption,
    LinkDistanceOption,
    LinkGapOption,
)
from vidtrack.errors import VidtrackError
from vidtrack.tracking.config import RefineConfig

REFINE_DEFAULTS = RefineConfig()

if TYPE_CHECKING:
    from vidtrack.evaluation import EvalReport, LineCountScore

PANEL_REFINE = "Offline refinement (--refine)"


def eval_command(
    mot_root: Annotated[
        Path,
        typer.Argument(help="Folder of MOTChallenge sequences (each with det/det.txt, gt/gt.txt, seqinfo.ini).", show_default=False),
    ],
    seqs: Annotated[Optional[str], typer.Option("--seqs", help="Only these sequences, comma-separated: A,B.")] = None,
    refine: Annotated[
        bool,
        typer.Option("--refine", help="Refine tracks offline: backfill, smooth, fill short gaps, drop short weak tracks."),
    ] = False,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="Write DIR/<SEQ>.txt result files here (default: a temporary folder)."),
    ] = None,
    min_conf: Annotated[
        float,
        typer.Option(
            "--min-conf",
            help="Drop detections below this raw score before tracking (like run's --conf); "
            "they then do not count in the score ranking either.",
        ),
    ] = 0.0,
    subsample: Annotated[
        int,
        typer.Option(
            "--subsample",
            help="Keep every K-th frame of each sequence (detections and ground truth alike, renumbered): "
            "scores the tracker as if the video ran at frameRate/K, or the detector ran on every K-th frame.",
        ),
    ] = 1,
    iou_threshold: IouThresholdOption = TRACKER_DEFAULTS.iou_threshold,
    low_iou_threshold: LowIouThresholdOption = TRACKER_DEFAULTS.low_iou_threshold,
    high_score_rank: HighScoreRankOption = TRACKER_DEFAULTS.high_score_rank,
    min_score_rank: MinScoreRankOption = TRACKER_DEFAULTS.min_score_rank,
    new_track_score_rank: NewTrackScoreRankOption = TRACKER_DEFAULTS.new_track_score_rank,
    min_hits: MinHitsOption = TRACKER_DEFAULTS.min_hits,
    max_age: MaxAgeOption = TRACKER_DEFAULTS.max_age,
    position_gain: PositionGainOption = TRACKER_DEFAULTS.position_gain,
    velocity_gain: VelocityGainOption = TRACKER_DEFAULTS.velocity_gain,
    score_memory: ScoreMemoryOption = TRACKER_DEFAULTS.score_memory,
    iou_buffer: IouBufferOption = TRACKER_DEFAULTS.iou_buffer,
    new_track_gate: NewTrackGateOption = TRACKER_DEFAULTS.new_track_gate,
    raw_boxes: RawBoxesOption = False,
    line: LineOption = None,
    count_mode: CountModeOption = LINE_DEFAULTS.count_mode,
    line_margin: LineMarginOption = LINE_DEFAULTS.margin,
    line_confirm: LineConfirmOption = LINE_DEFAULTS.confirm_frames,
    link_gap: LinkGapOption = LINK_DEFAULTS.max_gap_s,
    link_distance: LinkDistanceOption = LINK_DEFAULTS.max_distance,
    anchor: AnchorOption = "bottom-center",
    refine_max_gap: Annotated[
        int,
        typer.Option(
            help="Longest gap (frames) filled by interpolation. Raise: more recall, more drift.",
            rich_help_panel=PANEL_REFINE,
        ),
    ] = REFINE_DEFAULTS.max_gap,
    refine_min_length: Annotated[
        int,
        typer.Option(
            help="Shorter weak tracks are dropped. Raise: fewer false tracks, short real ones lost.",
            rich_help_panel=PANEL_REFINE,
        ),
    ] = REFINE_DEFAULTS.min_length,
    refine_keep_score_rank: Annotated[
        float,
        typer.Option(
            help="A short track is kept when its detections' mean score rank (0-1) reaches this. "
            "Raise: fewer short tracks kept, false and real.",
            rich_help_panel=PANEL_REFINE,
        ),
    ] = REFINE_DEFAULTS.keep_score_rank,
) -> None:
    """Track MOTChallenge public detections and score HOTA, MOTA, IDF1 with TrackEval.

    With --line (fractions of the frame), count line crossings instead and compare them with the
    ground truth's: each gt id counts at most once per direction, when its bottom-centre passes the
    segment between two consecutive observations (rows with confidence 0 ignored).
    """
    from vidtrack.evaluation import evaluate

    if line:
        try:
            scores = _count_lines(mot_root, seqs, line, min_conf, locals())  # every frame (--subsample: tracking only)
        except VidtrackError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        _print_counts(scores)
        return
    try:
        config = tracker_config_from_options(locals())
        refine_config = (
            RefineConfig(max_gap=refine_max_gap, min_length=refine_min_length, keep_score_rank=refine_keep_score_rank)
            if refine
            else None
        )
        names = [s.strip() for s in seqs.split(",") if s.strip()] if seqs else None
        report = evaluate(mot_root, names, config, refine_config, out, min_conf, subsample)
    except VidtrackError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    _print_report(report, keep_files=out is not None, subsample=subsample)


def _print_report(report: "EvalReport", keep_files: bool, subsample: int = 1) -> None:
    from rich.console import Console
    from rich.table import Table

    title = "vidtrack eval" + (" (--refine)" if report.refined else "") + (
        f" (--subsample {subsample})" if subsample > 1 else ""
    )
    table = Table(title=title)
    for column in ("sequence", "frames", "HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW", "FP", "FN", "frames/s"):
        table.add_column(column, justify="left" if column == "sequence" else "right", no_wrap=True)
    rows = list(report.sequences) + [report.combined]
    for score in rows:
        if score is report.combined:
            table.add_section()
        table.add_row(
            score.name,
            str(score.frames),
            f"{score.hota:.1f}",
            f"{score.det_a:.1f}",
            f"{score.ass_a:.1f}",
            f"{score.mota:.1f}",
            f"{score.idf1:.1f}",
            str(score.id_switches),
            str(score.false_positives),
            str(score.false_negatives),
            f"{score.frames_per_second:,.0f}",
        )
    console = Console()
    console.width = max(console.width, 112)  # the table is unreadable when squeezed
    console.print(table)
    what = "tracker + refinement" if report.refined else "tracker-only"
    console.print(f"{what}: {report.combined.frames_per_second:,.0f} frames/s over {report.combined.frames} frames")
    if keep_files:
        console.print(f"results: {report.out_dir}")


def _count_lines(
    mot_root: Path, seqs: Optional[str], line: list[str], min_conf: float, values: dict
) -> list["LineCountScore"]:
    """Per sequence and line: true and counted crossings (the tracker runs once per sequence)."""
    from vidtrack.analytics.config import AnalyticsConfig
    from vidtrack.evaluation import count_sequence_lines, find_sequences, load_sequence, sequence_lines

    config = tracker_config_from_options(values)
    analytics = AnalyticsConfig.from_options(**{k: values[k] for k in (
        "line", "count_mode", "line_margin", "line_confirm", "link_gap", "link_distance", "anchor")})
    if any(not spec.fractional for spec in analytics.lines):
        bad = next(spec for spec in analytics.lines if not spec.fractional)
        raise VidtrackError(f"--line {bad.text!r} is not in fractions of the frame", "give values between 0 and 1")
    if analytics.anchor != "bottom-center":
        raise VidtrackError("eval --line counts the bottom-centre anchor (as the ground truth does)", "omit --anchor")
    names = [s.strip() for s in seqs.split(",") if s.strip()] if seqs else None
    scores = []
    for path in find_sequences(mot_root, names):
        sequence = load_sequence(path, min_conf)
        scores.extend(count_sequence_lines(sequence, sequence_lines(path, analytics.lines), config, analytics.line, analytics.link))
    return scores


def _print_counts(scores: list["LineCountScore"]) -> None:
    from functools import reduce

    from rich.console import Console
    from rich.table import Table

    table = Table(title="vidtrack eval --line")
    for column in ("sequence / line", "true in", "true out", "counted in", "counted out", "error", "relative"):
        table.add_column(column, justify="left" if column.startswith("sequence") else "right", no_wrap=True)
    total = reduce(lambda a, b: a + b, scores)
    for score in scores + [total]:
        if score is total:
            table.add_section()
        name = "TOTAL" if score is total else score.name
        rel = f"{100 * score.relative_error:.1f}%" if score.true_total else "-"
        table.add_row(name, str(score.true_in), str(score.true_out), str(score.counted_in), str(score.counted_out), str(score.error), rel)
    console = Console()
    console.width = max(console.width, 100)
    console.print(table)
    console.print(
        f"total count error: {total.error} of {total.true_total} true crossings ({100 * total.relative_error:.1f}%)"
    )
