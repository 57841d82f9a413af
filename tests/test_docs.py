"""The README's option tables say what the code does: each default and trade-off comes from one place."""

from __future__ import annotations

import re
import typing
from dataclasses import MISSING, fields

import pytest

from conftest import PROJECT_ROOT
from vidtrack.config import DetectorConfig, OutputConfig, OverlayConfig, ScheduleConfig, SourceConfig
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
    found["hud"] = OverlayConfig.hud_mode  # --hud sets OverlayConfig.hud_mode
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


# ------------------------------------------------------------------ onboarding


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_quick_start_comes_first_and_works_in_order() -> None:
    """Model explained before the command that needs it; venv activated before any vidtrack command."""
    quick = _section("First five minutes")
    assert README.index("## First five minutes") < README.index("## Install") < README.index("## Usage")
    commands = [line.strip() for block in re.findall(r"```bash\n(.*?)```", quick, re.S) for line in block.splitlines()]
    first_vidtrack = next(i for i, c in enumerate(commands) if c.startswith("vidtrack "))
    demo = next(i for i, c in enumerate(commands) if c.startswith("make demo"))
    assert commands.index(". .venv/bin/activate") < first_vidtrack
    assert demo < first_vidtrack and "MODEL=../shared/assets/models/" in commands[demo]
    assert quick.index("The model") < quick.index("make demo")
    for command in commands:
        if command.startswith("vidtrack run"):
            assert "../shared/assets/" in command  # real files, not placeholders
            for path in re.findall(r"(?:-o|--jsonl|--events|--summary) (\S+)", command):
                assert path.startswith("out/"), command  # outputs in the ignored out/ folder


def test_example_outputs_folder_is_ignored_and_makefile_takes_model() -> None:
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert "out/" in ignored
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "MODEL ?=" in makefile and "--model" in makefile
    demo_setup = makefile[makefile.index("$(STAMP): pyproject.toml") :].split("\n\n")[0]
    assert "-e ." in demo_setup and "[dev]" not in demo_setup  # the demo installs the package only
    assert "test: setup-dev" in makefile


def test_measurements_live_in_docs_and_links_resolve() -> None:
    """Benchmark tables are in docs/performance.md; every README link to a file or anchor exists."""
    performance = (PROJECT_ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    assert "| ratio |" not in README and "x InferenceSlicer time" not in README and "| wall s |" not in README
    assert "| ratio |" in performance
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", README, re.M)}
    doc_anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", performance, re.M)}
    for target in re.findall(r"\]\(([^)\s]+)\)", README) + re.findall(r'src="([^"]+)"', README):
        if target.startswith("http"):
            continue
        path, _, anchor = target.partition("#")
        if path:
            assert (PROJECT_ROOT / path).exists(), target
        if anchor:
            assert anchor in (doc_anchors if path == "docs/performance.md" else anchors), target


def test_run_help_is_plain_and_grouped() -> None:
    """No Python type names; everyday options before the Advanced panels; examples; -h and --version."""
    import subprocess
    import sys

    env = {"COLUMNS": "100", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT / "src")}
    text = subprocess.run([sys.executable, "-m", "vidtrack", "run", "-h"], capture_output=True, text=True, env=env,
                          check=True).stdout
    assert not re.search(r"<(bool|str|int|float|path|list\[\w+\])>", text), text
    assert "--output" in text and "--iou-threshold" not in text and "--help-all" in text  # knobs left out of -h
    assert "Examples" in text and "vidtrack run photo.jpg -o out/photo.jpg" in text
    assert len(text.splitlines()) < 120
    full = subprocess.run([sys.executable, "-m", "vidtrack", "run", "--help-all"], capture_output=True, text=True,
                          env=env, check=True).stdout
    assert full.index("╭─ Options") < full.index("╭─ Advanced: detector") < full.index("--iou-threshold")
    assert not re.search(r"<(bool|str|int|float|path|list\[\w+\])>", full), full
    version = subprocess.run([sys.executable, "-m", "vidtrack", "--version"], capture_output=True, text=True,
                             env=env, check=True).stdout
    assert version.startswith("vidtrack ")
