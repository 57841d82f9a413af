"""A new output with its own path option is one file (the sink and its ``Output``) plus one
registration line in ``sinks/open.py``'s ``OPENERS``: its option then reaches the CLI, config
files, the Python API and the HTTP API, and its file is written, with nothing else touched.

The registration has to happen before ``vidtrack.options`` builds its table (at import), so
the check runs in a fresh interpreter (``conftest.run_plugin_check``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import run_plugin_check

SCRIPT = textwrap.dedent('''
    import vidtrack.sinks.open as sinks_open
    import track_csv
    sinks_open.OPENERS["track_csv"] = track_csv.OUTPUT  # the one registration line

    import typer
    from vidtrack.cli import app
    from vidtrack.config_file import load_config_file, merge_options
    from vidtrack.options import OPTIONS, check_value, request_from_options
    from vidtrack.errors import OptionError
    from conftest import SquareDetector, make_clip

    out = {}
    # the CLI: a --track-csv flag with the declared help, and its value parsed into the request
    command = typer.main.get_command(app).commands["run"]
    param = {p.name: p for p in command.params}["track_csv"]
    out["cli_flag"], out["cli_help"] = param.opts, param.help
    clip = make_clip(tmp / "clip.avi", frames=20)
    ctx = command.make_context("run", [str(clip), "--track-csv", str(tmp / "cli.csv")])
    cli_request = request_from_options([str(clip)], {k: v for k, v in ctx.params.items() if k in OPTIONS})
    out["cli_path"] = str(dict(cli_request.output.more)["track_csv"])
    # a config file: the key, relative to the file's folder
    site = tmp / "site" / "site.yaml"
    site.parent.mkdir()
    site.write_text("track-csv: boxes.csv\\n")
    file_request = request_from_options([str(clip)], merge_options(load_config_file(site), {}, set(), site))
    out["config_path"] = str(dict(file_request.output.more)["track_csv"])
    # the HTTP API: known, and refused like every path (the server names a job's outputs)
    from vidtrack.web.jobs import client_options
    try:
        client_options({"track_csv": "/etc/x.csv"})
        out["http"] = "accepted"
    except OptionError as exc:
        out["http"] = str(exc)
    # the Python API: vidtrack.track(source, track_csv=...) writes the file
    import vidtrack
    from vidtrack import api
    from vidtrack.runner import execute
    request = api._request(str(clip), None, {"track_csv": str(tmp / "py.csv"), "jsonl": str(tmp / "py.jsonl")})
    outcome = execute(request, detector=SquareDetector())
    out["error"] = None if outcome.error is None else str(outcome.error)
    out["csv"] = (tmp / "py.csv").read_text().splitlines()
    out["jsonl_rows"] = [json.loads(line) for line in (tmp / "py.jsonl").read_text().splitlines()]
    print(json.dumps(out))
''')


def test_a_registered_output_reaches_every_front_end_and_writes_its_file(tmp_path: Path) -> None:
    out = run_plugin_check(SCRIPT, tmp_path)
    assert out["cli_flag"] == ["--track-csv"] and out["cli_help"] == "CSV of every tracked box: frame,track_id,class."
    assert out["cli_path"] == str(tmp_path / "cli.csv")
    assert out["config_path"] == str(tmp_path / "site" / "boxes.csv")  # beside the config file, as every path key
    assert "set by the server" in out["http"]
    assert out["error"] is None
    # the toy file holds one row per tracked box of the JSONL the same run wrote
    tracked = [(row["frame"], d["track_id"]) for row in out["jsonl_rows"] for d in row["detections"] if d["track_id"] is not None]
    rows = [tuple(line.split(",")[:2]) for line in out["csv"][1:]]
    assert out["csv"][0] == "frame,track_id,class" and tracked
    assert rows == [(str(f), str(t)) for f, t in tracked]


def test_the_built_in_table_has_no_toy_output() -> None:
    from vidtrack.options import OPTIONS

    assert "track_csv" not in OPTIONS  # the registration above stayed in its own interpreter
