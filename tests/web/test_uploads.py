"""Upload sniffing when Ultralytics has patched Pillow (no server needed)."""

from __future__ import annotations

import pytest


def test_not_an_image_is_415_even_when_pillow_is_patched_to_need_a_missing_plugin(monkeypatch, tmp_path) -> None:
    """Ultralytics, once imported, wraps ``PIL.Image.open`` so that unknown content retries with the
    optional pi_heif plugin; without that package it raises ImportError. Still a 415, not a 500."""
    from PIL import Image, UnidentifiedImageError

    from vidtrack.web.uploads import UploadError, decode_image, is_image

    real_open = Image.open

    def patched_open(fp, *args, **kwargs):
        try:
            return real_open(fp, *args, **kwargs)
        except UnidentifiedImageError:
            raise ModuleNotFoundError("No module named 'pi_heif'") from None

    monkeypatch.setattr(Image, "open", patched_open)
    with pytest.raises(UploadError) as caught:
        decode_image(b"this is text, not a picture")
    assert caught.value.status == 415
    text = tmp_path / "notes.jpg"
    text.write_bytes(b"this is text, not a picture")
    assert is_image(text) is False
