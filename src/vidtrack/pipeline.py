"""The one place the stages meet: source → detector → tracker → overlay → sinks.

Each source runs in its own *lane* (own tracker ids, trails and outputs); all lanes share
one detector. Work overlaps in stages joined by bounded queues, so memory stays flat
however long the run:

    decode thread ──▶ lane thread: detect (up to N frames in flight) → track → draw ──▶ output thread: sinks
       (per source)        (detector workers shared by all lanes)                       (encode, JSONL, web view)

When to run the detector (``--motion-gate``, ``--detect-every``) is the lane's
:class:`~vidtrack.detection.schedule.DetectSchedule`: a frame it skips still travels the whole
lane, with tracks interpolated between the detected frames around it (files: the lane holds
the skipped frames until the next detection is tracked), predicted (live) or held where
nothing moved (:mod:`vidtrack.tracking.stride`).

Stopping (Ctrl-C, SIGTERM, ``q`` in the window) asks every source to stop; frames already
in flight are finished and written, and every sink is closed, so outputs stay valid.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from vidtrack.bounded import FrameQueue
from vidtrack.frames import Frame, FrameResult, LaneReport  # LaneReport re-exported: the old import path
from vidtrack.labels import class_counts
from vidtrack.overlay import HudInfo, Overlay
from vidtrack.sinks import Sink
from vidtrack.stats import STAGES, RateMeter, StageTimes, Stopwatch, frames_per_second
from vidtrack.tracking.base import Tracker
from vidtrack.tracking.repeats import repeated_boxes
from vidtrack.tracking.clip import clip_to_frame
from vidtrack.tracking.lookahead import LookAhead
from vidtrack.tracking import stride as strided

if TYPE_CHECKING:
    import supervision as sv

    from vidtrack.analytics.stage import AnalyticsStage
    from vidtrack.detection import Detector
    from vidtrack.detection.schedule import DetectSchedule
    from vidtrack.frames import SourceStatus
    from vidtrack.motion import CameraMotion
    from vidtrack.sources import Source
    from vidtrack.wallclock import WallClock

log = logging.getLogger("vidtrack")

#: Finished frames waiting for the sinks. Small: a slow encoder should slow the lane
#: (files) or let the live reader skip frames, not fill memory.
OUTPUT_QUEUE = 4
_DONE = object()
_END_TRACKS = object()  # live lanes: end old tracks after a reconnect gap, in frame order


@dataclass
class Lane:
    """One source and everything that is per source."""

    source: "Source"
    tracker: Tracker
    sinks: list[Sink] = field(default_factory=list)  # this lane's outputs, closed when the lane ends
    overlay: Overlay | None = None  # None when nothing shows pictures: skip drawing entirely
    analytics: "AnalyticsStage | None" = None  # lines, zones, events, redaction; None when none asked
    viewers: list[Sink] = field(default_factory=list)  # shared by all lanes; their owner closes them
    # Holds min_hits - 1 frames of a recorded file so tracks are reported from their first
    # frame; window 0 (live, stills) passes frames straight through.
    lookahead: LookAhead = field(default_factory=LookAhead)
    # When the detector runs (motion gate, stride); None: on every frame.
    schedule: "DetectSchedule | None" = None
    _gaps: "_GapState" = field(default_factory=lambda: _GapState())

    # Wall-clock time of the frames (--start-time): set for files by the runner; for live
    # sources (capture_clock) made from the capture clock at the first frame.
    clock: "WallClock | None" = None
    capture_clock: bool = False
    # A sink needs the picture after redaction and before drawing (snapshots, clean clips):
    # it travels as FrameResult.clean (one copy a frame when something draws).
    keep_clean: bool = False
    # Camera motion compensation (--cmc); None: off, or stills.
    motion: "CameraMotion | None" = None


@dataclass
class _GapState:
    """A lane's tracks around frames the detector skipped (only the lane's own thread touches it)."""

    last: "sv.Detections | None" = None  # tracker output of the latest detected frame (a copy)
    previous: "sv.Detections | None" = None  # ... of the detected frame before it
    gap: int = 0  # frames from ``previous`` to ``last``
    since: int = 0  # frames since ``last``
    skipped: list = field(default_factory=list)  # files: frames waiting for the next detection
    last_boxes: "np.ndarray | None" = None  # the detections matched by the rows of ``last`` (pixels)
    still: "sv.Detections | None" = None  # detections of the latest detected frame's confirmed tracks
    held: bool = False  # a still frame came since the latest detection

    def clear(self) -> None:
        self.last = self.previous = self.still = self.last_boxes = None
        self.gap = self.since = 0
        self.held = False
        self.skipped.clear()



class Pipeline:
    """Runs lanes to completion (or until :meth:`stop`), then finalises every output."""

    def __init__(
        self,
        detector: "Detector",
        lanes: Sequence[Lane],
        on_frame: Callable[[int, FrameResult], None] | None = None,
        gate: Callable[[int, FrameResult], bool] | None = None,
    ) -> None:
        self.detector = detector
        self.lanes = list(lanes)
        self.on_frame = on_frame  # called from output threads with (lane index, result)
        # Called before a finished frame is written; False drops it unwritten (the Python API
        # writes only the frames its caller received: a break at frame 49 leaves 50 frames).
        self.gate = gate
        self._stop = threading.Event()
        workers = max(1, int(detector.max_in_flight))
        self._workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="detect")
        # Live lanes share the detector's slots: a frame to detect waits for a free worker
        # before it is submitted, so a camera never has more frames queued than workers free
        # and waiting cameras are served in turn (first come, first served: a freed slot is
        # handed to the longest waiter, never taken over by whoever asks next); frames the schedule keeps from the detector (gated, strided) need no
        # slot, so idle cameras never wait behind busy ones.
        self._live_slots = _FairSlots(workers)

    def stop(self) -> None:
        """Ask every lane to finish soon. Safe from signal handlers and other threads."""
        self._stop.set()
        for lane in self.lanes:
            lane.source.stop()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called (lanes are finishing)."""
        return self._stop.is_set()

    def run(self) -> list[LaneReport]:
        """Run every lane to its end (or :meth:`stop`), then close its sinks and source; one report per lane.

        One lane runs on the calling thread; several run on one thread each while the caller
        joins them in 0.2 s steps, so signals are still handled. Errors of a lane (source,
        detector, sink) do not propagate: they end that lane and are kept in its
        :attr:`LaneReport.error` for the caller to report. The detector's worker pool is shut
        down on return, so a ``Pipeline`` runs once.

        Returns:
            One :class:`LaneReport` per lane, in the order of ``lanes``.
        """
        reports = [LaneReport(source=lane.source.info) for lane in self.lanes]
        start = time.perf_counter()
        try:
            if len(self.lanes) == 1:
                self._run_lane(0, reports[0], start)
            else:
                threads = [
                    threading.Thread(target=self._run_lane, args=(i, reports[i], start), name=f"lane-{i}")
                    for i in range(len(self.lanes))
                ]
                for t in threads:
                    t.start()
                for t in threads:
                    while t.is_alive():
                        t.join(timeout=0.2)  # short joins keep the main thread responsive to signals
        finally:
            self._executor.shutdown(wait=True, cancel_futures=True)
        return reports

    # -- one lane -------------------------------------------------------------------

    def _detect(self, image: Any) -> tuple["sv.Detections", float]:
        t0 = time.perf_counter()
        detections = self.detector.detect(image)
        return detections, (time.perf_counter() - t0) * 1000.0

    def _detect_frame(self, frame: Frame) -> tuple["sv.Detections", float]:
        """Detect in ``frame`` on a detector worker (where an unconverted frame gets its BGR picture)."""
        return self._detect(frame.image)

    def _run_lane(self, index: int, report: LaneReport, run_start: float) -> None:
        lane = self.lanes[index]
        times = StageTimes(STAGES)
        rate = RateMeter()
        out: "queue.Queue[Any]" = FrameQueue(OUTPUT_QUEUE)  # bounded in bytes too: big frames queue fewer
        output = threading.Thread(
            target=self._output_loop, args=(index, lane, out, times, report, run_start), name=f"output-{index}"
        )
        output.start()
        pending: deque[tuple[Frame, Future]] = deque()
        live = lane.source.info.is_live
        # Files keep one frame queued beyond the busy workers so the detector never idles.
        # Live lanes take a frame only when a worker is free (a queued frame would age), and
        # a finisher thread finishes each frame as soon as its detection is done, instead of
        # when the next frame arrives (which, for a camera that pauses, may be much later).
        depth = self._workers if live else self._workers + 1
        slots = threading.Semaphore(depth)
        handoff: "queue.Queue[Any]" = queue.Queue()
        finisher = None
        if live:
            finisher = threading.Thread(
                target=self._finish_loop, args=(lane, handoff, slots, times, rate, out, report), name=f"finish-{index}"
            )
            finisher.start()
        seen_reconnects = lane.source.reconnects
        holding = 0  # live: slots this loop holds for a frame not yet handed on (lane's, then shared)
        frames = iter(lane.source.frames())
        size: tuple[int, ...] | None = None
        try:
            while True:
                if live and not self._free_slot(slots, report):
                    break
                holding = 1 if live else 0
                frame = next(frames, None)
                if frame is None or self._stop.is_set() or report.error is not None:
                    break
                reconnects = lane.source.reconnects
                new_size = size is not None and frame.size != size
                if reconnects != seen_reconnects or new_size:
                    # Finish frames from before the gap or size change first, then let old
                    # tracks end: their boxes are in another picture's coordinates.
                    if live:
                        handoff.put(_END_TRACKS)
                    else:
                        while pending:
                            self._finish(lane, *pending.popleft(), times, rate, out)
                        self._emit_held(lane, times, rate, out)
                        lane.tracker.end_tracks()
                        if lane.motion is not None:
                            lane.motion.reset()
                    seen_reconnects = reconnects
                    if lane.schedule is not None:
                        lane.schedule.reset()
                size = frame.size
                action = "detect"
                if lane.schedule is not None:
                    action = lane.schedule.decide(frame, bool(getattr(lane.tracker, "has_tentative", False)))
                if action == "detect" and live:
                    if not self._free_slot(self._live_slots, report):
                        break
                    holding = 2
                if action == "detect":
                    future = self._executor.submit(self._detect_frame, frame)
                else:  # no detector: a finished future carries the schedule's verdict
                    future = Future()
                    future.set_result((action, 0.0))
                if live:
                    handoff.put((frame, future, action == "detect"))  # the finisher releases the slots
                    holding = 0
                    continue
                pending.append((frame, future))
                if len(pending) >= depth:
                    self._finish(lane, *pending.popleft(), times, rate, out)
            while pending and report.error is None:
                self._finish(lane, *pending.popleft(), times, rate, out)
            if not live and report.error is None:  # live: the finisher does it after its last frame
                self._emit_held(lane, times, rate, out)
        except BaseException as exc:  # finalise outputs, then let the CLI report it
            report.error = report.error or exc
        finally:
            if holding:
                slots.release()
                if holding == 2:
                    self._live_slots.release()
            for _, future in pending:
                future.cancel()
            if finisher is not None:
                handoff.put(_DONE)
                finisher.join()
            report.stopped = self._stop.is_set()
            out.put(_DONE)
            output.join()
            lane.source.close()
            report.status = lane.source.status
            report.wall_s = time.perf_counter() - run_start
            report.stage_ms = {k: round(v, 2) for k, v in times.mean().items()}
            report.schedule = lane.schedule.counts if lane.schedule is not None else None

    def _free_slot(self, slots: "threading.Semaphore | _FairSlots", report: LaneReport) -> bool:
        """Wait for a detection slot; False when the run is stopping instead."""
        while not slots.acquire(timeout=0.1):
            if self._stop.is_set() or report.error is not None:
                return False
        return True

    def _finish_loop(
        self,
        lane: Lane,
        handoff: "queue.Queue[Any]",
        slots: threading.Semaphore,
        times: StageTimes,
        rate: RateMeter,
        out: "queue.Queue[Any]",
        report: LaneReport,
    ) -> None:
        """Live lanes: finish frames in order as their detections complete; frees a slot each."""
        while True:
            item = handoff.get()
            try:
                if item is _DONE or item is _END_TRACKS:
                    if report.error is None:
                        self._emit_held(lane, times, rate, out)
                    if item is _DONE:
                        return
                    lane.tracker.end_tracks()
                    if lane.motion is not None:
                        lane.motion.reset()
                    continue
                frame, future, shared = item
                try:
                    if report.error is None:
                        self._finish(lane, frame, future, times, rate, out)
                    else:
                        future.cancel()
                finally:
                    slots.release()
                    if shared:
                        self._live_slots.release()
            except BaseException as exc:
                report.error = report.error or exc
                lane.source.stop()

    def _finish(
        self, lane: Lane, frame: Frame, future: Future, times: StageTimes, rate: RateMeter, out: "queue.Queue[Any]",
        refining: bool = False,
    ) -> None:
        """Track one frame, then emit the frames the look-ahead lets go (0 or more).

        A frame the schedule kept from the detector carries its verdict instead of detections
        (:meth:`_undetected`). ``refining``: a skipped frame detected after all (:meth:`_refine`).
        """
        detections, detect_ms = future.result()
        times.add("decode", frame.decode_ms)
        if isinstance(detections, str):
            if not (detections == "hold" and getattr(lane.tracker, "has_tentative", False)):
                self._undetected(lane, frame, detections, times, rate, out)
                return
            # Decided before the frame ahead of it was tracked: a new object waits for
            # confirmation, so detect after all (a held frame would not count towards it).
            assert lane.schedule is not None
            lane.schedule.promote(frame)
            detections, detect_ms = self._detect(frame.image)
        times.add("detect", detect_ms)
        gaps = lane._gaps
        tracked = None
        affine = None
        if lane.motion is not None and not refining:
            with Stopwatch(times, "track"):  # camera motion included: it serves the tracker only
                affine = lane.motion.estimate(frame.image, detections.xyxy)
        if gaps.skipped and gaps.last is not None:
            # Files: frames were skipped since the last detection. Track this frame on a copy of
            # the tracker first, the tracks coasting through the gap frame by frame. Unless the gap
            # was plain motion (:func:`_plain_gap`), detect the skipped frames after all and track
            # them in order, as a full-rate run would; else track them on the lane's tracker frame
            # by frame along each track's straight path to this frame (:meth:`_bridge`). The
            # camera's motion over the gap (``affine``) moves the tracks once, before the gap: the
            # paths then run in this frame's pixels.
            with Stopwatch(times, "track"):
                probe = copy.deepcopy(lane.tracker)
                if affine is not None:
                    probe.compensate(affine)
                coast = getattr(probe, "update_interpolated", probe.update_all)
                for k in range(1, len(gaps.skipped) + 1):
                    ahead = strided.predict(gaps.previous, gaps.last, gaps.gap, k)
                    if affine is not None:
                        ahead.xyxy = strided.warp(ahead.xyxy, affine)
                    coast(ahead)
                tracked = probe.update_all(detections)
            if _plain_gap(lane, gaps.last, tracked):
                if affine is not None:
                    lane.tracker.compensate(affine)
                self._bridge(lane, detections, tracked, times, rate, out, affine)
                affine = None  # applied before the gap
            else:
                self._refine(lane, times, rate, out)
            tracked = None
        if tracked is None:
            with Stopwatch(times, "track"):
                if affine is not None:
                    lane.tracker.compensate(affine)
                tracked = lane.tracker.update_all(detections)
        if lane.schedule is not None:
            self._detected(lane, frame, detections, tracked, times, rate, out)
        # The raw detections travel with their frame: redaction hides every detection of a
        # redacted class, also those no confirmed track reports (fail closed).
        self._push(lane, frame, detections, tracked, "detect", times, rate, out)

    def _refine(self, lane: Lane, times: StageTimes, rate: RateMeter, out: "queue.Queue[Any]") -> None:
        """Detect the frames skipped since the last detection (files) and track them in order."""
        gaps = lane._gaps
        waiting, gaps.skipped = gaps.skipped, []
        assert lane.schedule is not None
        lane.schedule.refined(len(waiting))
        futures = [self._executor.submit(self._detect_frame, skipped) for skipped in waiting]
        for skipped, future in zip(waiting, futures):
            gaps.since = 0
            self._finish(lane, skipped, future, times, rate, out, refining=True)
        gaps.since = 0

    def _bridge(
        self, lane: Lane, detections: "sv.Detections", probed: "sv.Detections", times: StageTimes, rate: RateMeter,
        out: "queue.Queue[Any]", affine: "np.ndarray | None" = None,
    ) -> None:
        """Files: track the frames skipped since the last detection on each track's straight path to
        ``detections`` (the tracks ``probed`` matched there, :func:`strided.bridge`), frame by frame.
        ``affine``: the camera's motion over the gap (the paths start at the last boxes moved by it)."""
        gaps = lane._gaps
        waiting, gaps.skipped = gaps.skipped, []
        assert gaps.last is not None
        start = strided.warp(gaps.last_boxes, affine)
        steps = strided.bridge(gaps.last, start, probed, detections, len(waiting) + 1)
        update = getattr(lane.tracker, "update_interpolated", lane.tracker.update_all)
        for frame, step in zip(waiting, steps):
            with Stopwatch(times, "track"):
                tracked = update(step)
            self._push(lane, frame, step, tracked, "interpolate", times, rate, out)

    def _push(
        self, lane: Lane, frame: Frame, raw: "sv.Detections", tracked: "sv.Detections", action: str,
        times: StageTimes, rate: RateMeter, out: "queue.Queue[Any]",
    ) -> None:
        for (held, held_raw, held_action), confirmed in lane.lookahead.push_detections((frame, raw, action), tracked):
            self._emit(lane, held, held_raw, confirmed, times, rate, out, held_action)

    def _detected(
        self, lane: Lane, frame: Frame, detections: "sv.Detections", tracked: "sv.Detections", times: StageTimes,
        rate: RateMeter, out: "queue.Queue[Any]",
    ) -> None:
        """A detected frame of a scheduled lane: interpolate the frames skipped before it; next stride."""
        gaps = lane._gaps
        if gaps.skipped:
            steps = len(gaps.skipped) + 1
            for k, skipped in enumerate(gaps.skipped, start=1):
                between = strided.interpolate(gaps.last, tracked, k, steps) if gaps.last is not None else _empty_like(None)
                self._push(lane, skipped, between, between, "interpolate", times, rate, out)
            gaps.skipped.clear()
        schedule = lane.schedule
        assert schedule is not None
        gap = gaps.since + 1
        if schedule.auto:
            analytics = lane.analytics
            # Live: nothing is interpolated, so a crossing must be seen on a detected frame; files
            # detect a gap frame by frame after all when a track came near a line (_plain_gap).
            near = None
            if analytics is not None and lane.source.info.is_live:
                near = lambda reach: analytics.near_lines(tracked, reach)  # noqa: E731
            # After a still stretch the speeds are unknown (the last detection is seconds old).
            previous = None if gaps.held else gaps.last
            schedule.set_stride(strided.auto_stride(previous, tracked, gap, schedule.max_stride, frame.size[1], near))
        gaps.held = False
        gaps.previous, gaps.last, gaps.gap, gaps.since = gaps.last, strided.hold(tracked), gap, 0
        gaps.last_boxes = np.asarray(detections.xyxy)[np.asarray(tracked.data["det_index"], dtype=np.int64)]
        # What a still frame is fed to the tracker: the detections of this frame's confirmed tracks.
        confirmed = np.asarray(tracked.data["det_index"])[np.asarray(tracked.tracker_id) > 0]
        gaps.still = detections[confirmed] if len(confirmed) < len(detections) else detections

    def _undetected(
        self, lane: Lane, frame: Frame, action: str, times: StageTimes, rate: RateMeter, out: "queue.Queue[Any]"
    ) -> None:
        """A frame the detector skipped: held tracks (nothing moved), or interpolated/predicted (stride)."""
        gaps = lane._gaps
        gaps.since += 1
        if action == "skip" and not lane.source.info.is_live and gaps.last is not None:
            gaps.skipped.append(frame)  # emitted once the next detected frame is tracked
            return
        if action == "hold":
            gaps.held = True
        if action == "hold" and gaps.still is not None:
            # Nothing moved: the tracker sees the confirmed objects again where they were detected,
            # so it ages and ends the tracks of objects gone as on a full-rate run.
            with Stopwatch(times, "track"):
                tracked = lane.tracker.update_all(gaps.still)
            self._push(lane, frame, gaps.still, tracked, action, times, rate, out)
            return
        if gaps.last is None:
            tracked = _empty_like(None)
        elif action == "skip":
            tracked = strided.predict(gaps.previous, gaps.last, gaps.gap, gaps.since)
            action = "predict"
        else:
            tracked = strided.hold(gaps.last)
        self._push(lane, frame, tracked, tracked, action, times, rate, out)

    def _flush_skipped(self, lane: Lane, times: StageTimes, rate: RateMeter, out: "queue.Queue[Any]") -> None:
        """Frames still waiting for a detection that will not come (end, gap): predicted tracks."""
        gaps = lane._gaps
        waiting, gaps.skipped = gaps.skipped, []
        for k, frame in enumerate(waiting, start=1):
            tracked = strided.predict(gaps.previous, gaps.last, gaps.gap, k) if gaps.last is not None else _empty_like(None)
            self._push(lane, frame, tracked, tracked, "predict", times, rate, out)
        gaps.clear()

    def _emit_held(self, lane: Lane, times: StageTimes, rate: RateMeter, out: "queue.Queue[Any]") -> None:
        """Emit every frame the look-ahead still holds (end of source, reconnect gap)."""
        if lane.schedule is not None:
            self._flush_skipped(lane, times, rate, out)
        for (held, raw, action), confirmed in lane.lookahead.flush_detections():
            self._emit(lane, held, raw, confirmed, times, rate, out, action)

    def _emit(
        self,
        lane: Lane,
        frame: Frame,
        detections: "sv.Detections",
        tracked: "sv.Detections",
        times: StageTimes,
        rate: RateMeter,
        out: "queue.Queue[Any]",
        action: str = "detect",
    ) -> None:
        """The rest of the lane for one frame whose ids are final: clip, analytics, draw, hand to the sinks.

        ``detections`` are the frame's raw detections, ``tracked`` its confirmed tracks,
        ``action`` where they come from (detect, interpolate, predict, hold).
        """
        # The one place boxes are made to fit the picture: every output sees the same boxes.
        tracked = clip_to_frame(tracked, *frame.size)
        if lane.clock is None and lane.capture_clock:
            from vidtrack.wallclock import capture_clock

            lane.clock = capture_clock(frame.pts, frame.captured, time.time(), time.monotonic())
            if lane.analytics is not None:
                lane.analytics.clock = lane.clock
        if lane.clock is not None:
            frame.time = lane.clock.at(frame.pts)
        # Lines, zones and events; redaction of frame.image before anything draws or writes it.
        scene = lane.analytics.process(frame, detections, tracked) if lane.analytics is not None else None
        counts = class_counts(tracked)
        rate.tick()
        age_ms = (time.monotonic() - frame.captured) * 1000.0
        annotated = None
        clean = None
        if lane.keep_clean:
            clean = frame.image.copy() if lane.overlay is not None else frame.image
        if lane.overlay is not None:
            with Stopwatch(times, "draw"):
                hud = HudInfo(
                    fps=rate.fps,
                    stage_ms={k: times.current[k] for k in STAGES},
                    counts=counts,
                    frame_age_ms=age_ms if lane.source.info.is_live else None,
                    # A file's reader ends ahead of the lane: its 'ended' would stamp the last frames.
                    status=lane.source.status if lane.source.info.is_live else None,
                    tiles=tracked.metadata.get("tiles"),  # set by a tiling detector only (kept by tracking)
                    schedule=_schedule_line(lane.schedule, rate.fps),
                )
                # Nothing downstream needs the clean picture once it is annotated: draw on it.
                # The wall-clock time only when known: overlays that predate it keep working.
                timed = {"when": frame.time} if frame.time is not None else {}
                annotated = lane.overlay.draw(frame.image, tracked, hud, in_place=True, scene=scene, **timed)
        result = FrameResult(
            frame=frame,
            detections=tracked,
            annotated=annotated,
            events=scene.events if scene is not None else (),
            timings_ms={k: times.current[k] for k in STAGES},  # smoothed, for live displays
            fps=rate.fps,
            frame_age_ms=age_ms,
            counts=counts,
            detected=class_counts(detections),  # the summary's dropped detections
            repeated=repeated_boxes(detections),  # car+truck on one vehicle: not dropped objects
            source_name=lane.source.info.name,
            status=lane.source.status,
            detector=action,
            clean=clean,
            redacted=scene.redacted if scene is not None else False,
        )
        out.put(result)

    def _output_loop(
        self,
        index: int,
        lane: Lane,
        out: "queue.Queue[Any]",
        times: StageTimes,
        report: LaneReport,
        run_start: float,
    ) -> None:
        """Feeds finished frames to the sinks; closes them all at the end, whatever happened."""
        first = last = None
        try:
            while True:
                item = out.get()
                if item is _DONE:
                    break
                if report.error is not None:
                    continue  # keep draining so the lane never blocks on a full queue
                if self.gate is not None and not self.gate(index, item):
                    continue  # not taken by the caller (who stopped): not written either
                try:
                    with Stopwatch(times, "encode"):
                        for sink in lane.sinks:
                            sink.write(item)
                    for viewer in lane.viewers:
                        viewer.write(item)
                except BaseException as exc:
                    report.error = exc
                    lane.source.stop()
                    continue
                now = time.perf_counter()
                first = first if first is not None else now
                last = now
                report.frames += 1
                if report.first_output_s is None:
                    report.first_output_s = now - run_start
                if self.on_frame is not None:
                    self.on_frame(index, item)
        finally:
            for sink in lane.sinks:
                try:
                    sink.close()
                except BaseException as exc:
                    report.error = report.error or exc
            if first is not None and last is not None and last > first:
                report.processing_fps = frames_per_second(report.frames, last - first)


