"""vidtrack: real-time video object detection and tracking.

Importing this package is instant and has no side effects: torch, ultralytics and
OpenCV are only imported by the stages that need them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
