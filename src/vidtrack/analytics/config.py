"""The analytics options of a run, validated once: lines, zones, counting and visit rules, redaction.

Geometry stays as parsed specs (:class:`~vidtrack.analytics.geometry.Spec`) until the frame
size is known; :meth:`AnalyticsConfig.scene` then builds the pixel lines and polygons and
raises on coordinates outside the frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vidtrack.analytics.geometry import ANCHORS, Polygon, Segment, Spec, specs
from vidtrack.analytics.identity import LinkConfig
from vidtrack.analytics.lines import LineConfig
from vidtrack.analytics.redact import RedactConfig
from vidtrack.analytics.speed import WINDOW_S, SpeedZoneSpec, parse_speed_zone
from vidtrack.analytics.zones import ZoneConfig
from vidtrack.errors import OptionError


@dataclass(frozen=True)
class AnalyticsConfig:
    """Lines, zones and redaction of a run (all empty by default: the stage then does nothing)."""

    lines: tuple[Spec, ...] = ()
    zones: tuple[Spec, ...] = ()
    anchor: str = "bottom-center"  # the box point that crosses lines and sits in zones
    line: LineConfig = field(default_factory=LineConfig)
    zone: ZoneConfig = field(default_factory=ZoneConfig)
    link: LinkConfig = field(default_factory=LinkConfig)
    redact: RedactConfig = field(default_factory=RedactConfig)
    speed_zones: tuple[SpeedZoneSpec, ...] = ()  # ground quads with their size: speeds in km/h
    speed_limit: float | None = None  # km/h: a 'speeding' event once per track and zone above it
    speed_window: float = WINDOW_S  # seconds of track history each speed is fitted over

    def __post_init__(self) -> None:
        if self.anchor not in ANCHORS:
            raise OptionError(f"--anchor {self.anchor!r} is unknown", f"use one of {', '.join(ANCHORS)}")
        names = [self.name_of(s, "line", i) for i, s in enumerate(self.lines)]
        names += [self.name_of(s, "zone", i) for i, s in enumerate(self.zones)]
        names += [self.name_of(s, "speed", i) for i, s in enumerate(self.speed_zones)]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise OptionError(f"two lines or zones are named {dupes[0]!r}", "give each its own :name")
        if self.speed_limit is not None and not self.speed_limit > 0:
            raise OptionError(f"--speed-limit {self.speed_limit} is not a positive speed", "give km/h, e.g. 50")
        if self.speed_limit is not None and not self.speed_zones:
            raise OptionError("--speed-limit needs a --speed-zone to measure speeds in", "add --speed-zone x1,y1,...,x4,y4:WIDTH_M,LENGTH_M")
        if not self.speed_window > 0:
            raise OptionError(f"--speed-window {self.speed_window} must be positive seconds", "use e.g. 1")

    @classmethod
    def from_options(cls, **o: Any) -> "AnalyticsConfig":
        """From run option values (``line``, ``zone``, ``count_mode``...; None means the default)."""
        o = {k: v for k, v in o.items() if v is not None}
        line = {k: o[n] for n, k in (("count_mode", "count_mode"), ("line_margin", "margin"), ("line_confirm", "confirm_frames")) if n in o}
        zone = {k: o[n] for n, k in (("zone_entry_frames", "entry_frames"), ("zone_exit_grace", "exit_grace_s"), ("loiter", "loiter_s")) if n in o}
        link = {k: o[n] for n, k in (("link_gap", "max_gap_s"), ("link_distance", "max_distance")) if n in o}
        return cls(
            lines=specs(o.get("line"), "--line", 2, 2),
            zones=specs(o.get("zone"), "--zone", 3),
            anchor=o.get("anchor", "bottom-center"),
            line=LineConfig(**line),
            zone=ZoneConfig(**zone),
            link=LinkConfig(**link),
            speed_zones=tuple(parse_speed_zone(v) for v in ([o["speed_zone"]] if isinstance(o.get("speed_zone"), str) else o.get("speed_zone") or [])),
            speed_limit=o.get("speed_limit"),
            speed_window=o.get("speed_window", WINDOW_S),
            redact=RedactConfig.from_options(
                classes=o.get("redact"), regions=o.get("redact_region"), mode=o.get("redact_mode"),
                hold_frames=o.get("redact_hold"), labels=o.get("redact_labels"),
            ),
        )

    @staticmethod
    def name_of(spec: "Spec | SpeedZoneSpec", kind: str, index: int) -> str:
        """A spec's ``:name``, else ``line1``, ``zone2``... (1-based, in the order given)."""
        return spec.name or f"{kind}{index + 1}"

    @property
    def active(self) -> bool:
        """Whether the stage has anything to do."""
        return bool(self.lines or self.zones or self.redact.active or self.speed_zones)

    def geometry(
        self, width: int, height: int
    ) -> tuple[list[tuple[str, Segment]], list[tuple[str, Polygon, float | None]]]:
        """Lines and zones in pixels on a ``width`` x ``height`` frame.

        Raises:
            OptionError: a point outside the frame (by how much), equal line points, a bad polygon.
        """
        lines = []
        for i, spec in enumerate(self.lines):
            a, b = spec.points(width, height)
            if a == b:
                raise OptionError(f"--line {spec.text!r} has two equal points", "give two different points")
            lines.append((self.name_of(spec, "line", i), Segment(a, b)))
        zones = []
        for i, spec in enumerate(self.zones):
            zones.append((self.name_of(spec, "zone", i), Polygon(spec.points(width, height), f"--zone {spec.text!r}"), None))
        return lines, zones
