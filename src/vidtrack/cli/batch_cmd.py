"""``vidtrack batch``: many files through the ``run`` pipeline, resumable, local or on Ray.

The command takes the ``run`` command's detector, tracker, overlay and encoder options
(the same parameters, copied from :func:`vidtrack.cli.run_cmd.run_command`, so each knob is
written once) plus its own: OUT_DIR, ``--no-video``, ``--workers``, ``--ray [ADDRESS]``,
``--overwrite``.
"""

from __future__ import annotations

import inspect
import os
import re
import signal
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vidtrack.cli.run_cmd import run_command
from vidtrack.errors import VidtrackError
from vidtrack.options import OPTIONS

PANEL_BATCH = "Batch"

#: ``run`` parameters that batch does not take: it names each file's outputs itself, has no
#: viewers, and its inputs are files (no live-source settings). ``ctx`` is batch's own (first,
#: as typer needs it); ``--config`` is copied and loaded as ``run`` loads it.
_NOT_FOR_BATCH = {
    "ctx", "sources", "output", "jsonl", "mot", "summary", "events", "show", "serve", "token", "quiet",
    "every_frame", "stall_timeout", "max_retries", "heatmap", "snapshots", "clips",
} | {name for name, option in OPTIONS.items() if issubclass(option.kind, Path)}  # outputs registered with their option

#: Tokens that ``--ray`` takes as its address; anything else after a bare ``--ray`` is an input.
_RAY_ADDRESS = re.compile(r"^(auto|local|ray://\S+|[\w.\-]*:\d{1,5})$")


def expand_ray_flag(args: list[str]) -> list[str]:
    """Let ``--ray`` be given with or without an address.

    ``--ray`` followed by an address-shaped token (``auto``, ``local``, ``HOST:PORT``,
    ``ray://...``) that is not an existing path keeps it; a bare ``--ray`` becomes
    ``--ray=`` (meaning ``$RAY_ADDRESS`` or a new local Ray instance).
    """
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        if arg == "--ray":
            nxt = args[i + 1] if i + 1 < len(args) else None
            if nxt is not None and _RAY_ADDRESS.match(nxt) and not os.path.exists(nxt):
                out.append(f"--ray={nxt}")
                i += 2
                continue
            out.append("--ray=")
        else:
            out.append(arg)
        i += 1
    return out


def batch_command(
    ctx: typer.Context,
    inputs: Annotated[
        list[str],
        typer.Argument(help="Video files, folders (searched recursively for videos) or quoted glob patterns.", show_default=False),
    ],
    out_dir: Annotated[
        Path,
        typer.Option("--out-dir", "-o", help="Where outputs go, mirroring each input's relative path (created).", rich_help_panel=PANEL_BATCH, show_default=False),
    ],
    no_video: Annotated[bool, typer.Option("--no-video", help="Write no annotated MP4s (JSONL, events and summary only; much faster).", rich_help_panel=PANEL_BATCH)] = False,
    workers: Annotated[Optional[int], typer.Option(help="Files processed at once: local worker processes, or Ray actors. Default: cores / 2 locally (one pipeline keeps two cores busy: measured), the cluster's CPUs / --cores-per-worker on Ray.", rich_help_panel=PANEL_BATCH, show_default=False)] = None,
    cores_per_worker: Annotated[Optional[int], typer.Option(help="Cores each worker is pinned to (Ray: CPUs per actor). Default: cores / workers locally, 2 on Ray.", rich_help_panel=PANEL_BATCH, show_default=False)] = None,
    ray: Annotated[Optional[str], typer.Option("--ray", metavar="[ADDRESS]", help="Run on a Ray cluster: auto, HOST:PORT or ray://HOST:10001; bare --ray: $RAY_ADDRESS or a new local Ray instance. Inputs must be readable by every node (shared storage).", rich_help_panel=PANEL_BATCH, show_default=False)] = None,
    heatmaps: Annotated[bool, typer.Option("--heatmaps", help="Write each file's heatmap of where tracked objects' feet were, <name>.heatmap.png.", rich_help_panel=PANEL_BATCH)] = False,
    snapshots: Annotated[bool, typer.Option("--snapshots", help="Write each file's snapshots (best view of each track, each event's frame) into the folder <name>.snapshots/.", rich_help_panel=PANEL_BATCH)] = False,
    clips: Annotated[bool, typer.Option("--clips", help="Write each file's event clips (--pre/--post seconds around each review item) into the folder <name>.clips/.", rich_help_panel=PANEL_BATCH)] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Redo every file, even those already done with the same settings.", rich_help_panel=PANEL_BATCH)] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or end table.")] = False,
    **options: Any,
) -> None:
    """Process a whole archive: every video into OUT_DIR, resumable, in parallel; report.csv per input."""
    from vidtrack.batch import run_batch
    from vidtrack.cli.common import fail
    from vidtrack.cli.batch_report import BatchReporter, print_batch_table

    reporter = BatchReporter(enabled=not quiet)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        options = _with_config_file(ctx, options)
        rows = run_batch(
            inputs,
            out_dir,
            options,
            engine="ray" if ray is not None else "local",
            workers=workers,
            cores_per_worker=cores_per_worker,
            address=ray or None,
            video=not no_video,
            heatmap=heatmaps,
            snapshots=snapshots,
            clips=clips,
            overwrite=overwrite,
            progress=reporter,
        )
    except VidtrackError as exc:
        reporter.stop()
        raise fail(exc)
    except KeyboardInterrupt:
        reporter.stop()
        typer.echo(f"stopped: finished files are kept; run the same command again to continue ({out_dir / 'report.csv'})", err=True)
        raise typer.Exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)
    reporter.stop()
    if not quiet:
        print_batch_table(rows, out_dir)
    failed = sum(row["status"] == "failed" for row in rows)
    if failed:
        typer.echo(f"{failed} of {len(rows)} files failed: see {out_dir / 'report.csv'}", err=True)
        raise typer.Exit(1)


def _with_config_file(ctx: typer.Context, options: dict[str, Any]) -> dict[str, Any]:
    """``--config FILE``: its options under those given on the command line (as ``run`` does).

    Output paths in the file (``output``, ``jsonl``, ``events``...) are ignored: a batch
    names each file's outputs itself.
    """
    path = options.pop("config", None)
    if path is None:
        return options
    from vidtrack.batch.driver import RESERVED_OPTIONS
    from vidtrack.cli.run_cmd import _given
    from vidtrack.config_file import load_config_file, merge_options

    from_file = {k: v for k, v in load_config_file(path).items() if k not in RESERVED_OPTIONS}
    return merge_options(from_file, options, _given(ctx))


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _batch_signature() -> None:
    """Give :func:`batch_command` the ``run`` options as parameters (typer reads the signature)."""
    own = [p for p in inspect.signature(batch_command, eval_str=True).parameters.values() if p.kind is not p.VAR_KEYWORD]
    taken = {p.name for p in own}
    shared = [
        p
        for p in inspect.signature(run_command, eval_str=True).parameters.values()
        if p.name not in _NOT_FOR_BATCH and p.name not in taken
    ]
    params = own + shared
    batch_command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    batch_command.__annotations__ = {p.name: p.annotation for p in params}


_batch_signature()


def main_args(args: list[str]) -> list[str]:
    """The command line as typer should see it (``--ray`` with an optional value)."""
    return expand_ray_flag(args) if args[:1] == ["batch"] else args

