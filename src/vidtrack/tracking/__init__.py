"""The project's online IoU tracker and its offline refinement.

Imports numpy and scipy only: no OpenCV, torch or ultralytics, and supervision only
when ``IoUTracker.update`` is handed an ``sv.Detections``.
"""

from vidtrack.tracking.base import Tracker
from vidtrack.tracking.config import RefineConfig, TrackerConfig
from vidtrack.tracking.iou import iou_matrix
from vidtrack.tracking.refine import TrackLog, refine_tracks
from vidtrack.tracking.scores import ScoreRanks
from vidtrack.tracking.tracker import IoUTracker

__all__ = [
    "IoUTracker", "RefineConfig", "ScoreRanks", "TrackLog", "Tracker", "TrackerConfig", "iou_matrix", "refine_tracks",
]
