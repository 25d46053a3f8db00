"""Recording the live output to a file without delaying the display."""
from __future__ import annotations

import contextlib
import os
import queue
import threading
from fractions import Fraction
from pathlib import Path
from typing import Optional

import numpy as np

from vidstyle.io.codecs import container_for
from vidstyle.io.encoder import EncoderSettings, VideoFileSink
from vidstyle.types import Frame
from vidstyle.utils.files import temp_path_for


class Recorder:
    """Encodes the live output to a file on its own thread, stamped with the capture clock.

    The file is written under a temporary name and renamed by :meth:`close`, which always
    leaves a playable file (also when the camera failed); a disk error surfaces on the next
    :meth:`write` or on :meth:`close`. A recorder closed before any frame leaves nothing behind.
    """

    def __init__(self, path: str | os.PathLike, fps: Optional[float] = None, settings: Optional[EncoderSettings] = None) -> None:
        self.path = Path(path)
        container_for(self.path)
        self._tmp = temp_path_for(self.path)
        self._sink = VideoFileSink(
            self._tmp, fps=Fraction(fps).limit_denominator(1001) if fps else None,
            settings=settings or EncoderSettings(preset="ultrafast", threads=1), display_path=self.path,
        )
        self._queue: queue.Queue = queue.Queue(maxsize=16)
        self._error: Optional[BaseException] = None
        self._start: Optional[float] = None
        self._last_pts = -1
        self.frames = 0
        self._thread = threading.Thread(target=self._run, name="vidstyle-record", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            if self._error is not None:
                continue
            try:
                self._sink.write(frame)
            except BaseException as exc:  # noqa: BLE001
                self._error = exc

    def write(self, image: np.ndarray, wallclock: float) -> None:
        """Queue one (H, W, 3) uint8 RGB frame captured at ``wallclock`` (``time.perf_counter()``)."""
        if self._error is not None:
            raise self._error
        if self._start is None:
            self._start = wallclock
        pts = max(self._last_pts + 1, round((wallclock - self._start) * 1000))
        self._last_pts = pts
        self._queue.put(Frame(image=image, pts=pts, time_base=Fraction(1, 1000), index=self.frames, wallclock=wallclock))
        self.frames += 1

    def close(self) -> Optional[Path]:
        """Finish the file and move it to its final name; returns the path (None if empty)."""
        self._queue.put(None)
        self._thread.join()
        try:
            if self._error is None and self._sink.frames_written:
                self._sink.close()
                os.replace(self._tmp, self.path)
                return self.path
            self._sink.abort()
        finally:
            with contextlib.suppress(FileNotFoundError):
                self._tmp.unlink()
        if self._error is not None:
            raise self._error
        return None
