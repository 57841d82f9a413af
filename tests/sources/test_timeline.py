"""Timeline: decoder stamps to presentation times; the writer's file time base. Numbers only, no media."""

from __future__ import annotations

from fractions import Fraction

import pytest

from vidtrack.sinks.video import file_time_base
from vidtrack.sources.timeline import Timeline


def times(timeline: Timeline, stamps: list[tuple[int | None, int | None, int | None]]) -> list[Fraction]:
    return [timeline.place(pts, dts, duration).time for pts, dts, duration in stamps]


def test_millisecond_stamps_of_a_constant_rate_land_exactly_on_the_grid() -> None:
    fps = Fraction(30000, 1001)
    stamps = [(round(i * 1001 / 30), None, 33) for i in range(100)]  # 29.97 fps in a 1/1000 s container
    timeline = Timeline(fps, Fraction(1, 1000))
    placed = [timeline.place(*s) for s in stamps]
    assert [p.time for p in placed] == [i / fps for i in range(100)]
    assert all(p.on_grid and p.duration == 1 / fps for p in placed)


def test_variable_rate_keeps_the_source_times() -> None:
    # 30 fps for 1 s, then 15 fps, on a 1/600 s clock (the phone-like file)
    ticks = [20 * n if n < 30 else 600 + 40 * (n - 30) for n in range(60)]
    timeline = Timeline(Fraction(600, 29), Fraction(1, 600))
    placed = times(timeline, [(t, t, 20 if n < 30 else 40) for n, t in enumerate(ticks)])
    assert placed[30] == 1
    assert placed == [Fraction(t, 600) for t in ticks]


def test_a_dropped_frame_leaves_a_gap_not_a_shift() -> None:
    timeline = Timeline(Fraction(30), Fraction(1, 90000))
    placed = times(timeline, [(3000 * n, None, 3000) for n in (0, 1, 2, 4, 5)])
    assert placed == [Fraction(n, 30) for n in (0, 1, 2, 4, 5)]


def test_joined_segments_continue_after_the_previous_frame() -> None:
    # two MPEG-TS segments joined with cat: both start at 1.4 s on the 1/90000 clock
    segment = [126000 + 3000 * n for n in range(60)]
    timeline = Timeline(Fraction(30), Fraction(1, 90000))
    placed = [timeline.place(t, t, 3000) for t in segment + segment]
    assert [p.time for p in placed] == [Fraction(n, 30) for n in range(120)]
    assert [n for n, p in enumerate(placed) if p.rebased] == [60]


def test_decode_order_stamps_are_replaced_by_dts() -> None:
    # AVI with B-frames: "pts" in decode order, dts (of the packet that finished each frame) increasing
    pts = [1, 4, 3, 5, 2, 8, 7, 9, 6, 10]
    dts = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    timeline = Timeline(Fraction(10), Fraction(1, 10))
    timeline.seed(list(zip(pts, dts)))
    assert timeline.uses_dts
    placed = times(timeline, [(p, d, 1) for p, d in zip(pts, dts)] + [(12, None, 1)])  # last: flushed, no dts
    assert placed == [Fraction(n, 10) for n in range(11)]


def test_a_repeated_stamp_never_goes_back_and_later_frames_keep_their_times() -> None:
    timeline = Timeline(Fraction(10), Fraction(1, 1000))
    placed = times(timeline, [(0, None, 100), (100, None, 100), (100, None, 100), (300, None, 100)])
    assert placed[0] == 0 and placed[1] == Fraction(1, 10) and placed[3] == Fraction(3, 10)
    assert placed[1] < placed[2] < placed[3]


@pytest.mark.parametrize(
    "fps, tick, expected",
    [
        (Fraction(30), Fraction(1, 1000), Fraction(1, 3000)),
        (Fraction(30000, 1001), Fraction(1, 30000), Fraction(1, 30000)),
        (Fraction(10), Fraction(1, 10), Fraction(1, 10)),
        (Fraction(600, 29), Fraction(1, 600), Fraction(1, 600)),
        (Fraction(25), Fraction(1, 1200000), Fraction(1, 1200000) if 1200000 <= 1 << 20 else Fraction(1, 90000)),
        (Fraction(30), None, Fraction(1, 30)),
    ],
)
def test_file_time_base_holds_the_frame_step_and_the_source_tick(
    fps: Fraction, tick: Fraction | None, expected: Fraction
) -> None:
    base = file_time_base(fps, tick)
    assert base == expected
    assert ((1 / fps) / base).denominator == 1
    if tick is not None and base != Fraction(1, 90000):
        assert (tick / base).denominator == 1


@pytest.mark.parametrize("discontinuous", [False, True])
def test_a_jump_forward_is_a_gap_unless_the_format_restarts_its_clock(discontinuous: bool) -> None:
    # an hour between two joined recordings: MP4/MKV keep it (a held frame), MPEG-TS continues
    stamps = [3000 * n for n in range(30)] + [3600 * 90000 + 3000 * n for n in range(30)]
    timeline = Timeline(Fraction(30), Fraction(1, 90000), discontinuous=discontinuous)
    placed = [timeline.place(t, t, 3000).time for t in stamps]
    assert placed[30] == (1 if discontinuous else 3600)
    assert placed[59] - placed[30] == Fraction(29, 30)
