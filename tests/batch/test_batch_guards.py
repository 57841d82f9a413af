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


def test_snapshot_and_clip_folders_are_outputs_like_files(tmp_path: Path) -> None:
    """A killed batch's partial folders: removed, or renamed into place when their record is written;
    a folder is sized by its files, and a newer folder replaces an older one."""
    from vidtrack.batch.driver import _publish, _publish_recorded_partials, _remove_partials, output_size
    from vidtrack.batch.manifest import Manifest

    out = tmp_path / "out"
    stale = out / "north" / ".partial-1111dead00-a.clips"
    recorded = out / "north" / ".partial-2222dead00-b.snapshots"
    for folder, data in ((stale, b"xx"), (recorded, b"abc")):
        folder.mkdir(parents=True)
        (folder / "one.jpg").write_bytes(data)
    manifest = Manifest(out)
    manifest.append({"rel": "north/b.mp4", "status": DONE, "output_sizes": {"north/b.snapshots": 3}, "row": {}})
    _publish_recorded_partials(out, manifest, set())
    _remove_partials(out, set())
    manifest.close()
    assert not stale.exists() and not recorded.exists()
    assert output_size(out / "north" / "b.snapshots") == 3 and output_size(out / "north" / "a.clips") is None
    newer = out / "north" / ".partial-3333dead00-b.snapshots"
    newer.mkdir()
    (newer / "two.jpg").write_bytes(b"12345")
    _publish(newer, out / "north" / "b.snapshots")
    assert sorted(p.name for p in (out / "north" / "b.snapshots").iterdir()) == ["two.jpg"]


class RemoteStandIn(StandInEngine):
    """Returns each job's outputs as bytes, folders as {name: bytes}, as a Ray worker on another node does."""

    def __init__(self, shots: dict[str, bytes]) -> None:
        super().__init__()
        self.shots = shots

    def run(self, jobs: list[Any], on_result: Callable[..., bool], on_frames: Callable[[int], None]) -> None:
        for job in jobs:
            files: dict[str, Any] = {kind: b"{}\n" for kind in job.outputs if kind not in ("snapshots", "clips")}
            files.update(snapshots=dict(self.shots), clips={"clip-000001.mp4": b"mp4"})
            on_result(job, FileResult(rel=job.rel, status=DONE, summary={"frames": 1}, worker="node:1", files=files))


def test_snapshot_and_clip_folders_of_a_batch_come_back_from_remote_workers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.mp4").write_bytes(b"recording")
    out = tmp_path / "out"

    def batch(engine: StandInEngine, **kwargs: Any) -> list[dict]:
        monkeypatch.setattr(driver, "make_engine", lambda *args, **kw: engine)
        return run_batch([str(inputs)], str(out), {"model": model_path()}, video=False, snapshots=True, clips=True, **kwargs)

    (row,) = batch(RemoteStandIn({"track-1.jpg": b"one", "track-2.jpg": b"two"}))
    assert row["status"] == "done" and {"a.snapshots", "a.clips"} <= set(row["outputs"])
    assert sorted(p.name for p in (out / "a.snapshots").iterdir()) == ["track-1.jpg", "track-2.jpg"]
    assert (out / "a.clips" / "clip-000001.mp4").read_bytes() == b"mp4"
    assert [r["status"] for r in batch(RemoteStandIn({}))] == ["skipped"]  # folders intact: done
    (out / "a.snapshots" / "track-2.jpg").unlink()  # a folder changed since: redone, and replaced whole
    assert [r["status"] for r in batch(RemoteStandIn({"track-3.jpg": b"three"}))] == ["done"]
    assert sorted(p.name for p in (out / "a.snapshots").iterdir()) == ["track-3.jpg"]
    assert not list(out.rglob(".partial-*"))
