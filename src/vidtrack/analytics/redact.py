"""Redaction placeholder (filled in below)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RedactConfig:
    classes: tuple[str, ...] = ()
    regions: tuple = ()
    mode: str = "blur"
    hold_frames: int = 5
    labels: bool = False

    @property
    def active(self) -> bool:
        return bool(self.classes or self.regions)

    @classmethod
    def from_options(cls, **o: Any) -> "RedactConfig":
        return cls()
