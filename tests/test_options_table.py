"""The option table (vidtrack.options.OPTIONS) owns each run option's type, range, default and help.

The CLI's parameters are built from it, config files, HTTP fields and Python calls are coerced
by it (``check_value``), and a default that belongs to a frozen config dataclass is read from
that field, so every front end gets the same value. These tests fail when a flag, default or
help text is written anywhere else.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from vidtrack.errors import OptionError
from vidtrack.options import OPTIONS, RUN_OPTIONS, check_value, request_from_options

SRC = Path(__file__).resolve().parents[1] / "src" / "vidtrack"

#: ``vidtrack run`` parameters that are not run options: the sources and how the command behaves.
CLI_ONLY = {"sources", "config", "quiet"}


def _run_params() -> dict:
    """``vidtrack run``'s click parameters by name, as the user's command line sees them."""
    import typer

    from vidtrack.cli import app

    command = typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]
    return {p.name: p for p in command.params}


def test_every_run_parameter_is_a_table_row_with_its_flags_default_help_and_panel() -> None:
    params = _run_params()
    assert set(params) - CLI_ONLY == set(OPTIONS), "a run option belongs in vidtrack.options.OPTIONS, not in cli/run_cmd.py"
    assert RUN_OPTIONS == tuple(OPTIONS)
    for name, option in OPTIONS.items():
        param = params[name]
        flags = [f for spelling in option.flag_names(name) for f in spelling.split("/")]
        assert sorted(param.opts + param.secondary_opts) == sorted(flags), name
        assert param.default == option.default, name
        assert param.help == option.help, name
        assert param.rich_help_panel == option.panel, name
        assert param.multiple == option.repeatable, name
        if option.metavar is not None:
            assert param.metavar == option.metavar, name


def test_the_run_parameters_keep_the_tables_order() -> None:
    names = [n for n in _run_params() if n not in CLI_ONLY]
    assert names == list(OPTIONS)


def _string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_each_help_text_is_written_once_in_the_source() -> None:
    """A help text copied into run_cmd.py (or anywhere else) would drift from the table's."""
    constants = {path: _string_constants(path) for path in SRC.rglob("*.py")}
    for name, option in OPTIONS.items():
        probe = option.help.split(". ")[0][:40]  # f-strings and line-split literals: a leading piece
        owners = [p.relative_to(SRC) for p, texts in constants.items() if any(probe in t for t in texts)]
        assert len(owners) <= 1, f"help of {name} is written in {owners}"
    run_cmd = "\n".join(_string_constants(SRC / "cli" / "run_cmd.py"))
    for name, option in OPTIONS.items():
        assert option.help not in run_cmd, f"help of {name} is repeated in cli/run_cmd.py"


def test_run_cmd_declares_no_run_option_by_hand() -> None:
    """run_command's own parameters are the sources, --config and --quiet; the rest come from the table."""
    tree = ast.parse((SRC / "cli" / "run_cmd.py").read_text(encoding="utf-8"))
    run = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "run_command")
    own = {a.arg for a in run.args.args + run.args.kwonlyargs}
    assert own == {"ctx"} | CLI_ONLY


