"""Annotated stills: ``-o photo.jpg`` for one image, ``-o folder/`` for a folder of photos.

Images in, images out: a photo is written back as an annotated photo (JPEG, PNG or WebP,
chosen by the output's extension), not as a one-frame video. A folder (or glob) of photos
is written as a folder of annotated photos under the inputs' own names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from vidtrack.config import IMAGE_SUFFIXES as IMAGE_OUTPUT_SUFFIXES
from vidtrack.config import VIDEO_SUFFIXES as VIDEO_OUTPUT_SUFFIXES
from vidtrack.errors import OutputError, path_error

if TYPE_CHECKING:
    from vidtrack.frames import FrameResult

__all__ = ["IMAGE_OUTPUT_SUFFIXES", "VIDEO_OUTPUT_SUFFIXES", "ImageSink", "is_folder_output", "is_image_output", "is_still_output"]


def is_image_output(path: Path) -> bool:
    """``-o photo.jpg``: a still image file."""
    return path.suffix.lower() in IMAGE_OUTPUT_SUFFIXES


def is_folder_output(path: Path) -> bool:
    """``-o outdir/``: an existing folder, or a name without an extension (a folder to create)."""
    return path.is_dir() or (path.suffix == "" and not path.exists())


def is_still_output(path: Path) -> bool:
    """``-o`` names a photo or a folder of photos rather than a video."""
    return is_image_output(path) or is_folder_output(path)


class ImageSink:
    """Writes each annotated frame as an image file.

    Args:
        path: an image file (``.jpg``/``.png``/``.webp``: one photo in, one out) or a folder
            (created if missing; one file per input photo, named as the input).
        names: the input photos' file names, in frame order (frame ``i`` is photo
            ``i % len(names)``); only used for a folder.

    Each file is written beside its final name and renamed, so a kill leaves whole images.
    Raises OutputError (one line) when a file cannot be written.
    """

    def __init__(self, path: Path, names: Sequence[str] = ()) -> None:
        self.path = Path(path)
        self.folder = not is_image_output(self.path)
        self.names = list(names)
        self.warnings: list[str] = []
        self.written = 0

    def _target(self, index: int) -> Path:
        if not self.folder:
            return self.path
        name = self.names[index % len(self.names)] if self.names else f"{index:06d}.jpg"
        if Path(name).suffix.lower() not in IMAGE_OUTPUT_SUFFIXES:  # .bmp/.tif in: JPEG out
            name = Path(name).stem + ".jpg"
        return self.path / name

    def write(self, result: "FrameResult") -> None:
        """Encode ``result.annotated`` (or the frame itself when nothing was drawn) to its file."""
        import cv2

        image = result.annotated if result.annotated is not None else result.frame.image
        target = self._target(result.frame.index)
        ok, data = cv2.imencode(target.suffix.lower(), image)
        if not ok:  # pragma: no cover - every suffix above is supported by OpenCV's builds
            raise OutputError(f"cannot encode {target.suffix} images", "use .jpg, .png or .webp")
        tmp = target.with_name(f".partial-{target.name}")
        try:
            if self.folder:
                target.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data.tobytes())
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise path_error(OutputError, "write output", target, exc) from None
        self.written += 1

    def close(self) -> None:
        """Nothing is held open between frames."""
