"""The batch against an unlucky operator (issue 23): inputs replaced mid-file, two batches in nested folders.

The engine is a stand-in (writes small outputs and reports them done) so these tests run in
a moment; what they check is the driver's bookkeeping, which is the same for every engine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import model_path

from vidtrack.batch import driver
from vidtrack.batch.driver import CHANGED_ERROR, run_batch
from vidtrack.batch.job import DONE, FileResult
from vidtrack.batch.manifest import OutDirLock


class StandInEngine:
    """Writes each job's outputs and reports it done; ``during(job)`` runs in between."""

    parallel = False

    def __init__(self, during: Callable[[Any], None] = lambda job: None) -> None:
        self.during = during

    def describe(self) -> str:
        return "stand-in"

    def connect(self, inputs: list[str]) -> None:
        pass

    def run(self, jobs: list[Any], on_result: Callable[..., bool], on_frames: Callable[[int], None]) -> None:
        for job in jobs:
            for path in job.outputs.values():
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                Path(path).write_text("{}\n")
            self.during(job)
            if not on_result(job, FileResult(rel=job.rel, status=DONE, summary={"frames": 1}, worker="here:1")):
                return

    def close(self) -> None:
        pass


def batch_with(monkeypatch: pytest.MonkeyPatch, engine: StandInEngine, inputs: Path, out: Path) -> dict[str, dict]:
    monkeypatch.setattr(driver, "make_engine", lambda *args, **kwargs: engine)
    rows = run_batch([str(inputs)], str(out), {"model": model_path()}, video=False)
    return {row["file"] if "file" in row else row["input"]: row for row in rows}


def rows_by_status(rows: dict[str, dict]) -> list[str]:
    return [row["status"] for row in rows.values()]


def test_an_input_replaced_while_processed_is_failed_and_redone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    clip = inputs / "a.mp4"
    clip.write_bytes(b"old recording")

    def replace(job: Any) -> None:
        clip.write_bytes(b"a new, longer recording")

    rows = batch_with(monkeypatch, StandInEngine(replace), inputs, tmp_path / "out")
    (row,) = rows.values()
    assert row["status"] == "failed" and row["error"] == CHANGED_ERROR, row
    assert not (tmp_path / "out" / "a.jsonl").exists()  # no outputs of the old recording kept
    records = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert records[-1]["status"] == "failed"
    assert records[-1]["input_identity"]["size"] == len(b"old recording")  # taken before, not after

    assert rows_by_status(batch_with(monkeypatch, StandInEngine(), inputs, tmp_path / "out")) == ["done"]
    assert rows_by_status(batch_with(monkeypatch, StandInEngine(), inputs, tmp_path / "out")) == ["skipped"]


@pytest.mark.parametrize("other_is_inside", [True, False])
def test_a_batch_keeps_the_partial_files_of_another_running_batch(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, other_is_inside: bool) -> None:
    inputs = tmp_path / "in"
    (inputs / "north").mkdir(parents=True)
    (inputs / "north" / "b.mp4").write_bytes(b"video")
    out = tmp_path / "out"
    (out / "north").mkdir(parents=True)
    other_dir, ours = (out / "north", out) if other_is_inside else (out, out / "north")
    other = OutDirLock(other_dir)
    other.acquire("4242abcdef")  # another batch, running now
    try:
        live = out / "north" / ".partial-4242abcdef-c.jsonl"
        stale = out / "north" / ".partial-1111dead00-c.jsonl"  # a killed batch's leftover
        live.write_text("in progress")
        stale.write_text("left over")
        batch_with(monkeypatch, StandInEngine(), inputs if other_is_inside else inputs / "north", ours)
        assert live.read_text() == "in progress"
        assert not stale.exists()
    finally:
        other.release()
