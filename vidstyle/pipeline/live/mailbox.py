"""The newest-frame-only hand-over between the capture thread and the live loop."""
from __future__ import annotations

import threading
from typing import Iterable, Optional

from vidstyle.types import Frame


class LatestFrame:
    """A one-slot mailbox between the capture thread and the consumer.

    :meth:`put` replaces an unread frame (counting it in :attr:`dropped`); :meth:`get` returns
    the newest unread frame, waiting up to ``timeout``. After :meth:`close` ``get`` returns
    None (end of stream) or raises the error the producer closed with.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Optional[Frame] = None
        self._closed = False
        self._error: Optional[BaseException] = None
        self.captured = 0
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self.captured += 1
            self._cond.notify_all()

    def close(self, error: Optional[BaseException] = None) -> None:
        with self._cond:
            self._closed = True
            self._error = error
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def get(self, timeout: float = 0.1) -> Optional[Frame]:
        """The newest unread frame, or None on timeout / end of stream (see :attr:`ended`)."""
        with self._cond:
            if self._frame is None and not self._closed:
                self._cond.wait(timeout)
            frame, self._frame = self._frame, None
            if frame is None and self._closed and self._error is not None:
                error, self._error = self._error, None
                raise error
            return frame

    @property
    def ended(self) -> bool:
        with self._cond:
            return self._closed and self._frame is None


def capture_into(source: Iterable[Frame], slot: LatestFrame, stop: threading.Event) -> threading.Thread:
    """Start a daemon thread that feeds ``source``'s frames into ``slot`` until it ends or ``stop``."""

    def run() -> None:
        try:
            for frame in source:
                if stop.is_set():
                    break
                slot.put(frame)
            slot.close()
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer through the slot
            slot.close(exc)

    thread = threading.Thread(target=run, name="vidstyle-capture", daemon=True)
    thread.start()
    return thread
