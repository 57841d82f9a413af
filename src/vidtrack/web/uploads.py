"""Uploaded files: what they are (decided from their bytes, never their names) and their pixels.

Errors are :class:`UploadError` with the HTTP status the routes answer: 415 for a file
that is not an image (or not a video the decoder opens), 422 for an empty, truncated or
corrupt one, 413 for an image with too many pixels to decode safely.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from vidtrack.errors import VidtrackError

#: Image formats accepted, as Pillow names them after reading the file's first bytes.
IMAGE_FORMATS = {"JPEG", "PNG", "BMP", "WEBP", "TIFF", "GIF", "MPO"}
#: Largest picture decoded, in pixels (about 8K x 6K), for every kind of upload: an image,
#: and each frame of a video (checked from the stream header before any frame is decoded,
#: then on the first frame, then on every frame of a job). A 200 KB PNG or a 3.5 MB H.264
#: file can claim far more.
MAX_PIXELS = 50_000_000


def too_many_pixels(width: int, height: int, what: str = "image") -> "UploadError":
    """The 413 of a picture over :data:`MAX_PIXELS`."""
    return UploadError(413, f"the {what} is {width}x{height} pixels, over the {MAX_PIXELS:,} limit",
                       "scale it down before sending")


class UploadError(VidtrackError):
    """An upload the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, problem: str, fix: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        #: Extra response headers (``Retry-After`` on a 503/507).
        self.headers = dict(headers or {})
        super().__init__(problem, fix)


def decode_image(data: bytes) -> np.ndarray:
    """The BGR uint8 pixels ``(H, W, 3)`` of an uploaded image, EXIF orientation applied.

    The pixels are OpenCV's (``cv2.imdecode`` with ``IMREAD_COLOR``, the same decoder and
    orientation handling as ``cv2.imread`` in ``vidtrack run``), so a detection here and
    in a run of the same file agree box for box. Pillow identifies the format first and
    decodes at 1/8 scale to catch truncated files, which OpenCV would pad with grey.

    Raises:
        UploadError: 422 empty/truncated/corrupt; 415 not an image; 413 too many pixels.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise UploadError(422, "the upload is empty (0 bytes)", "send the image file's bytes")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            width, height = probe.size
            if kind not in IMAGE_FORMATS:
                raise UploadError(415, f"{kind or 'this'} images are not supported", "send a JPEG, PNG, WebP, BMP or TIFF")
            if width * height > MAX_PIXELS:
                raise too_many_pixels(width, height)
            if not _looks_complete(kind, data):
                probe.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                probe.load()
    except (UnidentifiedImageError, ImportError):
        # ImportError: Ultralytics, once imported, patches Image.open to retry unknown content with
        # the optional pi_heif plugin; without that package the content is still not an image we take
        raise UploadError(415, "the upload is not an image (its content matches no image format)",
                          "send a JPEG, PNG, WebP, BMP or TIFF; videos go to POST /v1/jobs") from None
    except Image.DecompressionBombError:
        raise UploadError(413, f"the image has too many pixels (over {MAX_PIXELS:,})", "scale it down before sending") from None
    except UploadError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UploadError(422, f"the image is truncated or corrupt ({exc})", "send the complete, valid file") from None
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:  # a format Pillow reads and OpenCV does not (GIF on some builds)
        image = _pillow_bgr(data)
    return image


def _looks_complete(kind: str, data: bytes) -> bool:
    """True when a JPEG ends with its end-of-image marker or a PNG with its IEND chunk.

    Such files skip the 1/8-scale trial decode (about a third of the decoding time); any
    other file, including one with bytes after its end marker, gets the trial decode.
    """
    tail = data.rstrip(b"\0")[-12:]
    if kind in ("JPEG", "MPO"):
        return tail.endswith(b"\xff\xd9")
    if kind == "PNG":
        return tail.endswith(b"IEND\xaeB`\x82")
    return False


def _pillow_bgr(data: bytes) -> np.ndarray:
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as im:
            rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UploadError(422, f"the image cannot be decoded ({exc})", "send the complete, valid file") from None
    return np.ascontiguousarray(rgb[:, :, ::-1])


def is_image(path: Path) -> bool:
    """True when Pillow recognises ``path``'s first bytes as an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path):
            return True
    except (UnidentifiedImageError, ImportError, OSError, ValueError, SyntaxError):  # ImportError: see decode_image
        return False


def check_video(path: Path) -> None:
    """Make sure ``path`` is a video FFmpeg opens and decodes a frame of, within the pixel cap.

    Every video stream's header size is checked against :data:`MAX_PIXELS` before a frame
    is decoded, and the first frame's size after.

    Raises:
        UploadError: 422 empty or corrupt (a video container whose frames don't decode);
            413 frames over :data:`MAX_PIXELS`; 415 anything else (text, an image, audio only...).
    """
    import av

    if path.stat().st_size == 0:
        raise UploadError(422, "the upload is empty (0 bytes)", "send the video file's bytes")
    if is_image(path):
        raise UploadError(415, "the upload is an image, not a video", "send images to POST /v1/detect")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        raise UploadError(415, "the upload is not a video FFmpeg can open", "send an MP4, MKV, WebM, AVI or MOV file") from None
    with container:
        if not container.streams.video:
            raise UploadError(415, "the upload has no video stream", "send a file with video in it")
        for stream in container.streams.video:
            width, height = int(stream.codec_context.width or 0), int(stream.codec_context.height or 0)
            if width * height > MAX_PIXELS:
                raise too_many_pixels(width, height, "video")
        try:
            for frame in container.decode(video=0):
                if frame.width * frame.height > MAX_PIXELS:
                    raise too_many_pixels(frame.width, frame.height, "video")
                return
        except (av.error.FFmpegError, OSError, ValueError):
            pass
    raise UploadError(422, "the video's frames do not decode (truncated or corrupt)", "send the complete, valid file")
