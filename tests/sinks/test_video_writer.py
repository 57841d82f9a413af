"""VideoWriter: exact timing, codecs, faststart, audio pass-through, live mode, errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import video_path
from vidtrack.errors import OutputError
from vidtrack.sinks import VideoWriter, check_outputs, check_writable

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def frames_of(n: int, width: int = 64, height: int = 48, seed: int = 0) -> list[np.ndarray]:
    """Seeded noise with a moving bar, so every frame differs."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        image = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
        image[:, (i * 3) % width] = 255
        out.append(image)
    return out


def write_clip(path: Path, n: int, fps: Fraction, **kwargs: object) -> VideoWriter:
    writer = VideoWriter(path, 64, 48, fps, **kwargs)  # type: ignore[arg-type]
    for image in frames_of(n):
        writer.write(image)
    writer.close()
    return writer


def probe(path: Path) -> dict:
    """What a player sees: codec, pixel format, rate, duration, decoded frames and their times."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "rate": stream.average_rate,
            "size": (stream.codec_context.width, stream.codec_context.height),
            "stream_duration": None if stream.duration is None else stream.duration * stream.time_base,
            "container_duration": container.duration / 1e6 if container.duration else None,
            "audio": [(s.codec_context.name, float(s.duration * s.time_base) if s.duration else None) for s in container.streams.audio],
        }
        decoded = list(container.decode(stream))
    info["frames"] = len(decoded)
    info["times"] = [float(f.time) for f in decoded]
    info["images"] = [f.to_ndarray(format="bgr24") for f in decoded]
    return info


def top_level_atoms(path: Path) -> list[str]:
    """The MP4 top-level box types, in file order."""
    names = []
    with open(path, "rb") as f:
        while header := f.read(8):
            size = int.from_bytes(header[:4], "big")
            names.append(header[4:8].decode("latin-1"))
            if size == 1:
                size = int.from_bytes(f.read(8), "big")
                f.seek(size - 16, os.SEEK_CUR)
            elif size == 0:
                break
            else:
                f.seek(size - 8, os.SEEK_CUR)
    return names


@pytest.mark.parametrize("fps", [Fraction(30000, 1001), Fraction(30), Fraction(25), Fraction(24000, 1001), Fraction(10)])
def test_cfr_keeps_exact_rate_count_and_duration(tmp_path: Path, fps: Fraction) -> None:
    out = tmp_path / "out.mp4"
    write_clip(out, 31, fps)
    info = probe(out)
    assert info["frames"] == 31
    assert info["rate"] == fps
    assert info["stream_duration"] == Fraction(31) / fps  # exact, not rounded to ms
    assert info["times"] == pytest.approx([i / float(fps) for i in range(31)], abs=1e-6)


def test_mp4_is_h264_yuv420p_with_moov_first(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    write_clip(out, 10, Fraction(30))
    info = probe(out)
    assert (info["codec"], info["pix_fmt"]) == ("h264", "yuv420p")
    atoms = top_level_atoms(out)
    assert "moov" in atoms and "mdat" in atoms
    assert atoms.index("moov") < atoms.index("mdat"), atoms  # +faststart: playable while downloading


@pytest.mark.parametrize("suffix, codec", [(".mkv", "h264"), (".mov", "h264"), (".webm", "vp9")])
def test_other_containers(tmp_path: Path, suffix: str, codec: str) -> None:
    out = tmp_path / f"out{suffix}"
    write_clip(out, 20, Fraction(30000, 1001))
    info = probe(out)
    assert (info["codec"], info["pix_fmt"], info["frames"]) == (codec, "yuv420p", 20)
    assert info["rate"] == Fraction(30000, 1001)
    assert info["container_duration"] == pytest.approx(20 * 1001 / 30000, abs=0.002)


def test_pixels_survive_encoding(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (200, 40, 20)  # blue in BGR
    image[:, 32:] = (20, 60, 220)  # red in BGR
    writer = VideoWriter(out, 64, 48, Fraction(30), crf=10)
    for _ in range(3):
        writer.write(image)
    writer.close()
    decoded = probe(out)["images"][-1].astype(int)
    assert np.abs(decoded - image).mean() < 4  # colour conversion + coding noise only
    assert np.abs(decoded - image[..., ::-1]).mean() > 100  # not a swapped channel order


def source_audio_packets(path: Path, count: int) -> list[bytes]:
    with av.open(str(path)) as container:
        packets = []
        for packet in container.demux(container.streams.audio[0]):
            if packet.size:
                packets.append(bytes(packet))
            if len(packets) == count:
                return packets
    return packets


def test_audio_is_copied_through_into_mp4(tmp_path: Path) -> None:
    source = video_path("pedestrians_pets_h264.avi")  # 10 fps video, AAC (ADTS) audio
    out = tmp_path / "out.mp4"
    writer = VideoWriter(out, 480, 360, Fraction(10), audio_source=source)
    for image in frames_of(100, 480, 360):
        writer.write(image)
    writer.close()
    assert writer.warnings == []
    info = probe(out)
    assert info["frames"] == 100 and info["stream_duration"] == 10
    [(codec, audio_duration)] = info["audio"]
    assert codec == "aac"
    assert audio_duration == pytest.approx(10.0, abs=0.1)  # cut at the video's end, within a frame
    # Copied, not re-encoded: the raw AAC payloads are the source's ADTS frames minus their 7-byte header.
    with av.open(str(out)) as container:
        copied = [bytes(p) for p, _ in zip((p for p in container.demux(container.streams.audio[0]) if p.size), range(5))]
    assert copied == [p[7:] for p in source_audio_packets(source, 5)]


def test_audio_into_mkv_is_copied_and_into_webm_becomes_opus(tmp_path: Path) -> None:
    source = video_path("pedestrians_pets_h264.avi")
    for suffix, codec, warned in ((".mkv", "aac", False), (".webm", "opus", True)):
        out = tmp_path / f"out{suffix}"
        writer = VideoWriter(out, 480, 360, Fraction(10), audio_source=source)
        for image in frames_of(30, 480, 360):
            writer.write(image)
        writer.close()
        info = probe(out)
        assert info["frames"] == 30
        assert [a[0] for a in info["audio"]] == [codec]
        assert info["container_duration"] == pytest.approx(3.0, abs=0.1)
        assert bool(writer.warnings) is warned, writer.warnings


def test_source_without_audio_adds_no_audio_stream(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    write_clip(out, 5, Fraction(25), audio_source=video_path("carphone_176x144.mp4"))
    assert probe(out)["audio"] == []


def test_live_mode_places_frames_at_their_capture_times(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    # ~30 fps capture with jitter, frames skipped by a slow pipeline, and a 2 s reconnect gap.
    pts = np.cumsum(rng.uniform(0.02, 0.2, 40))
    pts[25:] += 2.0
    pts += 1000.0  # capture clocks do not start at zero
    out = tmp_path / "live.mp4"
    writer = VideoWriter(out, 64, 48, Fraction(30), use_timestamps=True)
    for image, t in zip(frames_of(40), pts):
        writer.write(image, float(t))
    writer.close()
    info = probe(out)
    assert info["frames"] == 40
    assert info["times"] == pytest.approx(list(pts - pts[0]), abs=1e-3)
    expected = pts[-1] - pts[0] + 1 / 30  # the last frame is shown for one nominal interval
    assert float(info["stream_duration"]) == pytest.approx(expected, abs=1e-3)


def test_live_mode_keeps_times_increasing_when_the_clock_repeats(tmp_path: Path) -> None:
    out = tmp_path / "live.mp4"
    writer = VideoWriter(out, 64, 48, Fraction(30), use_timestamps=True)
    for image, t in zip(frames_of(4), [5.0, 5.0, 4.9, 5.5]):
        writer.write(image, t)
    writer.close()
    times = probe(out)["times"]
    assert len(times) == 4 and all(b > a for a, b in zip(times, times[1:]))
    assert times[-1] == pytest.approx(0.5, abs=1e-3)


def test_frames_of_another_size_are_fitted(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    writer = VideoWriter(out, 64, 48, Fraction(30), crf=10)
    writer.write(np.full((48, 64, 3), 128, np.uint8))
    writer.write(np.full((96, 128, 3), 200, np.uint8))  # same aspect, twice the size
    writer.write(np.full((48, 48, 3), 200, np.uint8))  # square: letterboxed
    writer.write(np.full((48, 64), 90, np.uint8))  # grayscale
    writer.close()
    info = probe(out)
    assert info["frames"] == 4 and info["size"] == (64, 48)
    plain, scaled, boxed, gray = info["images"]
    assert abs(int(plain.mean()) - 128) < 4
    assert abs(int(scaled.mean()) - 200) < 4
    assert boxed[:, 24:40].mean() > 190 and boxed[:, :4].mean() < 25  # picture centred, black bars
    assert abs(int(gray.mean()) - 90) < 4


def test_odd_sizes_drop_the_last_row_and_column(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    writer = VideoWriter(out, 65, 49, Fraction(30))
    writer.write(np.zeros((49, 65, 3), np.uint8))
    writer.close()
    assert probe(out)["size"] == (64, 48)


def test_close_is_idempotent_and_write_after_close_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    writer = write_clip(out, 3, Fraction(30))
    writer.close()
    with pytest.raises(OutputError):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    assert probe(out)["frames"] == 3


def test_a_writer_that_got_no_frame_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    VideoWriter(out, 64, 48, Fraction(30)).close()
    assert not out.exists()


def test_keyboard_interrupt_mid_run_still_gives_a_playable_file(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    writer = VideoWriter(out, 64, 48, Fraction(30))
    with pytest.raises(KeyboardInterrupt):
        try:
            for i, image in enumerate(frames_of(50)):
                if i == 20:
                    raise KeyboardInterrupt
                writer.write(image)
        finally:
            writer.close()
    assert probe(out)["frames"] == 20


def test_sigterm_during_writing_leaves_a_playable_file(tmp_path: Path) -> None:
    """The CLI turns SIGTERM into KeyboardInterrupt; the writer must then finish the file."""
    out = tmp_path / "out.mp4"
    script = textwrap.dedent(
        f"""
        import signal, sys
        from fractions import Fraction
        import numpy as np
        from vidtrack.sinks import VideoWriter

        def stop(signum, frame):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, stop)
        writer = VideoWriter({str(out)!r}, 64, 48, Fraction(30))
        try:
            i = 0
            while True:
                writer.write(np.full((48, 64, 3), i % 256, np.uint8))
                i += 1
                if i == 15:
                    print("ready", flush=True)
        except KeyboardInterrupt:
            pass
        finally:
            writer.close()
        print(writer.frames_written, flush=True)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        written = int(proc.stdout.readline())
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
    assert written >= 15
    assert probe(out)["frames"] == written


