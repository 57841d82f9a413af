"""The option table (vidtrack.options.OPTIONS) is the one list of run options and their types."""

from __future__ import annotations

import math
import typing
from pathlib import Path

import pytest

from vidtrack.errors import OptionError
from vidtrack.options import OPTIONS, RUN_OPTIONS, check_value

#: ``vidtrack run`` parameters that are not run options: the sources and how the command behaves.
CLI_ONLY = {"ctx", "sources", "config", "quiet", "return"}


def _cli_types() -> dict[str, tuple[type, bool]]:
    """Each ``vidtrack run`` parameter -> (type of one value, repeatable)."""
    from vidtrack.cli.run_cmd import run_command

    out = {}
    for name, hint in typing.get_type_hints(run_command).items():
        if name in CLI_ONLY:
            continue
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        kind = args[0] if typing.get_origin(hint) is typing.Union and args else hint
        repeatable = typing.get_origin(kind) is list
        out[name] = (typing.get_args(kind)[0] if repeatable else kind, repeatable)
    return out


def test_the_run_command_signature_is_the_table() -> None:
    cli = _cli_types()
    assert set(cli) == set(OPTIONS), "add the option to vidtrack.options.OPTIONS (or the flag to cli/run_cmd.py)"
    for name, (kind, repeatable) in cli.items():
        assert (OPTIONS[name].kind, OPTIONS[name].repeatable) == (kind, repeatable), name
    assert RUN_OPTIONS == tuple(OPTIONS)


def test_every_option_is_in_a_group_that_request_from_options_maps() -> None:
    from vidtrack import options

    groups = (options.DETECTOR_OPTIONS + options.TRACKER_OPTIONS + options.SOURCE_OPTIONS + options.OVERLAY_OPTIONS
              + options.OUTPUT_OPTIONS + options.VIEW_OPTIONS + options.ANALYTICS_OPTIONS)
    assert sorted(groups) == sorted(OPTIONS)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("conf", "0.4", 0.4), ("conf", 1, 1.0), ("max_det", "12", 12), ("max_det", 12.0, 12), ("single", "yes", True),
    ("single", "", False), ("single", False, False), ("classes", ["person", "car"], "person,car"), ("line", "0,0,1,1", ["0,0,1,1"]),
    ("max-age", "30", 30), ("model", None, None),
])
def test_check_value_coerces_text_and_json(name: str, value: object, expected: object) -> None:
    assert check_value(name, value) == expected


@pytest.mark.parametrize(("name", "value", "message"), [
    ("conf", "abc", "not a float"), ("conf", "nan", "finite"), ("conf", math.inf, "finite"), ("conf", 1.5, "range"),
    ("max_det", 2.5, "not a int"), ("max_det", True, "not a int"), ("max_det", 0, "range"), ("single", "maybe", "true or false"),
    ("crf", 52, "range"), ("conf", [0.1, 0.2], "given 2 times"), ("confidence", "1", "unknown"),
])
def test_check_value_rejects_bad_values_in_one_line(name: str, value: object, message: str) -> None:
    with pytest.raises(OptionError) as info:
        check_value(name, value)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_path_options_are_paths() -> None:
    assert {n for n, o in OPTIONS.items() if o.kind is Path} == {
        "output", "jsonl", "mot", "summary", "events", "snapshots", "clips", "heatmap",
    }
