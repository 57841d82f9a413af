"""The --show window: a clear error where no display exists, and the UI loop with a fake highgui."""

from __future__ import annotations

import time

import numpy as np
import pytest

from vidtrack.errors import VidtrackError
from vidtrack.frames import Frame, FrameResult
from vidtrack.viewers.window import WindowView, display_problem, highgui_problem


class FakeGui:
    """Records highgui calls; ``keys`` are returned by successive waitKey calls."""

    WINDOW_NORMAL = 0
    WND_PROP_VISIBLE = 4

    def __init__(self, keys: list[int] | None = None) -> None:
        self.keys = list(keys or [])
        self.shown: list[tuple[str, int]] = []  # (window, first pixel value = frame number)
        self.closed_windows: set[str] = set()
        self.destroyed = False

    def namedWindow(self, name: str, flags: int) -> None:
        pass

    def imshow(self, name: str, image: np.ndarray) -> None:
        self.shown.append((name, int(image[0, 0, 0])))

    def waitKey(self, ms: int) -> int:
        return self.keys.pop(0) if self.keys else -1

    def getWindowProperty(self, name: str, prop: int) -> float:
        return 0.0 if name in self.closed_windows else 1.0

    def destroyAllWindows(self) -> None:
        self.destroyed = True


def result(i: int, source_id: int = 0) -> FrameResult:
    image = np.full((8, 8, 3), i, np.uint8)
    return FrameResult(Frame(image, i, 0.0, 0.0, source_id), None, image, source_name=f"cam{source_id}")


def test_no_display_gives_a_clear_error_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    with pytest.raises(VidtrackError) as info:
        WindowView()
    assert "DISPLAY" in str(info.value) and "--serve" in str(info.value)


def test_display_problem_checks_the_x_socket() -> None:
    assert "not running" in display_problem({"DISPLAY": ":4321"}, "linux")
    assert display_problem({}, "darwin") is None and display_problem({}, "win32") is None
    assert "WAYLAND_DISPLAY" in display_problem({}, "linux")


def test_headless_opencv_build_is_detected() -> None:
    class Headless:
        def getBuildInformation(self) -> str:
            return "  GUI:                           NONE\n  Video I/O:\n"

    assert "headless" in highgui_problem(Headless())


def test_shows_only_the_newest_frame_per_source_and_q_quits() -> None:
    quits: list[int] = []
    gui = FakeGui(keys=[-1, ord("q")])
    view = WindowView(on_quit=lambda: quits.append(1), ui_thread=False, gui=gui)
    for i in range(5):  # the pipeline outruns the screen: only the last one is shown
        view.write(result(i))
    view.write(result(9, source_id=1))
    view.pump()
    assert sorted(gui.shown) == [("vidtrack - cam0", 4), ("vidtrack - cam1", 9)]
    assert not view.quit_requested.is_set()
    view.pump()
    assert view.quit_requested.is_set() and quits == [1]
    view.pump()  # more keys/pumps do not call on_quit again
    assert quits == [1]
    view.close()
    assert gui.destroyed


def test_closing_the_window_quits_and_the_ui_thread_runs_by_itself() -> None:
    gui = FakeGui()
    view = WindowView(gui=gui)  # ui_thread=True: pumps on its own thread
    view.write(result(1))
    deadline = time.monotonic() + 5
    while not gui.shown and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gui.shown == [("vidtrack - cam0", 1)]
    gui.closed_windows.add("vidtrack - cam0")  # the user clicks the window's close button
    assert view.quit_requested.wait(5)
    view.close()
    assert gui.destroyed


WINDOW_SCRIPT = """
import sys, numpy as np, cv2
from vidtrack.viewers.window import WindowView
from vidtrack.frames import Frame, FrameResult
view = WindowView(ui_thread=False)
for name, (h, w) in (("small", (360, 480)), ("uhd", (2160, 3840))):
    image = np.full((h, w, 3), 90, np.uint8)
    for i in range(10):
        view.write(FrameResult(Frame(image, i, 0.0, 0.0, 0 if name == "small" else 1), None, image,
                               source_name=name))
        view.pump(10)
    x, y, rw, rh = cv2.getWindowImageRect("vidtrack - " + name)
    print(name, rw, rh, flush=True)
view.close()
"""


def test_window_opens_at_frame_size_fitted_to_the_screen_and_quietly(tmp_path) -> None:
    """Under a real X server (Xvfb, 1280x720): a 480x360 video opens at 480x360, a 4K one
    scaled to fit the screen with its aspect kept, and Qt prints nothing."""
    import os
    import shutil
    import subprocess
    import sys

    from conftest import PROJECT_ROOT, in_ci

    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if in_ci():
            pytest.fail("Xvfb is missing (.ci/run installs xvfb)")
        pytest.skip("Xvfb is not installed")
    display = None
    for number in range(140, 200):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(f"/tmp/.X{number}-lock"):
            display = number
            break
    assert display is not None
    server = subprocess.Popen([xvfb, f":{display}", "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(f"/tmp/.X11-unix/X{display}"):
            assert time.monotonic() < deadline and server.poll() is None, "Xvfb did not start"
            time.sleep(0.05)
        env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
        env.update(DISPLAY=f":{display}", PYTHONPATH=str(PROJECT_ROOT / "src"))
        env.pop("WAYLAND_DISPLAY", None)
        result = subprocess.run([sys.executable, "-c", WINDOW_SCRIPT], capture_output=True, text=True, env=env,
                                timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    sizes = {line.split()[0]: (int(line.split()[1]), int(line.split()[2])) for line in result.stdout.splitlines()}
    assert sizes["small"] == (480, 360)
    width, height = sizes["uhd"]
    assert width <= 1280 and height <= 720 and width >= 1000  # fitted to the screen, not tiny
    assert abs(width / height - 16 / 9) < 0.02  # aspect kept
    assert result.stderr.strip() == "", result.stderr  # no QFontDatabase noise
