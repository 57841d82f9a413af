"""Watching a run live: an OpenCV window (``--show``) or a small web page (``--serve``).

The window lives here; the web page is the web layer's (:class:`vidtrack.web.view.WebView`),
handed to :func:`vidtrack.runner.execute` by the entry points that offer ``--serve``.

Both are sinks: the pipeline's output thread calls ``write(result)`` for every annotated
frame and ``close()`` at the end. ``write`` never blocks the pipeline: a viewer keeps only
the newest frame per source and drops the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

from vidtrack.viewers.window import WindowView

if TYPE_CHECKING:
    from vidtrack.errors import VidtrackError
    from vidtrack.frames import FrameResult
    from vidtrack.frames import SourceStatus

__all__ = ["Viewer", "WindowView"]


class Viewer(Protocol):
    """What a run relies on in a live viewer (:class:`WindowView`, :class:`WebView`).

    A viewer is shared by all lanes: ``write`` comes from every lane's output thread and
    must not block; the runner closes it once after the run.
    """

    #: Where to watch (the web page's address), None when there is nothing to open.
    url: str | None
    #: Called (from the viewer's thread) when the user quits in the viewer; the runner sets it.
    on_quit: Callable[[], None] | None
    #: Set when the viewer failed mid-run (no display...); the run goes on and reports it.
    error: VidtrackError | None

    def add_source(self, source_id: int, name: str, status: Callable[[], SourceStatus] | None = None) -> None:
        """Announce a source before its first frame; ``status`` is polled for its state."""

    def write(self, result: FrameResult) -> None:
        """Take the newest finished frame; never blocks the pipeline."""

    def close(self) -> None:
        """Stop showing; idempotent."""
