"""A single image, a folder of images, or a glob, played as a video."""

from __future__ import annotations

import glob
import re
import time
from fractions import Fraction
from pathlib import Path
from typing import Iterator

from vidtrack.config import SourceConfig
from vidtrack.errors import SourceError
from vidtrack.frames import Frame, SourceInfo
from vidtrack.sources.base import IMAGE_SUFFIXES, FiniteSource, sequence_files

#: Frame rate given to image sequences when they are written as video.
IMAGE_SEQUENCE_FPS = Fraction(30)


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def list_images(spec: str) -> list[Path]:
    """The images ``spec`` names, in natural order (frame2 before frame10).

    ``spec`` is a folder, one image, a glob, or an ffmpeg/OpenCV sequence pattern
    (``img_%04d.png``, see :func:`~vidtrack.sources.base.sequence_files`).
    """
    path = Path(spec).expanduser()
    if not path.exists():
        sequence = sequence_files(spec)
        if sequence is not None:
            return sequence
    if path.is_dir():
        files = [p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    elif path.is_file():
        files = [path]
    else:
        files = [Path(p) for p in glob.glob(spec) if Path(p).suffix.lower() in IMAGE_SUFFIXES]
    return sorted(files, key=_natural_key)


class ImageSource(FiniteSource):
    """Images in natural order; unreadable images are an error, not a silent skip."""

    def __init__(self, spec: str, config: SourceConfig | None = None, source_id: int = 0) -> None:
        import cv2

        self.config = config or SourceConfig()
        self.source_id = source_id
        self.files = list_images(spec)
        # A numbered sequence (img_%04d.png) is the frames of one video: tracked as video.
        sequence = not Path(spec).expanduser().exists() and sequence_files(spec) is not None
        if not self.files:
            raise SourceError(f"no images in {spec}", f"use a folder or glob of {', '.join(sorted(IMAGE_SUFFIXES))} files")
        first = cv2.imread(str(self.files[0]))
        if first is None:
            raise SourceError(f"cannot read image {self.files[0]}", "check that it is a valid image file")
        self.info = SourceInfo(
            name=Path(spec).name or spec,
            width=first.shape[1],
            height=first.shape[0],
            fps=IMAGE_SEQUENCE_FPS,
            frame_count=len(self.files) * self.config.loop,
            is_live=False,
            stills=not sequence,  # a folder of photos is not one scene (see tracking/stills.py)
            still_names=() if sequence else tuple(p.name for p in self.files),
        )
        super().__init__()

    def frames(self) -> Iterator[Frame]:
        """Read each image in natural order (``config.loop`` times over), at ``index / 30`` seconds.

        Raises:
            SourceError: an image cannot be read (a broken file is an error, not a skip).
        """
        import cv2

        index = 0
        for _ in range(self.config.loop):
            for path in self.files:
                if self._stop.is_set():
                    break
                image = cv2.imread(str(path))
                if image is None:
                    raise SourceError(f"cannot read image {path}", "remove or replace the broken file")
                yield Frame(image, index, index / float(self.info.fps), time.monotonic(), self.source_id)
                index += 1
        self._end()

    def close(self) -> None:
        """Stop :meth:`frames`; there is nothing open between images. Idempotent."""
        self._stop.set()
