"""``--snapshots``: best view per track, event pictures, redaction fails closed (synthetic frames)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidtrack.analytics.events import Event
from vidtrack.detection.base import make_detections
from vidtrack.frames import Frame, FrameResult
from vidtrack.sinks.snapshots import SnapshotSink, occluded_share

W, H = 320, 240


def _result(index: int, boxes: list[tuple[float, float, float, float]], ids: list[int], conf: list[float] | None = None,
            events: tuple = (), redacted: bool = False) -> FrameResult:
    image = np.full((H, W, 3), 40, np.uint8)
    image[:, :, 0] = index % 256  # each frame's picture differs: the chosen frame can be recognised
    det = make_detections(
        np.array(boxes, dtype=np.float32).reshape(-1, 4), np.array(conf or [0.9] * len(boxes)),
        np.zeros(len(boxes), int), {0: "person"},
    )
    det.tracker_id = np.array(ids, dtype=int)
    return FrameResult(frame=Frame(image, index, index / 10, 0.0), detections=det, events=events, redacted=redacted)


def _summary_box(sink: SnapshotSink, track: int) -> list[float]:
    return sink.summary()["tracks"][str(track)]["box"]


def test_best_view_is_near_the_largest_and_uncut(tmp_path: Path) -> None:
    sink = SnapshotSink(tmp_path / "s")
    sizes = [20, 30, 40, 50, 60, 58, 45, 30]  # grows, then walks away
    for i, s in enumerate(sizes):
        sink.write(_result(i, [(100, 50, 100 + s * 0.5, 50 + s)], [1], conf=[0.95 - 0.05 * (s == 60)]))
    # track 2: biggest when cut by the left edge, then fully inside
    for i, (x, s) in enumerate([(0, 80), (0, 90), (5, 60), (10, 50)]):
        sink.write(_result(10 + i, [(x, 100, x + s * 0.5, 100 + s)], [2]))
    sink.close()
    x1, y1, x2, y2 = _summary_box(sink, 1)
    assert (x2 - x1) * (y2 - y1) >= 0.9 * 30 * 60
    info2 = sink.summary()["tracks"]["2"]
    assert info2["box"][0] == 5 and not info2["edge_cut"]  # the uncut view, though smaller
    for name in ("track-1.jpg", "track-1-frame.jpg", "track-2.jpg", "track-2-frame.jpg"):
        assert (tmp_path / "s" / name).stat().st_size > 0
    import cv2

    crop = cv2.imread(str(tmp_path / "s" / "track-2.jpg"))
    assert abs(crop.shape[0] - 60 * 1.16) <= 3  # the box plus padding, not the whole frame


def test_occluded_view_loses_to_a_clear_one_of_the_same_size(tmp_path: Path) -> None:
    assert occluded_share(np.array([[0, 0, 10, 10], [5, 0, 15, 10]], float)).tolist() == [0.5, 0.5]
    sink = SnapshotSink(tmp_path)
    sink.write(_result(0, [(50, 50, 80, 110), (60, 50, 90, 110)], [1, 9]))  # half hidden
    sink.write(_result(1, [(50, 50, 80, 110)], [1]))  # clear
    sink.close()
    assert sink.summary()["tracks"]["1"]["frame"] == 1


def test_only_one_edge_cut_view_is_used_when_nothing_else_exists(tmp_path: Path) -> None:
    sink = SnapshotSink(tmp_path)
    sink.write(_result(0, [(0, 50, 30, 110)], [4]))
    sink.close()
    assert sink.summary()["tracks"]["4"]["edge_cut"] is True


def test_events_get_their_picture_and_name_it(tmp_path: Path) -> None:
    sink = SnapshotSink(tmp_path)
    event = Event(t=0.3, frame=3, type="cross", track_id=1, cls="person", line="gate", direction="in")
    result = _result(3, [(50, 50, 80, 110)], [1], events=(event,))
    sink.write(result)
    assert result.events[0].snapshot == "event-000003-cross-gate-1.jpg"
    assert result.events[0].to_json()["snapshot"] == "event-000003-cross-gate-1.jpg"
    assert (tmp_path / "event-000003-cross-gate-1.jpg").exists()
    final = sink.final_events([Event(t=0.5, frame=5, type="exit", track_id=1, cls="person", zone="z")])
    assert final[0].snapshot and (tmp_path / final[0].snapshot).exists()  # the track's last view
    sink.close()
    assert sink.summary()["events"] == 2


def test_redaction_fails_closed(tmp_path: Path) -> None:
    sink = SnapshotSink(tmp_path, redaction=True)
    event = Event(t=0.0, frame=0, type="cross", track_id=1, cls="person", line="gate", direction="in")
    unredacted = _result(0, [(50, 50, 80, 110)], [1], events=(event,), redacted=False)
    sink.write(unredacted)
    sink.close()
    assert list(tmp_path.iterdir()) == [] and unredacted.events[0].snapshot is None
    assert "not redacted" in sink.warnings[0]
    sink2 = SnapshotSink(tmp_path / "ok", redaction=True)
    sink2.write(_result(0, [(50, 50, 80, 110)], [1], redacted=True))
    sink2.close()
    assert (tmp_path / "ok" / "track-1.jpg").exists()


def test_gone_tracks_are_written_and_release_their_frames(tmp_path: Path) -> None:
    sink = SnapshotSink(tmp_path)
    sink.write(_result(0, [(50, 50, 80, 110)], [1]))
    sink.write(_result(100, [(150, 50, 180, 110)], [2]))  # 10 s later: track 1 is gone
    assert (tmp_path / "track-1.jpg").exists() and not (tmp_path / "track-2.jpg").exists()
    assert sink._tracks[1].best().image.size == 0
    sink.close()
    assert (tmp_path / "track-2.jpg").exists()


def test_a_run_with_redaction_writes_only_redacted_snapshots(tmp_path: Path) -> None:
    import cv2

    from conftest import SquareDetector, make_clip
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    clip = make_clip(tmp_path / "c.avi", frames=12)
    for name, extra in (("plain", {}), ("hidden", {"redact": "person", "redact_mode": "fill"})):
        request = request_from_options([str(clip)], {"min_hits": 1, "snapshots": tmp_path / name, **extra})
        outcome = execute(request, detector=SquareDetector())
        assert outcome.error is None and outcome.summaries[0]["snapshots"]["tracks"]["1"]["crop"] == "track-1.jpg"
    plain = cv2.imread(str(tmp_path / "plain" / "track-1.jpg"))
    hidden = cv2.imread(str(tmp_path / "hidden" / "track-1.jpg"))
    assert plain.shape == hidden.shape
    h, w = plain.shape[:2]
    centre = (slice(h // 3, 2 * h // 3), slice(w // 3, 2 * w // 3))
    assert plain[centre][..., 2].mean() > 200  # the bright square
    assert hidden[centre][..., 2].mean() < 60  # filled over


def test_a_frame_held_long_by_a_candidate_is_kept_as_jpeg_and_still_gives_its_picture(tmp_path: Path) -> None:
    import cv2

    from vidtrack.sinks import snapshots

    sink = SnapshotSink(tmp_path)
    sink.write(_result(7, [(50, 50, 110, 170)], [1]))  # track 1's best view: large and clear
    for i in range(8, 8 + snapshots.RAW_FRAMES + 3):
        sink.write(_result(i, [(50, 50, 70, 90)], [1]))  # smaller views that never win
    best = sink._tracks[1].best()
    assert best.frame == 7 and best.picture.raw is None and best.picture.jpeg  # held compressed
    assert all(p() is None or p().raw is not None for p in sink._recent)  # the recent ones stay raw
    sink.close()
    frame = cv2.imread(str(tmp_path / "track-1-frame.jpg"))
    assert abs(int(frame[5, 5, 0]) - 7) <= 3  # the picture of frame 7, through two JPEG passes
