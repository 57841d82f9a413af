"""``--show``: the annotated video in an OpenCV window per source; q or Esc quits.

All highgui calls happen on one UI thread owned by the viewer (GUI toolkits want one
thread), fed by a one-slot mailbox per source, so ``write`` from the pipeline never
waits for the screen. On macOS, where windows must live on the main thread, the owner
passes ``ui_thread=False`` and calls :meth:`WindowView.pump` from the main thread.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from vidtrack.errors import VidtrackError

if TYPE_CHECKING:
    import numpy as np

    from vidtrack.frames import FrameResult

#: Milliseconds the UI loop waits for a key per turn: the window's refresh latency.
KEY_WAIT_MS = 15
_QUIT_KEYS = {ord("q"), ord("Q"), 27}  # 27 = Esc
_NO_DISPLAY_FIX = "use --serve PORT to watch in a browser instead (works on headless machines and over SSH)"


def display_problem(environ: dict[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why no window can be shown here, or None when a display looks reachable.

    Checked before touching highgui because some GUI backends abort the whole process
    when the display named by $DISPLAY cannot be reached.
    """
    environ = dict(os.environ if environ is None else environ)
    platform = platform or sys.platform
    if not platform.startswith("linux") and "bsd" not in platform:
        return None  # Windows and macOS always have a window server in a desktop session
    wayland = environ.get("WAYLAND_DISPLAY")
    if wayland:
        path = Path(wayland) if os.path.isabs(wayland) else Path(environ.get("XDG_RUNTIME_DIR", "/run/user")) / wayland
        if path.exists():
            return None
    display = environ.get("DISPLAY")
    if not display:
        return "no display: neither DISPLAY nor WAYLAND_DISPLAY is set (a headless machine or an SSH session without X forwarding)"
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return f"DISPLAY={display!r} is not a valid X display name"
    if host in ("", "unix"):
        if Path(f"/tmp/.X11-unix/X{number}").exists():
            return None
        return f"the X display {display} is not running (no /tmp/.X11-unix/X{number})"
    try:
        with socket.create_connection((host, 6000 + int(number)), timeout=0.5):
            return None
    except OSError:
        return f"the X display {display} cannot be reached"


def highgui_problem(gui: Any) -> str | None:
    """Why this OpenCV build cannot open windows (e.g. opencv-python-headless), or None."""
    try:
        info = gui.getBuildInformation()
    except AttributeError:  # not OpenCV (a test double): trust it
        return None
    for line in info.splitlines():
        if line.strip().startswith("GUI:") and line.split(":", 1)[1].strip().upper() in ("NONE", "NO"):
            return "this OpenCV build has no GUI support (opencv-python-headless)"
    return None


#: Share of the screen a window may take when it opens (room for title bar and panels).
SCREEN_SHARE = 0.9
#: Where Qt finds fonts when the wheel's own font folder is missing (Debian, Fedora, Arch).
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype", "/usr/share/fonts/TTF", "/usr/share/fonts")


def quiet_qt(environ: "os._Environ[str] | dict[str, str] | None" = None) -> None:
    """Point Qt at the system fonts and silence its own warnings, before the first window.

    OpenCV's Qt looks for fonts in a folder the pip wheel does not ship and prints
    "QFontDatabase: Cannot find font directory" lines; settings the user made are kept.
    """
    env = os.environ if environ is None else environ
    if "QT_QPA_FONTDIR" not in env:
        for folder in FONT_DIRS:
            if os.path.isdir(folder):
                env["QT_QPA_FONTDIR"] = folder
                break
    env.setdefault("QT_LOGGING_RULES", "*.debug=false;qt.qpa.*=false;qt.text.font.*=false")


def screen_size() -> tuple[int, int] | None:
    """The X screen's size in pixels, or None when it cannot be asked (no X, Wayland only, not Linux)."""
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        return None
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    if not name:
        return None
    try:
        xlib = ctypes.CDLL(name)
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        display = xlib.XOpenDisplay(None)
        if not display:
            return None
        try:
            for fn in (xlib.XDefaultScreen, xlib.XDisplayWidth, xlib.XDisplayHeight):
                fn.argtypes = [ctypes.c_void_p] + ([ctypes.c_int] if fn is not xlib.XDefaultScreen else [])
            screen = xlib.XDefaultScreen(display)
            return int(xlib.XDisplayWidth(display, screen)), int(xlib.XDisplayHeight(display, screen))
        finally:
            xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
            xlib.XCloseDisplay(display)
    except (OSError, AttributeError):
        return None


