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
)


def _register() -> None:
    from vidtrack.cli.run_cmd import demo_command, run_command

    app.command("run", no_args_is_help=True)(run_command)
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
    try:
        code = app(args=argv, prog_name="vidtrack", standalone_mode=False)
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
