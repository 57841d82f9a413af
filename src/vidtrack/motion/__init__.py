"""Camera motion compensation: the frame-to-frame global motion of the picture, as a 2x3 affine.

A stage beside detection and tracking (it reads pictures, so it may use OpenCV); the
tracker receives only the affine (:meth:`vidtrack.tracking.IoUTracker.compensate`) and
imports no cv2.
"""

from vidtrack.config import CMC_MODES  # auto, on, off: the --cmc values
from vidtrack.motion.camera import CameraMotion, scale_affine

__all__ = ["CMC_MODES", "CameraMotion", "scale_affine"]
