"""Stop signals act as Ctrl-C, and the signal is still known when a library swallows our interrupt.

Each check sends a real SIGTERM, so it runs in a fresh interpreter: the test process may hold threads of
other libraries (Ray, gRPC, OpenVINO) that must not see a signal meant for this check.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent("""
    import os, signal, time
    from vidstyle.utils.signals import Terminated, signal_number, stop_signals_interrupt

    before = signal.getsignal(signal.SIGTERM)
    try:
        with stop_signals_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises at once; the sleep never ends on its own
    except Terminated as exc:
        print("raised", signal_number(exc) == signal.SIGTERM, signal.getsignal(signal.SIGTERM) is before)

    try:
        with stop_signals_interrupt() as stops:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            except Terminated:
                raise KeyboardInterrupt from None  # what Ray's C++ core does: our exception is gone
    except KeyboardInterrupt as exc:
        print("swallowed", not isinstance(exc, Terminated), signal_number(exc, stops) == signal.SIGTERM,
              signal_number(exc) == signal.SIGINT)
""")


def test_stop_signals_raise_and_are_remembered_when_a_library_swallows_them():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["raised True True", "swallowed True True True"], result.stdout
