"""Item 8 of issue 24: ffmpeg/OpenCV sequence patterns, and Frigate-style config keys."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import video_path
from vidtrack.errors import OptionError, SourceError
from vidtrack.sources import open_source
from vidtrack.sources.open import SourceKind, classify


@pytest.fixture
def png_sequence(tmp_path: Path) -> Path:
    """Five PNG frames of a shared clip, named img_0001.png ... as ffmpeg writes them."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(video_path("carphone_176x144.mp4")), "-frames:v", "5",
         str(tmp_path / "img_%04d.png")],
        check=True,
    )
    (tmp_path / "img_12345.png").write_bytes((tmp_path / "img_0001.png").read_bytes())  # not %04d
    return tmp_path


def test_printf_sequence_pattern_is_read_as_frames_in_number_order(png_sequence: Path) -> None:
    spec = str(png_sequence / "img_%04d.png")
    assert classify(spec) is SourceKind.IMAGES
    source = open_source(spec)
    try:
        assert [p.name for p in source.files] == [f"img_{i:04d}.png" for i in range(1, 6)]
        assert not source.info.stills  # the frames of one video: tracked across frames
        assert len(list(source.frames())) == 5
    finally:
        source.close()
    assert len(open_source(str(png_sequence / "img_%d.png")).files) == 6  # %d: any number of digits


def test_sequence_pattern_matching_nothing_says_so(png_sequence: Path) -> None:
    with pytest.raises(SourceError, match="no files match the sequence pattern"):
        classify(str(png_sequence / "img_%06d.png"))


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("min_score", "Frigate config: .*'conf'"),
        ("threshold", "Frigate config: .*'conf'"),
        ("max_area", "Frigate config: vidtrack has no box-area filter"),
        ("cameras", "Frigate config: vidtrack reads one camera per run"),
    ],
)
def test_frigate_keys_get_a_frigate_hint_never_a_wrong_did_you_mean(tmp_path: Path, key: str, hint: str) -> None:
    from vidtrack.config_file import load_config_file

    config = tmp_path / "frigate.yml"
    config.write_text(f"mqtt:\n  host: x\n{key}: 0.5\n" if key != "cameras" else "mqtt: {}\ncameras:\n  front: {}\n")
    with pytest.raises(OptionError) as caught:
        load_config_file(config)
    assert "did you mean" not in caught.value.fix
    if key != "cameras":
        config.write_text(f"{key}: 0.5\n")
        with pytest.raises(OptionError) as caught:
            load_config_file(config)
    import re

    assert re.search(hint, caught.value.fix), caught.value.fix


def test_typos_still_get_did_you_mean() -> None:
    from vidtrack.options import check_known

    for typo, meant in [("max_ages", "max_age"), ("iou_treshold", "iou_threshold"), ("cnof", "conf")]:
        with pytest.raises(OptionError, match=f"did you mean '{meant}'"):
            check_known({typo: 1})
