"""Sections of work that Ctrl-C or SIGTERM must not cut in half.

``vidtrack`` stops on Ctrl-C (SIGINT) and on SIGTERM by raising :class:`KeyboardInterrupt` in the
main thread, and every sink then finishes its file in a ``finally``. Python raises that exception
between any two bytecodes, so without care it can land between "frame sent to the encoder" and
"frame counted", or between the two halves of a JSONL line, and a finished file then holds one
frame more or less than reported, or half a record. :func:`deferred_interrupts` holds those
signals for the length of such a section and delivers them right after it.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

#: The signals that stop a run (the CLI turns SIGTERM into KeyboardInterrupt as Ctrl-C does).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the ``with`` block runs; deliver the first one after it.

    While the block runs, a stop signal is recorded instead of handled; on leaving, the previous
    handlers are put back and a recorded signal is raised again (``signal.raise_signal``), so the
    previous handler runs at once, after the block, exactly as it would have during it. Python
    runs signal handlers only in the main thread, and only the main thread may change them: in
    any other thread this does nothing, which is right, since no handler can interrupt it there.
    A handler installed from C (``signal.getsignal`` gives None) is left in place. Costs a few
    microseconds (four ``signal.signal`` calls); nests.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        caught.append(signum)

    previous = {}
    for signum in STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is not None:
            previous[signum] = signal.signal(signum, hold)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            signal.raise_signal(caught[0])
