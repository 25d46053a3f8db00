"""SIGTERM and SIGHUP handled like Ctrl-C, so every command cleans up the same way whatever stops it."""
from __future__ import annotations

import contextlib
import signal
import threading
from dataclasses import dataclass
from typing import Iterator, Optional

# The signals that stop a command politely (a service manager, a closed terminal, `kill PID`).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """A stop signal, raised as a KeyboardInterrupt so the Ctrl-C cleanup paths run (partial files
    removed or kept with --keep-partial, a training checkpoint saved). ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class StopRecord:
    """The last stop signal a :func:`stop_signals_interrupt` block received (None: none yet)."""

    signum: Optional[int] = None


def signal_number(exc: KeyboardInterrupt, record: Optional[StopRecord] = None) -> int:
    """The signal behind an interrupt: the stop signal's number, else SIGINT (Ctrl-C). A library that swallows
    our interrupt and raises its own (Ray's C++ core does, through PyErr_CheckSignals) loses the exception, so
    ``record``, which the handler wrote before raising, says it instead."""
    if isinstance(exc, Terminated):
        return exc.signum
    if record is not None and record.signum is not None:
        return record.signum
    return signal.SIGINT


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[StopRecord]:
    """While inside, SIGTERM and SIGHUP raise :class:`Terminated` in the main thread, as Ctrl-C raises
    KeyboardInterrupt, and are written to the yielded :class:`StopRecord`. The previous handlers come back on
    exit. Outside the main thread it does nothing (Python delivers signals to the main thread only)."""
    record = StopRecord()
    if threading.current_thread() is not threading.main_thread():
        yield record
        return

    def handler(signum, _frame):
        record.signum = signum
        raise Terminated(signum)

    previous = {}
    for sig in STOP_SIGNALS:
        try:
            previous[sig] = signal.signal(sig, handler)
        except (OSError, ValueError):
            pass
    try:
        yield record
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
