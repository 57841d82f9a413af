"""``vidtrack run`` and ``vidtrack demo``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional

import typer

from vidtrack.cli.option_params import annotated, run_parameters, with_options
from vidtrack.config import DEFAULT_MODEL, MODEL_ENV, DetectorConfig, OutputConfig
from vidtrack.errors import VidtrackError, mask_credentials
from vidtrack.optionspec import (  # re-exported: the old import paths of the help panels
    PANEL_ADV_IO, PANEL_DETECT, PANEL_EVERYDAY, PANEL_LIVE, PANEL_OUTPUT, PANEL_REDACT, PANEL_TRACK,
)
from vidtrack.request import RunRequest

if TYPE_CHECKING:
    from vidtrack.runner import RunOutcome

#: Detector options that ``vidtrack bench`` offers too (flags and help from the option table).
ImgszOption = annotated("imgsz")
BackendOption = annotated("backend")
DeviceOption = annotated("device")


def run_command(
    ctx: typer.Context,
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Video file, image/folder/glob, webcam index (0) or stream URL (rtsp/http/udp/tcp). Several run side by side.",
            show_default=False,
            metavar="SOURCE",
        ),
    ],
    config: Annotated[Optional[Path], typer.Option("--config", help="YAML or TOML file of run options (any option above, named as its flag: line, zone, max-age...); options given here override it.", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary table.")] = False,
    **options: Any,
) -> None:
    """Detect and track objects in videos, images, webcams or streams; write annotated video, photos and data.

    Without -o, --jsonl or --show nothing is saved. Tuning knobs: --help-all.
    """
    from vidtrack.options import request_from_options

    from_file: dict = {}
    try:
        if config is not None:
            from vidtrack.config_file import load_config_file, merge_options

            from_file = load_config_file(config)
            options = merge_options(from_file, options, _given(ctx), source=config)
        request = request_from_options(sources, options)
    except VidtrackError as exc:
        raise fail_blaming(exc, from_file, ctx, config)
    _execute(request, quiet, lambda exc: fail_blaming(exc, from_file, ctx, config))


# The run options' parameters (every row of vidtrack.options.OPTIONS: type, default, help,
# flags, panel), between the sources and --config/--quiet: typer reads this signature.
with_options(run_command, run_parameters())


def fail_blaming(exc: VidtrackError, from_file: dict, ctx: typer.Context, config: Path | None) -> "typer.Exit":
    """The one-line exit of ``exc``; when its option's value came from ``--config FILE``, the line names the file and key."""
    from vidtrack.cli.common import fail
    from vidtrack.errors import OptionError

    if from_file and config is not None and isinstance(exc, OptionError):
        from vidtrack.config_file import blame_file

        exc = blame_file(exc, from_file, _given(ctx), config)
    return fail(exc)


def _given(ctx: typer.Context) -> set[str]:
    """Parameters set on the command line (or by an environment variable), not left at their defaults."""
    try:
        from typer._click.core import ParameterSource  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - typer releases that use click itself
        from click.core import ParameterSource

    given = set()
    for name in ctx.params:
        source = ctx.get_parameter_source(name)
        if source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
            given.add(name)
    return given


def _execute(request: "RunRequest", quiet: bool, failing: "Callable[[VidtrackError], typer.Exit] | None" = None) -> None:
    from vidtrack.runner import execute
    from vidtrack.web.view import WebView
    from vidtrack.cli.common import fail
    from vidtrack.cli.report import ProgressReporter

    _log_to_stderr(quiet)
    reporter = ProgressReporter(enabled=not quiet)
    try:
        outcome = execute(
            request, on_start=reporter.start, on_frame=reporter.frame, install_signals=True, web_view=WebView,
            keep_viewers=request.serve is not None,
        )
    except VidtrackError as exc:
        reporter.stop()
        raise (failing or fail)(exc)
    reporter.stop()
    try:
        _finish(outcome, request, quiet, reporter.live)
    finally:
        outcome.close_viewers()


def _finish(outcome: "RunOutcome", request: "RunRequest", quiet: bool, live: bool = False) -> None:
    """Warnings, the end-of-run table, the hint; then, with ``--serve``, the page stays up until Ctrl-C."""
    from vidtrack.cli.common import fail
    from vidtrack.cli.report import print_summary

    for warning in outcome.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if not quiet:
        print_summary(outcome, live=live)
        if not request.output.paths() and not request.show and request.serve is None:
            typer.echo(_nothing_saved_hint(request, outcome), err=True)
    if outcome.open_viewers and outcome.error is None:
        _serve_until_interrupted(outcome.viewer_url)
    if outcome.error is not None:
        raise fail(outcome.error, 2 if isinstance(outcome.error, VidtrackError) else 1)


def _serve_until_interrupted(url: str | None) -> None:
    """Keep the web view up (its page shows the final state, 'ended') until Ctrl-C or SIGTERM."""
    import signal
    import threading

    typer.echo(f"the sources ended; the web view stays up at {url} with the final state: Ctrl-C quits", err=True)
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _nothing_saved_hint(request: "RunRequest", outcome: object) -> str:
    """One line after a run that wrote nothing: what was done and how to keep it."""
    from vidtrack.sources.base import IMAGE_SUFFIXES

    frames = sum(int(data.get("frames") or 0) for data in getattr(outcome, "summaries", []))
    photo = all(Path(s).suffix.lower() in IMAGE_SUFFIXES or Path(s).is_dir() for s in request.sources)
    keep = "-o out.jpg (annotated photo; a folder for several)" if photo else "-o out.mp4 (annotated video)"
    return (
        f"note: tracked {frames} frame(s) and saved nothing: add {keep}, --jsonl tracks.jsonl (data) "
        "or --show (a window)"
    )


class _MaskingFormatter(logging.Formatter):
    """Log lines with ``user:password@`` masked, whatever module or library wrote them."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_credentials(super().format(record))


def _log_to_stderr(quiet: bool) -> None:
    """Live-source events (connected, stalled, reconnecting) go to stderr as they happen."""
    import logging

    logger = logging.getLogger("vidtrack")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_MaskingFormatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def demo_command(
    model: Annotated[
        Optional[str],
        typer.Option(help=f"Model to use. Default: ${MODEL_ENV} or {DEFAULT_MODEL}.", show_default=False),
    ] = None,
    folder: Annotated[Path, typer.Option(help="Where the sample clip and the result go.")] = Path("sample_videos"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or summary table.")] = False,
) -> None:
    """Make a sample clip (a virtual camera over an image shipped with Ultralytics) and track it."""
    from vidtrack.cli.common import fail
    from vidtrack.demo import ensure_demo_clip

    try:
        clip = ensure_demo_clip(folder)
        request = RunRequest(
            sources=[str(clip)],
            detector=DetectorConfig(**({"model": model} if model else {})),
            output=OutputConfig(
                video=folder / "demo_annotated.mp4", jsonl=folder / "demo.jsonl", summary=folder / "demo_summary.json"
            ),
        )
    except VidtrackError as exc:
        raise fail(exc)
    if not quiet:
        typer.echo(f"sample clip: {clip}")
    _execute(request, quiet)
    if not quiet:
        typer.echo(f"annotated video: {folder / 'demo_annotated.mp4'}")
