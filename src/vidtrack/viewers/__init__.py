"""Watching a run live: an OpenCV window (``--show``) or a small web page (``--serve``).

Both are sinks: the pipeline's output thread calls ``write(result)`` for every annotated
frame and ``close()`` at the end. ``write`` never blocks the pipeline: a viewer keeps only
the newest frame per source and drops the rest.
"""

from vidtrack.viewers.web import WebView, parse_serve_address
from vidtrack.viewers.window import WindowView

__all__ = ["WebView", "WindowView", "parse_serve_address"]
