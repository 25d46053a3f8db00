"""Stop signals act as Ctrl-C, and the signal is still known when a library re-raises its own interrupt."""
from __future__ import annotations

import os
import signal
import time

import pytest

from vidstyle.utils.signals import Terminated, signal_number, stop_signals_interrupt


def test_sigterm_raises_terminated_inside_and_the_old_handler_comes_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated) as caught, stop_signals_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises at once; the sleep never ends on its own
    assert signal_number(caught.value) == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_stop_signal_a_library_swallows_is_still_known():
    with pytest.raises(KeyboardInterrupt) as caught, stop_signals_interrupt() as stops:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        except Terminated:
            raise KeyboardInterrupt from None  # what Ray's C++ core does: our exception is gone
    assert not isinstance(caught.value, Terminated)
    assert signal_number(caught.value, stops) == signal.SIGTERM
    assert signal_number(caught.value) == signal.SIGINT  # without the record: taken for Ctrl-C
