"""The runner's contracts with its stages: viewers, sources that reconnect, warnings that reach the user."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import vidtrack.runner as runner
from conftest import SquareDetector, make_clip
from vidtrack.frames import Frame, FrameResult, SourceInfo
from vidtrack.runner import RunRequest, execute
from vidtrack.sources import SourceState, SourceStatus


class FakeViewer:
    """A :class:`vidtrack.viewers.Viewer` that records what the runner does with it."""

    def __init__(self, error: Exception | None = None) -> None:
        self.url = "http://127.0.0.1:1/live"
        self.on_quit: Callable[[], None] | None = None
        self.error = error
        self.sources: list[tuple[int, str]] = []
        self.frames = 0
        self.closed = False

    def add_source(self, source_id: int, name: str, status: Any = None) -> None:
        self.sources.append((source_id, name))

    def write(self, result: FrameResult) -> None:
        self.frames += 1

    def close(self) -> None:
        self.closed = True


def test_viewer_contract_url_sources_quit_and_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidtrack.errors import VidtrackError

    viewer = FakeViewer(error=VidtrackError("--show: the window failed: display gone", "run without --show"))
    monkeypatch.setattr(runner, "_make_viewers", lambda request, web_view=None: [viewer])
    started: list[str | None] = []
    clip = make_clip(tmp_path / "clip.avi", frames=12)
    outcome = execute(RunRequest(sources=[str(clip)]), on_start=lambda infos, url: started.append(url),
                      detector=SquareDetector())
    assert started == [viewer.url] and outcome.viewer_url == viewer.url
    assert viewer.sources == [(0, "clip.avi")] and viewer.frames == 12 and viewer.closed
    assert viewer.on_quit is not None  # the runner wired quitting to the pipeline's stop
    assert any("display gone" in w for w in outcome.warnings)  # an error set mid-run reaches the user


class ReconnectingCamera:
    """A live source showing one square; after frame ``gap_at`` it reports a reconnect."""

    truncated = False
    size_changes = ()
    error = None

    def __init__(self, frames: int, gap_at: int) -> None:
        self.info = SourceInfo("cam", 160, 120, None, None, is_live=True)
        self.status = SourceStatus(SourceState.CONNECTED)
        self.reconnects = 0
        self.count, self.gap_at = frames, gap_at

    def frames(self):
        import time

        for i in range(self.count):
            if i == self.gap_at:
                self.reconnects += 1
            image = np.zeros((120, 160, 3), np.uint8)
            image[40:70, 20 + i : 45 + i] = (40, 200, 250)
            yield Frame(image, i, i / 30, time.monotonic())
            time.sleep(0.005)

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self.status = SourceStatus(SourceState.ENDED)


def test_a_reconnect_ends_every_track(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a gap the same object gets a new id: old boxes belong to another picture."""
    camera = ReconnectingCamera(frames=16, gap_at=8)
    monkeypatch.setattr(runner, "_open_sources", lambda request: [camera])
    seen: list[FrameResult] = []
    execute(RunRequest(sources=["cam"]), on_frame=lambda lane, result: seen.append(result),
            detector=SquareDetector())
    ids = {r.frame.index: list(r.detections.tracker_id) for r in seen if len(r.detections)}
    before = {i for index, row in ids.items() if index < 8 for i in row}
    after = {i for index, row in ids.items() if index >= 8 for i in row}
    assert before == {1} and after == {2}, ids


def test_a_source_that_gives_up_mid_run_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from vidtrack.errors import SourceError

    class GivesUp(ReconnectingCamera):
        def frames(self):
            yield from super().frames()
            self.error = SourceError("cam did not come back after 3 reconnect attempts", "check the camera")

    camera = GivesUp(frames=4, gap_at=99)
    monkeypatch.setattr(runner, "_open_sources", lambda request: [camera])
    outcome = execute(RunRequest(sources=["cam"]), detector=SquareDetector())
    assert any("ended early" in w and "3 reconnect attempts" in w for w in outcome.warnings), outcome.warnings
    assert "3 reconnect attempts" in outcome.summaries[0]["source_error"]


def test_no_thread_of_the_run_outlives_it(tmp_path: Path) -> None:
    """When ``execute`` returns, every thread it started has ended.

    A thread still alive then may hold the last reference to the pipeline and its detector,
    and free them while the interpreter exits: native destructors (OpenVINO's) that re-take
    the GIL in a daemon thread abort the process ("terminate called without an active
    exception", exit status 134). The cancel watcher used to linger up to 0.2 s.
    """
    import threading

    clip = make_clip(tmp_path / "clip.avi", frames=12)
    before = set(threading.enumerate())
    outcome = execute(RunRequest(sources=[str(clip)]), detector=SquareDetector(), cancel=threading.Event())
    assert outcome.error is None
    # Background imports (runner._import_in_background) hold no part of the run.
    left = [t.name for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith("import-")]
    assert left == []
