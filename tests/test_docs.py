"""The README's option tables say what the code does: each default and trade-off comes from one place."""

from __future__ import annotations

import re
import typing
from dataclasses import MISSING, fields

import pytest

from conftest import PROJECT_ROOT
from vidtrack.config import DetectorConfig, OutputConfig, ScheduleConfig, SourceConfig
from vidtrack.options import TRACKER_OPTIONS
from vidtrack.tracking import TrackerConfig

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
CONFIGS = (DetectorConfig, SourceConfig, OutputConfig, TrackerConfig, ScheduleConfig)


def _defaults() -> dict[str, object]:
    """Option name -> default, from the config dataclasses (the one place defaults are written)."""
    found: dict[str, object] = {}
    for config in CONFIGS:
        for f in fields(config):
            if f.default is not MISSING:
                found[f.name] = f.default
    return found


def _table(header: str) -> list[list[str]]:
    start = README.index(header)
    rows = []
    for line in README[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _same(text: str, value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        try:
            return float(text) == float(value)
        except ValueError:
            return False
    return text == str(value)


def test_tracker_table_matches_the_tracker_config() -> None:
    from vidtrack.cli.tracker_options import RawBoxesOption

    rows = {row[0].strip("`"): row for row in _table("| option | default | trade-off |")}
    assert set(rows) == {"--" + name.replace("_", "-") for name in TRACKER_OPTIONS}
    by_name = {f.name: f for f in fields(TrackerConfig)}
    for flag, (_, default, trade_off) in rows.items():
        name = flag[2:].replace("-", "_")
        if name == "raw_boxes":
            assert default == "off" and TrackerConfig().smooth_boxes is True
            assert trade_off == typing.get_args(RawBoxesOption)[1].help
            continue
        knob = by_name[name]
        assert _same(default, knob.default), (flag, default, knob.default)
        help_text = knob.metadata["help"]
        assert trade_off == help_text[help_text.index("Raise: ") :], flag


def test_usage_table_values_are_the_defaults() -> None:
    defaults = _defaults()
    checked = 0
    for row in _table("| option | meaning |"):
        for flag, value in re.findall(r"`--([a-z-]+) ([^`A-Z]+)`", row[0]):
            name = flag.replace("-", "_")
            if name == "classes":  # an example value, not a default
                continue
            assert name in defaults, flag
            assert _same(value, defaults[name]), (flag, value, defaults[name])
            checked += 1
    assert checked >= 6


@pytest.mark.parametrize(("command", "least"), [("run", 10), ("eval", 10), ("bench", 4)])
def test_cli_defaults_are_the_config_defaults(command: str, least: int) -> None:
    """No option default is retyped in the CLI: each equals its config field's default."""
    import typer.main

    from vidtrack.cli import app

    click_command = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    defaults = _defaults()
    compared = 0
    for param in click_command.params:
        if param.name in defaults and param.name != "model":
            assert param.default == defaults[param.name], (command, param.name, param.default)
            compared += 1
    assert compared >= least
