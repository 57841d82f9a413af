"""Ctrl-C and SIGTERM wait for a critical section, then act at once (vidtrack.interrupts)."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from vidtrack.interrupts import deferred_interrupts


def test_a_signal_inside_the_section_is_delivered_right_after_it() -> None:
    steps: list[str] = []
    # Python's own Ctrl-C handler, whatever an earlier test in this process left installed
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            with deferred_interrupts():
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):  # Python would have run the handler within these bytecodes
                    pass
                steps.append("section finished")
            steps.append("after the section")  # the interrupt comes before this line
        assert steps == ["section finished"]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_sigterm_goes_to_the_handler_that_was_there_and_nests() -> None:
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with deferred_interrupts():
            with deferred_interrupts():
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):
                    pass
            assert seen == []  # still held by the outer section
        for _ in range(1000):
            pass
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_other_threads_are_left_alone() -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with deferred_interrupts():  # signal.signal would raise ValueError outside the main thread
                pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == []
