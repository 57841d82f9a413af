"""A new source kind named by a URL scheme is one file (the source and its ``Input``) plus one
registration line in ``sources/open.py``'s ``OPENERS``: ``vidtrack run pattern://N`` opens it,
and the option it declares reaches the CLI, config files, the HTTP API and the Python API.

The registration has to happen before ``vidtrack.options`` builds its table (at import), so
the check runs in a fresh interpreter (``conftest.run_plugin_check``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from conftest import run_plugin_check

SCRIPT = textwrap.dedent('''
    import vidtrack.sources.open as sources_open
    import pattern
    sources_open.OPENERS["pattern"] = pattern.INPUT  # the one registration line

    import typer
    from vidtrack.cli import app
    from vidtrack.config_file import load_config_file, merge_options
    from vidtrack.options import OPTIONS, request_from_options
    from conftest import SquareDetector

    out = {}
    command = typer.main.get_command(app).commands["run"]  # the CLI: --pattern-step, parsed
    param = {p.name: p for p in command.params}["pattern_step"]
    out["cli"] = [param.opts, param.default, param.help, param.rich_help_panel]
    ctx = command.make_context("run", ["pattern://5", "--pattern-step", "7"])
    out["cli_value"] = request_from_options(["pattern://5"], {k: v for k, v in ctx.params.items() if k in OPTIONS}).source.extra("pattern_step")
    site = tmp / "site.yaml"  # a config file
    site.write_text("pattern-step: 4\\n")
    out["config_value"] = request_from_options(["pattern://5"], merge_options(load_config_file(site), {}, set(), site)).source.extra("pattern_step")
    from vidtrack.web.jobs import client_options  # the HTTP API: a form field, coerced by the table
    out["http_value"] = client_options({"pattern-step": "6"})
    from vidtrack.errors import OptionError
    try:
        client_options({"pattern_step": "0"})
    except OptionError as exc:
        out["http_error"] = str(exc)
    from vidtrack import api  # the Python API: the run itself
    from vidtrack.runner import execute
    request = api._request("pattern://20", None, {"pattern_step": 2, "raw_boxes": True, "jsonl": str(tmp / "t.jsonl")})
    outcome = execute(request, detector=SquareDetector())
    out["error"] = None if outcome.error is None else str(outcome.error)
    rows = [json.loads(line) for line in (tmp / "t.jsonl").read_text().splitlines()]
    out["xs"] = [[d["x"] for d in row["detections"]] for row in rows]
    print(json.dumps(out))
''')


def test_a_registered_source_kind_opens_and_its_option_reaches_every_front_end(tmp_path: Path) -> None:
    out = run_plugin_check(SCRIPT, tmp_path)
    assert out["cli"] == [["--pattern-step"], 3, "Pixels the square moves a frame.", "Advanced: outputs, live sources, redaction"]
    assert (out["cli_value"], out["config_value"], out["http_value"]) == (7, 4, {"pattern_step": 6})
    assert "--pattern-step '0' is out of range: use a value at least 1" in out["http_error"]  # the app words it pattern_step='0'

    assert out["error"] is None and len(out["xs"]) == 20
    # the square moved pattern_step=2 pixels a frame (the detector's boxes: --raw-boxes)
    xs = [row[0] for row in out["xs"] if row]
    steps = {round(b - a) for a, b in zip(xs, xs[1:])}
    assert xs and steps <= {2}, steps


def test_an_unregistered_scheme_is_still_refused() -> None:
    import pytest

    from vidtrack.errors import SourceError
    from vidtrack.sources.open import classify

    with pytest.raises(SourceError, match="unknown URL scheme 'pattern'"):
        classify("pattern://20")
