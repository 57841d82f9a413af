"""The ``vidtrack`` command line: the only place that prints or exits.

Each command lives in its own module and is imported lazily, so ``vidtrack --help``
stays instant (no torch, ultralytics or OpenCV import).
"""

from __future__ import annotations

import sys

import typer

from vidtrack.cli.common import fail  # re-exported: the old import path
from vidtrack.errors import VidtrackError, quiet_ffmpeg

app = typer.Typer(
    name="vidtrack",
    help="Real-time video object detection and tracking: YOLO detections, IoU tracks, annotated MP4s and data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: ``vidtrack run --help`` ends with these (rich markup: paragraphs split on blank lines).
RUN_EXAMPLES = """[b]Examples[/b] (model: --model PATH or $VIDTRACK_MODEL; README: "First five minutes")

  vidtrack run street.mp4 -o out/street.mp4          [dim]# annotated H.264 video[/dim]
  vidtrack run photo.jpg -o out/photo.jpg            [dim]# annotated photo[/dim]
  vidtrack run photos/ -o out/photos/                [dim]# a folder of annotated photos[/dim]
  vidtrack run street.mp4 --jsonl out/tracks.jsonl   [dim]# data only[/dim]
  vidtrack run pets.avi --line 0,0.62,1,0.5:walkway -o out/pets.mp4
  vidtrack run 0 --serve 8080                        [dim]# webcam in the browser[/dim]
  vidtrack run rtsp://cam/1 -o out/cam.mp4           [dim]# Ctrl-C stops, file plays[/dim]

Tuning knobs (detector, tracker, counting): vidtrack run --help-all"""

#: Type names typer would print (``<bool>``, ``<list[str]>``) → what the user types.
_METAVARS = {bool: "", int: "N", float: "NUM", str: "TEXT"}


def plain_metavars(command: object) -> object:
    """Give every option of ``command`` (and its subcommands) a plain metavar.

    typer renders an option without one as a Python type (``<bool>``, ``<list[str]>``,
    ``<float>``); flags get none, numbers ``N``/``NUM``, paths ``PATH``, text ``TEXT``.
    Options that declare their own ``metavar`` keep it. Returns ``command``.
    """
    from pathlib import Path

    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)
    make_help = getattr(command, "get_help_option", None)
    if make_help is not None:  # -h/--help is made per call: give it no type either

        def help_option(ctx: object, _make: object = make_help) -> object:
            option = _make(ctx)  # type: ignore[operator]
            if option is not None:
                option.metavar = ""
            return option

        command.get_help_option = help_option  # type: ignore[attr-defined]
    for param in getattr(command, "params", []):
        if param.param_type_name == "argument":  # the name column says it: SOURCES...
            param.display_type_rich = lambda ctx: None
            continue
        if param.metavar is not None:
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""
            continue
        annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
        from typing import get_args, get_origin

        if get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        if isinstance(annotation, type) and issubclass(annotation, Path):
            param.metavar = "PATH"
        else:
            param.metavar = _METAVARS.get(annotation, "TEXT")  # type: ignore[arg-type]
    return command


#: Help panels whose options ``-h`` leaves out (they still work; ``--help-all`` lists them).
ADVANCED_PREFIX = "Advanced"


def hide_advanced(command: object) -> object:
    """Leave the tuning knobs (options in an "Advanced: ..." panel) out of ``-h``/``--help``.

    The options keep working; ``vidtrack run --help-all`` lists them. Returns ``command``.
    """
    for param in getattr(command, "params", []):
        if str(getattr(param, "rich_help_panel", "") or "").startswith(ADVANCED_PREFIX):
            param.hidden = True
    return command


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"vidtrack {version('vidtrack')}")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
            typer.echo("vidtrack (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: bool = typer.Option(
        False, "--version", "-V", help="Print vidtrack's version and exit.", is_eager=True, callback=_version
    ),
) -> None:
    """Real-time video object detection and tracking: YOLO detections, IoU tracks, annotated MP4s and data."""


def _register() -> None:
    from vidtrack.cli.run_cmd import demo_command, run_command

    app.command("run", no_args_is_help=True, epilog=RUN_EXAMPLES)(run_command)
    app.command("demo")(demo_command)
    from vidtrack.cli.eval_cmd import eval_command

    app.command("eval", no_args_is_help=True)(eval_command)
    from vidtrack.cli.serve_cmd import serve_command

    app.command("serve")(serve_command)
    from vidtrack.cli.eval_detect_cmd import eval_detect_command

    app.command("eval-detect", no_args_is_help=True)(eval_detect_command)
    from vidtrack.cli.batch_cmd import batch_command

    app.command("batch", no_args_is_help=True)(batch_command)
    from vidtrack.cli.bench_cmd import bench_command

    app.command("bench", no_args_is_help=True)(bench_command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console entry point: usage errors and VidtrackErrors become one line and exit code 2."""
    try:  # newer typer releases vendor click as typer._click
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover - older typer with click installed
        import click.exceptions as click  # type: ignore[no-redef]

    from vidtrack.cli.batch_cmd import main_args

    quiet_ffmpeg()
    argv = main_args(list(sys.argv[1:] if argv is None else argv))
    show_all = "--help-all" in argv  # -h keeps to everyday options; --help-all adds the tuning knobs
    argv = ["--help" if arg == "--help-all" else arg for arg in argv]
    command = plain_metavars(typer.main.get_command(app))
    if not show_all:
        hide_advanced(command.commands["run"])  # type: ignore[attr-defined]
    try:
        code = command.main(args=argv, prog_name="vidtrack", standalone_mode=False)  # type: ignore[attr-defined]
    except click.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        code = 0
    except click.UsageError as exc:
        hint = f"see '{exc.ctx.command_path} --help'" if exc.ctx else "see 'vidtrack --help'"
        typer.echo(f"error: {exc.format_message()}: {hint}", err=True)
        code = 2
    except click.ClickException as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        code = exc.exit_code
    except (typer.Abort, getattr(click, "Abort", typer.Abort)):
        code = 130
    except VidtrackError as exc:
        typer.echo(f"error: {exc}", err=True)
        code = 2
    except OSError as exc:  # a path the checks did not foresee: still one line, never a traceback
        if exc.filename is None:
            raise
        from vidtrack.errors import path_error

        typer.echo(f"error: {path_error(VidtrackError, 'use', exc.filename, exc)}", err=True)
        code = 2
    sys.exit(code if isinstance(code, int) else 0)
