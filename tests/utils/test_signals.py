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


def test_an_interrupt_a_library_raises_while_handling_ours_keeps_the_signal():
    def library_call():
        try:
            raise Terminated(signal.SIGTERM)
        except KeyboardInterrupt:
            raise KeyboardInterrupt("cancelled the task")  # what Ray's get does with an interrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        library_call()
    assert not isinstance(caught.value, Terminated)
    assert signal_number(caught.value) == signal.SIGTERM
    assert signal_number(KeyboardInterrupt()) == signal.SIGINT
