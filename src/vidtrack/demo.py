"""The sample clip behind ``vidtrack demo``: a virtual camera moving over a still image.

The image ships with an installed package (Ultralytics' ``assets/bus.jpg``), so the demo
works on a fresh machine with no downloads. The clip is made once and git-ignored.
"""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

import numpy as np

from vidtrack.errors import SourceError

DEMO_CLIP = "demo_bus.mp4"
DEMO_FPS = Fraction(30)
DEMO_FRAMES = 120
DEMO_SIZE = (640, 480)


def packaged_image(package: str = "ultralytics", name: str = "assets/bus.jpg") -> Path:
    """Find a file inside an installed package without importing it (no torch import)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SourceError(f"the {package} package is not installed, so {name} is unavailable",
                          "reinstall vidtrack (ultralytics is one of its dependencies) or pass your own video to 'vidtrack run'")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / name
        if candidate.is_file():
            return candidate
    raise SourceError(f"{name} is missing from the installed {package} package", "reinstall it")


def camera_path(frame: int, frames: int, image_wh: tuple[int, int], out_wh: tuple[int, int]) -> tuple[int, int, int, int]:
    """The crop (x, y, w, h) the virtual camera sees at ``frame``: a slow pan down with a zoom in and out."""
    iw, ih = image_wh
    ow, oh = out_wh
    t = frame / max(1, frames - 1)
    zoom = 1.0 + 0.35 * np.sin(np.pi * t)  # 1 → 1.35 → 1
    w = min(iw, ih * ow / oh) / zoom
    h = w * oh / ow
    x = (iw - w) * (0.5 + 0.4 * np.sin(2 * np.pi * t))
    y = (ih - h) * (0.15 + 0.7 * t)
    return int(round(x)), int(round(y)), int(round(w)), int(round(h))


def render_pan(image: np.ndarray, frames: int, out_wh: tuple[int, int]):
    """Yield the virtual camera's frames (BGR, ``out_wh``)."""
    import cv2

    ih, iw = image.shape[:2]
    for i in range(frames):
        x, y, w, h = camera_path(i, frames, (iw, ih), out_wh)
        crop = image[y : y + h, x : x + w]
        yield cv2.resize(crop, out_wh, interpolation=cv2.INTER_AREA)


def make_pan_clip(image_path: Path, out_path: Path, frames: int = DEMO_FRAMES,
                  size: tuple[int, int] = DEMO_SIZE, fps: Fraction = DEMO_FPS) -> Path:
    """Write the virtual-camera clip as H.264 MP4 (written to a temp name, then renamed)."""
    import cv2

    from vidtrack.sinks.video import VideoWriter

    image = cv2.imread(str(image_path))
    if image is None:
        raise SourceError(f"cannot read image {image_path}", "reinstall the package that ships it")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_suffix(".partial.mp4")
    writer = VideoWriter(partial, size[0], size[1], fps)
    try:
        for i, picture in enumerate(render_pan(image, frames, size)):
            writer.write(picture, i / float(fps))
    finally:
        writer.close()
    partial.replace(out_path)
    return out_path


def ensure_demo_clip(folder: Path = Path("sample_videos")) -> Path:
    """The demo clip in ``folder``, made first if it isn't there."""
    clip = folder / DEMO_CLIP
    if not clip.exists():
        make_pan_clip(packaged_image(), clip)
    return clip