def test_missing_folder_is_one_line_with_the_fix(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.mp4"
    with pytest.raises(OutputError) as caught:
        VideoWriter(target, 64, 48, Fraction(30))
    message = str(caught.value)
    assert "does not exist" in message and "mkdir -p" in message and "\n" not in message
    with pytest.raises(OutputError):
        check_writable(target)


def test_a_file_used_as_a_folder_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        VideoWriter(blocker / "out.mp4", 64, 48, Fraction(30))


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in.

    Tests often run as root, for whom chmod 0o555 changes nothing; kernel filesystems
    refuse new files even to root (/sys: EACCES, /proc: ENOENT), so those stand in.
    """
    if os.geteuid() != 0:
        folder = tmp_path / "readonly"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    for candidate in (Path("/sys"), Path("/proc")):
        if candidate.is_dir():
            return candidate
    pytest.skip("no folder that root cannot write to")


def test_read_only_folder_is_refused_before_and_at_open(tmp_path: Path) -> None:
    folder = unwritable_folder(tmp_path)
    with pytest.raises(OutputError, match="cannot create files in") as caught:
        check_writable(folder / "out.mp4")
    assert "choose a writable folder" in str(caught.value)
    with pytest.raises(OutputError):
        VideoWriter(folder / "out.mp4", 64, 48, Fraction(30))
    assert not (folder / "out.mp4").exists()


def test_check_writable_leaves_nothing_behind(tmp_path: Path) -> None:
    existing = tmp_path / "old.mp4"
    existing.write_bytes(b"keep me")
    check_writable(existing)
    check_writable(tmp_path / "new.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.mp4"]
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(OutputError, match="is a folder"):
        check_writable(tmp_path)


def test_check_outputs_refuses_overwriting_the_input_or_sharing_a_file(tmp_path: Path) -> None:
    source = tmp_path / "in.mp4"
    source.write_bytes(b"video")
    with pytest.raises(OutputError, match="also the input"):
        check_outputs([tmp_path / "." / "in.mp4"], [source])
    with pytest.raises(OutputError, match="two outputs"):
        check_outputs([tmp_path / "a.jsonl", tmp_path / "a.jsonl"])
    check_outputs([tmp_path / "a.mp4", tmp_path / "a.jsonl"], [source])


def test_unknown_extension_and_preset_are_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="extension"):
        VideoWriter(tmp_path / "out.avi", 64, 48, Fraction(30))
    with pytest.raises(OutputError, match="preset"):
        VideoWriter(tmp_path / "out.mp4", 64, 48, Fraction(30), preset="warp")
    assert list(tmp_path.iterdir()) == []


def test_reencoding_a_real_2997_clip_keeps_count_rate_and_duration(tmp_path: Path) -> None:
    source = video_path("carphone_176x144.mp4")  # 120 frames at 30000/1001
    out = tmp_path / "out.mp4"
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate
        writer = VideoWriter(out, stream.codec_context.width, stream.codec_context.height, fps)
        for frame in container.decode(stream):
            writer.write(frame.to_ndarray(format="bgr24"), float(frame.time))
        writer.close()
    info = probe(out)
    assert fps == Fraction(30000, 1001)
    assert (info["frames"], info["rate"]) == (120, fps)
    assert info["stream_duration"] == Fraction(120) / fps


def test_a_clip_late_in_the_source_gets_the_same_audio_with_a_seek(tmp_path: Path, monkeypatch) -> None:
    """Audio of a clip starting at 50 s: the demuxer seeks instead of reading from the start, and
    the clip's audio packets are the same as when it reads from the start."""
    import vidtrack.sinks.video as video

    source = video_path("pedestrians_pets_h264.avi")
    packets = {}
    for name, after in (("seek", video.AUDIO_SEEK_AFTER_S), ("read", 1e9)):
        monkeypatch.setattr(video, "AUDIO_SEEK_AFTER_S", after)
        out = tmp_path / f"{name}.mp4"
        writer = VideoWriter(out, 480, 360, Fraction(10), audio_source=source, audio_start=50.0)
        for i in range(20):
            writer.write(np.full((360, 480, 3), i, np.uint8))
        writer.close()
        with av.open(str(out)) as container:
            packets[name] = [(p.pts, bytes(p)) for p in container.demux(container.streams.audio[0]) if p.size]
    assert len(packets["read"]) > 10 and packets["seek"] == packets["read"]
