"""``vidtrack run --config site.yaml`` (or ``.toml``): a camera's run options in a file.

Keys are the ``run`` options' names, with dashes or underscores (``max-age``, ``max_age``);
values are what the option takes. Repeatable options (``line``, ``zone``,
``redact-region``) take a list; each item is the option's text (``"0.5,0,0.5,1:door"``),
a list of ``[x, y]`` points, or ``{points: [[x, y], ...], name: door}``. Options given on
the command line override the file's.

Every problem is one :class:`~vidtrack.errors.OptionError` naming the file and the key:
unreadable or malformed file, unknown key, a value of the wrong type, a malformed line or
polygon (equal points, fewer than 3 points, self-intersecting).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from vidtrack.errors import OptionError
from vidtrack.options import OPTIONS, RUN_OPTIONS, check_known, check_value, flag, normalise_key

#: Options that take one geometry item per list entry: name → (flag, fewest points, most points).
GEOMETRY_KEYS = {"line": ("--line", 2, 2), "zone": ("--zone", 3, None), "redact_region": ("--redact-region", 3, None)}


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read and check a YAML or TOML options file → ``{option_name: value}`` (names normalised).

    Raises:
        OptionError: see the module docstring.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OptionError(f"cannot read --config {path} ({exc.strerror or exc})", "give an existing YAML or TOML file") from None
    data = _parse(path, text)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise OptionError(f"{path}: the file is not a mapping of option names to values", "write key: value lines")
    try:
        check_known(data, RUN_OPTIONS, where=f"key in {path}")
    except OptionError as exc:
        raise OptionError(exc.problem, exc.fix) from None
    options = {normalise_key(str(k)): v for k, v in data.items()}
    for key, value in options.items():
        if key in GEOMETRY_KEYS and value is not None:
            options[key] = _geometry(path, key, value)
        elif key in PATH_KEYS and isinstance(value, str) and value:
            options[key] = _beside(path, key, value)
    return options


#: Keys whose values are paths: relative ones are relative to the config file's folder, so a
#: site's file gives the same paths whatever the working directory.
PATH_KEYS = ("model", "output", "jsonl", "mot", "summary", "events")
#: ... and every other path option of the table (folders, heatmap, outputs registered with their option).
PATH_KEYS += tuple(name for name, option in OPTIONS.items() if issubclass(option.kind, Path) and name not in PATH_KEYS)


def _beside(path: Path, key: str, value: str) -> str:
    """``value`` resolved against ``path``'s folder when relative.

    A bare model name that is not a file beside the config (``yolo11n.pt``, which Ultralytics
    downloads by name) stays as written.
    """
    target = Path(value).expanduser()
    if target.is_absolute():
        return str(target)
    beside = path.parent / target
    if key == "model" and len(target.parts) == 1 and not beside.exists():
        return value
    return str(beside)


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise OptionError(f"{path} is not valid TOML ({exc})", "fix the file's syntax") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise OptionError(f"{path} is not valid YAML{where} ({problem})", "fix the file's syntax") from None


def _geometry(path: Path, key: str, value: Any) -> list[Any]:
    """Check every item of a line/zone/region list; errors name the file, key and item."""
    from vidtrack.geometry import check_shape, parse_spec

    flag, low, high = GEOMETRY_KEYS[key]
    items = [value] if isinstance(value, (str, Mapping)) else list(value) if isinstance(value, list) else None
    if items is None:
        raise OptionError(f"{path}: key {key!r} must be a list of items or one item", f"e.g. {key}: [\"0.5,0,0.5,1\"]")
    if items and all(isinstance(v, (int, float)) for v in items):
        items = [items]  # one flat list of numbers is one item
    out = []
    for i, item in enumerate(items, start=1):
        try:
            spec = parse_spec(item, flag, low, high)
            check_shape(spec)
        except OptionError as exc:
            raise OptionError(f"{path}: key {key!r}, item {i}: {exc.problem}", exc.fix) from None
        out.append(spec)
    return out


def merge_options(
    from_file: Mapping[str, Any], from_cli: Mapping[str, Any], given: set[str], source: str | Path | None = None
) -> dict[str, Any]:
    """The file's options with those ``given`` on the command line overriding them.

    Values from the file are coerced and checked by the option table
    (:func:`vidtrack.options.check_value`, the coercer every front end shares): ``"lots"`` for
    a number option is an error naming the key, not a traceback later. ``source``, the file's
    path, starts the message of such an error.
    """
    merged = dict(from_cli)
    for key, value in from_file.items():
        if key in given:
            continue
        try:
            merged[key] = check_value(key, value)
        except OptionError as exc:
            raise OptionError(f"{_where(source)}key {key!r}: {exc.problem}", exc.fix) from None
    return merged


def _where(source: str | Path | None) -> str:
    return "config " if source is None else f"{source}: "


def blame_file(error: OptionError, from_file: Mapping[str, Any], given: set[str], source: str | Path) -> OptionError:
    """``error`` prefixed with ``source`` and the key when it is about a value that came from the file.

    A bad value is reported by the option's flag (``--conf 2 must be ...``, ``--zone '...'
    is outside the frame``); when that option's value was the file's (not overridden on the
    command line), the user must look in the file, so the message names it and the key.
    """
    if str(source) in error.problem:
        return error
    for key in from_file:
        if key in given:
            continue
        if re.search(re.escape(flag(key)) + r"(?![\w-])", error.problem):
            return OptionError(f"{source}: key {key!r}: {error.problem}", error.fix)
    return error