def test_cli_config_file_http_and_python_defaults_are_the_dataclass_fields(tmp_path: Path) -> None:
    """One owner per default: max_age (and every other default) is TrackerConfig's field, whatever the front end."""
    from dataclasses import fields

    from vidtrack.config_file import load_config_file, merge_options
    from vidtrack.tracking.config import TrackerConfig

    owner = next(f.default for f in fields(TrackerConfig) if f.name == "max_age")
    assert OPTIONS["max_age"].default == owner
    assert _run_params()["max_age"].default == owner  # the CLI
    python = request_from_options(["a.mp4"], {})  # vidtrack.track(source) with nothing given
    assert python.tracker.max_age == owner
    site = tmp_path / "site.yaml"
    site.write_text("conf: 0.5\n")  # a config file that leaves max_age out
    from_file = merge_options(load_config_file(site), {}, set(), source=site)
    assert request_from_options(["a.mp4"], from_file).tracker.max_age == owner
    from vidtrack.web.jobs import JobManager

    http = JobManager._request.__get__(_FakeJobs())(Path("a.mp4"), {}, tmp_path)  # a video job with no options
    assert http.tracker == python.tracker
    from vidtrack.web.app import _job_body_doc

    documented = _job_body_doc()["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["max_age"]
    assert documented["default"] == owner and documented["description"] == OPTIONS["max_age"].help  # /docs


def test_http_docs_list_every_client_option_from_the_table() -> None:
    from vidtrack.web.app import _job_body_doc
    from vidtrack.web.jobs import SERVER_OPTIONS

    props = _job_body_doc()["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    client = {n for n, o in OPTIONS.items() if n not in SERVER_OPTIONS and o.kind is not Path}
    assert set(props) - {"video", "options"} == client
    assert props["conf"]["maximum"] == 1 and props["line"]["type"] == "array"


class _FakeService:
    class config:  # noqa: N801 - the attributes JobManager._request reads
        model = "m.xml"
        imgsz = 640


class _FakeJobs:
    service = _FakeService()


def test_the_cli_defaults_build_the_same_request_as_no_options() -> None:
    """Every table default equals its config's own default: the CLI (which passes them all) and the
    Python API / HTTP (which pass none) build the same request."""
    assert request_from_options(["a.mp4"], {n: o.default for n, o in OPTIONS.items()}) == request_from_options(["a.mp4"], {})


def test_every_option_is_in_a_group_that_request_from_options_maps() -> None:
    from vidtrack import options

    groups = (options.DETECTOR_OPTIONS + options.TRACKER_OPTIONS + options.SOURCE_OPTIONS + options.OVERLAY_OPTIONS
              + options.OUTPUT_OPTIONS + options.VIEW_OPTIONS + options.ANALYTICS_OPTIONS + options.SCHEDULE_OPTIONS)
    assert sorted(groups) == sorted(OPTIONS)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("conf", "0.4", 0.4), ("conf", 1, 1.0), ("max_det", "12", 12), ("max_det", 12.0, 12), ("single", "yes", True),
    ("single", "", False), ("single", False, False), ("classes", ["person", "car"], "person,car"), ("line", "0,0,1,1", ["0,0,1,1"]),
    ("max-age", "30", 30), ("model", None, None), ("hud", False, "off"), ("tiles", 2, "2"),
])
def test_check_value_coerces_text_and_json(name: str, value: object, expected: object) -> None:
    assert check_value(name, value) == expected


@pytest.mark.parametrize(("name", "value", "message"), [
    ("conf", "abc", "--conf 'abc' is not a number"), ("conf", "nan", "finite"), ("conf", math.inf, "finite"),
    ("conf", 1.5, "between 0 and 1"), ("max_det", 2.5, "not a whole number"), ("max_det", True, "not a whole number"),
    ("max_det", 0, "at least 1"), ("single", "maybe", "true or false"), ("crf", 52, "range"),
    ("conf", [0.1, 0.2], "given 2 times"), ("confidence", "1", "unknown"), ("output", 3, "not a path"),
])
def test_check_value_rejects_bad_values_in_one_line(name: str, value: object, message: str) -> None:
    with pytest.raises(OptionError) as info:
        check_value(name, value)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_python_api_coerces_through_the_table() -> None:
    """vidtrack.track(source, **options) checks values by the table (one line, in Python's terms)."""
    import vidtrack

    with pytest.raises(OptionError, match=r"conf='abc' is not a number"):
        vidtrack.track("clip.mp4", conf="abc")
    with pytest.raises(OptionError, match=r"max_det=0 is out of range"):
        vidtrack.track("clip.mp4", max_det=0)


def test_path_options_are_paths() -> None:
    assert {n for n, o in OPTIONS.items() if o.kind is Path} >= {
        "output", "jsonl", "mot", "summary", "events", "snapshots", "clips", "heatmap",
    }
