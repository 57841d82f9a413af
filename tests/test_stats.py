import pytest

from vidtrack.stats import RateMeter, StageTimes, Stopwatch


def test_rate_counts_intervals_not_frames() -> None:
    meter = RateMeter(window=10)
    for i in range(5):
        meter.tick(now=i * 0.1)  # 5 frames, 4 intervals of 100 ms
    assert meter.fps == pytest.approx(10.0)


def test_rate_needs_two_frames() -> None:
    meter = RateMeter()
    assert meter.fps == 0.0
    meter.tick(now=1.0)
    assert meter.fps == 0.0


def test_rate_window_forgets_old_frames() -> None:
    meter = RateMeter(window=3)
    for t in (0.0, 1.0, 1.1, 1.2):
        meter.tick(now=t)
    assert meter.fps == pytest.approx(2 / 0.2)


def test_stage_times_smooth_current_and_exact_mean() -> None:
    times = StageTimes(("detect",), smoothing=0.5)
    for ms in (10.0, 20.0, 30.0):
        times.add("detect", ms)
    assert times.mean()["detect"] == pytest.approx(20.0)
    assert times.current["detect"] == pytest.approx(22.5)  # 10 -> 15 -> 22.5


def test_stopwatch_records_a_stage() -> None:
    times = StageTimes()
    with Stopwatch(times, "draw") as watch:
        sum(range(1000))
    assert times.count["draw"] == 1
    assert times.total["draw"] == pytest.approx(watch.ms)
