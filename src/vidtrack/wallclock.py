"""Wall-clock time of frames: ``--start-time ISO8601|auto`` and the rules of ``auto``.

A frame's ``time`` is the recording's start plus the frame's presentation time (``pts``,
seconds), written as ISO 8601 with a UTC offset and milliseconds
(``2026-12-06T14:30:00.400+01:00``). Nothing here reads files: the runner hands
:func:`start_from_name` a file name and :func:`start_from_creation_time` the container's
``creation_time`` tag (see ``sources.files.creation_time``).

``auto`` tries, in this order (the first that gives a plausible time wins; the summary
says which, in ``start_time_source``):

1. the container's ``creation_time`` tag (MP4/MOV/MKV as cameras and phones write it; UTC);
2. the file name, in the machine's local time zone (NVRs name files in local time):

   * ``YYYYMMDD_HHMMSS`` (also ``-``, ``T`` or nothing between; phones ``VID_20261206_143000``),
   * ``YYYY-MM-DD_HH-MM-SS`` (also ``_``, `` ``, ``T`` between, and ``-``, ``.``, ``:`` in the time; OBS),
   * Hikvision/Dahua style ``ch01_20261206143000`` (14 digits after a channel prefix).

Live sources use the capture clock (the machine's clock when each frame was captured).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from vidtrack.errors import OptionError

#: ``--start-time`` value that asks for the start to be found (container tag, file name).
AUTO = "auto"

#: Years outside this range are taken for a camera's unset clock (1970, 2000-01-01...), not a time.
PLAUSIBLE_YEARS = (2001, 2100)

#: File-name patterns of ``auto``, most specific first: (name in the summary, regex). Each
#: regex has the groups Y, m, d, H, M, S. Digits may not touch other digits on either side,
#: so a frame counter or a file size is never read as a date.
NAME_PATTERNS: tuple[tuple[str, "re.Pattern[str]"], ...] = (
    ("YYYY-MM-DD_HH-MM-SS", re.compile(
        r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[_ T](\d{2})[-.:](\d{2})[-.:](\d{2})(?!\d)")),
    ("YYYYMMDD_HHMMSS", re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})[_T-](\d{2})(\d{2})(\d{2})(?!\d)")),
    ("chNN_YYYYMMDDHHMMSS", re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?!\d)")),
)


def parse_start_time(value: Any) -> datetime | str | None:
    """``--start-time`` → an aware datetime, :data:`AUTO`, or None (not given).

    Accepts ISO 8601 (``2026-12-06T14:30:00+01:00``, ``...Z``, a space for the ``T``) and a
    ``datetime`` (YAML config files parse timestamps themselves). A time without an offset
    is taken in the machine's local time zone.

    Raises:
        OptionError: the text is neither ``auto`` nor an ISO 8601 date and time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.astimezone()
    text = str(value).strip()
    if text.lower() == AUTO:
        return AUTO
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise OptionError(
            f"--start-time {text!r} is not an ISO 8601 time",
            "use e.g. 2026-12-06T14:30:00+01:00, or auto (container tag, then file name)",
        ) from None
    return when if when.tzinfo is not None else when.astimezone()


def _plausible(when: datetime) -> bool:
    return PLAUSIBLE_YEARS[0] <= when.year <= PLAUSIBLE_YEARS[1]


def start_from_creation_time(tag: str | None) -> datetime | None:
    """A container's ``creation_time`` tag (``2026-12-06T13:30:00.000000Z``) → aware datetime, or None.

    Tags without an offset are UTC, as the MP4/MOV and Matroska specifications define them.
    Unset camera clocks (years outside :data:`PLAUSIBLE_YEARS`) and unreadable tags give None.
    """
    if not tag:
        return None
    text = tag.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when if _plausible(when) else None


def start_from_name(name: str) -> tuple[datetime, str] | None:
    """The recording start encoded in a file name, and the pattern that matched; None when none does.

    The time is read in the machine's local time zone (NVRs and phones name files in local
    time). See the module docstring for the patterns.
    """
    for label, pattern in NAME_PATTERNS:
        for match in pattern.finditer(name):
            try:
                naive = datetime(*(int(g) for g in match.groups()))  # type: ignore[misc]
            except ValueError:  # month 13, second 61...: not a date
                continue
            if _plausible(naive):
                return naive.astimezone(), label
    return None


def iso(when: datetime) -> str:
    """``2026-12-06T14:30:00.400+01:00``: ISO 8601, milliseconds, the time's own UTC offset."""
    return when.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class WallClock:
    """Maps a frame's presentation time (seconds) to a wall-clock time.

    ``start`` is the wall-clock time of presentation time 0; ``source`` says where it came
    from (``option``, ``creation_time``, ``file name YYYYMMDD_HHMMSS``, ``capture clock``).
    """

    start: datetime
    source: str

    def at(self, pts: float) -> datetime:
        """The wall-clock time ``pts`` seconds after the start."""
        return self.start + timedelta(seconds=float(pts))

    def iso(self, pts: float) -> str:
        """:meth:`at` as ISO 8601 with milliseconds and the UTC offset."""
        return iso(self.at(pts))


def capture_clock(pts: float, captured: float, now_wall: float, now_monotonic: float) -> WallClock:
    """The clock of a live source from one frame: its ``pts``, its ``captured`` (monotonic) reading
    and a simultaneous reading of both clocks; times are in the machine's local time zone."""
    start = now_wall - (now_monotonic - captured) - pts
    return WallClock(datetime.fromtimestamp(start, timezone.utc).astimezone(), "capture clock")
