"""SIGTERM and SIGHUP handled like Ctrl-C, so every command cleans up the same way whatever stops it."""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

# The signals that stop a command politely (a service manager, a closed terminal, `kill PID`).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """A stop signal, raised as a KeyboardInterrupt so the Ctrl-C cleanup paths run (partial files
    removed or kept with --keep-partial, a training checkpoint saved). ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signal_number(exc: KeyboardInterrupt) -> int:
    """The signal behind an interrupt: SIGINT for Ctrl-C, else the stop signal's number. A library that catches
    the interrupt and raises its own (Ray's ``get`` does) keeps ours as the context, so the chain is searched."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Terminated):
            return seen.signum
        seen = seen.__cause__ or seen.__context__
    return signal.SIGINT


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise :class:`Terminated` in the main thread, as Ctrl-C raises
    KeyboardInterrupt. The previous handlers come back on exit. Outside the main thread it does nothing
    (Python delivers signals to the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        raise Terminated(signum)

    previous = {}
    for sig in STOP_SIGNALS:
        try:
            previous[sig] = signal.signal(sig, handler)
        except (OSError, ValueError):
            pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