def fit_to_screen(width: int, height: int, screen: tuple[int, int] | None) -> tuple[int, int]:
    """``width`` x ``height`` scaled down, aspect kept, to SCREEN_SHARE of ``screen``; never scaled up."""
    if screen is None:
        return width, height
    scale = min(1.0, SCREEN_SHARE * screen[0] / width, SCREEN_SHARE * screen[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


class WindowView:
    """One window per source showing its newest annotated frame.

    Pressing q or Esc, or closing a window, sets ``quit_requested`` and calls ``on_quit``
    (the pipeline's stop) once. ``gui`` is the highgui implementation: cv2 by default.
    """

    def __init__(
        self,
        title: str = "vidtrack",
        on_quit: Callable[[], None] | None = None,
        ui_thread: bool = sys.platform != "darwin",
        gui: Any = None,
    ) -> None:
        if gui is None:
            problem = display_problem()
            if problem is None:
                import cv2

                gui = cv2
                problem = highgui_problem(gui)
                fix = _NO_DISPLAY_FIX + ", or install opencv-python (with GUI) in place of opencv-python-headless"
            else:
                fix = _NO_DISPLAY_FIX
            if problem:
                raise VidtrackError(f"--show cannot open a window: {problem}", fix)
        self.title = title
        self.gui = gui
        self.on_quit = on_quit
        #: Set once the user asked to quit (q, Esc, or a closed window).
        self.quit_requested = threading.Event()
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[str, "np.ndarray"]] = {}  # source_id -> newest (window, image)
        self._shown: set[str] = set()  # windows open on screen
        self._created = False  # any window was ever opened (so close() must destroy)
        self._wake = threading.Event()
        self._closing = threading.Event()
        #: Set when the UI loop failed (the display went away...); the run is asked to stop.
        self.error: VidtrackError | None = None
        self._thread: threading.Thread | None = None
        if ui_thread:
            self._thread = threading.Thread(target=self._ui_loop, name="window-viewer", daemon=True)
            self._thread.start()

    #: A window has no address to open.
    url: str | None = None

    def add_source(self, source_id: int, name: str, status: Callable[[], Any] | None = None) -> None:
        """Nothing to do before the first frame: a source's window opens with it."""

    def write(self, result: "FrameResult") -> None:
        """Replace the frame waiting to be shown for this source (never blocks)."""
        image = result.annotated if result.annotated is not None else result.frame.image
        name = result.source_name
        window = f"{self.title} - {name}" if name else f"{self.title} [{result.frame.source_id}]"
        with self._lock:
            self._pending[result.frame.source_id] = (window, image)
        self._wake.set()

    def pump(self, wait_ms: int = KEY_WAIT_MS) -> None:
        """Show pending frames and handle keys once; the UI loop's body (call it from the
        main thread when ``ui_thread=False``)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for window, image in pending.values():
            if window not in self._shown:
                self._open_window(window, image.shape[1], image.shape[0])
            self.gui.imshow(window, image)
        key = self.gui.waitKey(wait_ms) if self._shown else -1
        if key is not None and key >= 0 and (key & 0xFF) in _QUIT_KEYS:
            self._quit()
        for window in list(self._shown):
            try:
                visible = self.gui.getWindowProperty(window, getattr(self.gui, "WND_PROP_VISIBLE", 4))
            except Exception:  # some backends raise for a window the user destroyed
                visible = 0
            if visible is not None and visible < 1:
                self._shown.discard(window)
                self._quit()

    def _open_window(self, window: str, width: int, height: int) -> None:
        """A resizable window that keeps the picture's aspect ratio, opened at the frame's
        size scaled down (never up) to fit the screen."""
        gui = self.gui
        if not self._created:
            quiet_qt()
        flags = getattr(gui, "WINDOW_NORMAL", 0) | getattr(gui, "WINDOW_KEEPRATIO", 0)
        flags |= getattr(gui, "WINDOW_GUI_NORMAL", 0)  # no toolbar/status bar eating the picture
        gui.namedWindow(window, flags)
        fitted = fit_to_screen(width, height, screen_size())
        if hasattr(gui, "resizeWindow"):
            gui.resizeWindow(window, *fitted)
        self._shown.add(window)
        self._created = True

    def close(self) -> None:
        """Close the windows and stop the UI thread. Idempotent."""
        self._closing.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        elif self._thread is None:
            self._destroy()

    def _quit(self) -> None:
        if self.quit_requested.is_set():
            return
        self.quit_requested.set()
        if self.on_quit is not None:
            self.on_quit()

    def _destroy(self) -> None:
        if self._created:
            try:
                self.gui.destroyAllWindows()
                self.gui.waitKey(1)  # let the toolkit process the close
            except Exception:
                pass
            self._shown.clear()
            self._created = False

    def _ui_loop(self) -> None:
        try:
            while not self._closing.is_set():
                if not self._shown:
                    # Nothing on screen yet: sleep until a frame arrives instead of spinning.
                    self._wake.wait(0.1)
                    self._wake.clear()
                self.pump()
        except Exception as exc:  # a broken display must not crash the pipeline: stop it cleanly
            self.error = VidtrackError(f"--show: the window failed: {exc}", _NO_DISPLAY_FIX)
            self._quit()
        finally:
            self._destroy()