class _FairSlots:
    """A semaphore that hands a released slot to the longest waiter (``threading.Semaphore``
    lets a thread that asks at the right moment take it over, so one busy lane could run
    many frames in a row while another waits)."""

    def __init__(self, slots: int) -> None:
        self._lock = threading.Lock()
        self._free = slots
        self._waiting: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        """Take a slot, waiting at most ``timeout`` seconds; False when none came."""
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._lock:
            if turn.is_set():  # handed over just as the wait ended
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


def _plain_gap(lane: Lane, last: "sv.Detections", tracked: "sv.Detections") -> bool:
    """Whether the frames between two detections of a file can be interpolated as they are.

    ``last`` and ``tracked``: the tracker's output at the two detected frames. A track in both
    moves along the straight line between its two boxes on the skipped frames, and lines and
    zones see its crossings there (their hysteresis counts interpolated observations like
    detected ones). What interpolation cannot know is where a track began or ended in between:
    a track new in ``tracked`` (it appeared in the gap), or a confirmed track of ``last`` not
    matched again (missed, occluded or gone: a full-rate run may keep or lose it differently).
    When such a track is within half its height of a counting line or a zone edge, or inside a
    zone, the gap is not plain: it is detected frame by frame, so counts and events stay the full-rate run's.
    Without lines or zones every gap is plain.
    """
    analytics = lane.analytics
    if analytics is None:
        return True
    before = strided.track_keys(last)
    after = strided.track_keys(tracked)
    confirmed = np.asarray(last.tracker_id) > 0 if last.tracker_id is not None else np.ones(len(before), bool)
    gone = confirmed & ~np.isin(before, after)
    new = ~np.isin(after, before)
    for detections, rows in ((last, gone), (tracked, new)):
        if np.count_nonzero(rows):
            boxes = np.asarray(detections.xyxy, dtype=np.float64)[rows]
            some = detections[rows]
            reach = 0.5 * np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
            if np.count_nonzero(analytics.near_lines(some, reach) | analytics.in_zones(some)):
                return False
    return True


def _empty_like(_: Any) -> "sv.Detections":
    import supervision as sv

    empty = sv.Detections.empty()
    empty.tracker_id = np.zeros(0, dtype=int)
    empty.data["track_key"] = np.zeros(0, dtype=np.int64)
    return empty


def _schedule_line(schedule: "DetectSchedule | None", fps: float) -> str | None:
    """HUD: how much the detector ran (share of frames, effective detections per second)."""
    if schedule is None or not schedule.counts.frames:
        return None
    counts = schedule.counts
    share = counts.detected / counts.frames
    return (
        f"detected {share:.0%} ({fps * share:.1f}/s)  gated {counts.gated / counts.frames:.0%}"
        f"  strided {counts.strided / counts.frames:.0%}"
    )
