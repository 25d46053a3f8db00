"""Ordered, lossless source -> process -> sink pipeline in three threads joined by bounded queues.

Blocking puts give back-pressure: a slow stage stalls the ones before it instead of letting
frames pile up, so memory stays bounded by the queue sizes whatever the video's length.
The calling thread only supervises, so Ctrl-C is handled promptly and cleanly.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from vidstyle.types import Frame

# Marks the end of the stream in a queue.
_END = object()
# How often (seconds) a blocked thread looks at the stop flag.
_POLL = 0.05


@dataclass
class PipelineStats:
    """What a pipeline run did. ``process_seconds`` is the time spent inside ``process`` alone."""

    frames_in: int = 0
    frames_out: int = 0
    seconds: float = 0.0
    process_seconds: float = 0.0
    stage_errors: list = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames_out / self.seconds if self.seconds > 0 else 0.0

    @property
    def process_fps(self) -> float:
        return self.frames_out / self.process_seconds if self.process_seconds > 0 else 0.0


class _Stopped(Exception):
    """Raised inside a stage when another stage failed or the run was interrupted."""


class OrderedPipeline:
    """Run ``sink(process(frame))`` for every frame of ``source``, in order, none dropped.

    ``process`` gets a list of up to ``batch_size`` consecutive frames and returns the same
    number of frames (batching helps GPUs; 1 is best on CPUs). ``on_frame`` is called from the
    sink thread after each frame is written (progress bars). The first exception raised by
    any stage stops the others and is re-raised by :meth:`run`; so is KeyboardInterrupt.
    """

    def __init__(
        self,
        source: Iterable[Frame],
        process: Callable[[list[Frame]], list[Frame]],
        sink: Callable[[Frame], None],
        queue_size: int = 4,
        batch_size: int = 1,
        on_frame: Optional[Callable[[Frame], None]] = None,
    ) -> None:
        self.source = source
        self.process = process
        self.sink = sink
        self.batch_size = max(1, int(batch_size))
        self.on_frame = on_frame
        self._decoded: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._processed: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._stop = threading.Event()
        self._error: Optional[BaseException] = None
        self._error_lock = threading.Lock()
        self.stats = PipelineStats()

    def stop(self) -> None:
        """Ask every stage to finish early (thread-safe)."""
        self._stop.set()

    def _fail(self, exc: BaseException) -> None:
        with self._error_lock:
            if self._error is None:
                self._error = exc
        self._stop.set()

    def _put(self, q: queue.Queue, item) -> None:
        while True:
            if self._stop.is_set():
                raise _Stopped
            try:
                q.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    def _get(self, q: queue.Queue):
        while True:
            if self._stop.is_set():
                raise _Stopped
            try:
                return q.get(timeout=_POLL)
            except queue.Empty:
                continue

    def _read(self) -> None:
        try:
            for frame in self.source:
                self._put(self._decoded, frame)
                self.stats.frames_in += 1
            self._put(self._decoded, _END)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the supervising thread
            self._fail(exc)

    def _work(self) -> None:
        try:
            ended = False
            while not ended:
                batch = [self._get(self._decoded)]
                # Fill the batch (a GPU runs a full batch in about the time of one frame).
                while len(batch) < self.batch_size and batch[-1] is not _END:
                    batch.append(self._get(self._decoded))
                if batch[-1] is _END:
                    batch.pop()
                    ended = True
                if batch:
                    started = time.perf_counter()
                    results = self.process(batch)
                    self.stats.process_seconds += time.perf_counter() - started
                    if len(results) != len(batch):
                        raise RuntimeError(f"process returned {len(results)} frames for {len(batch)}")
                    for result in results:
                        self._put(self._processed, result)
            self._put(self._processed, _END)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)

    def _write(self) -> None:
        try:
            while True:
                frame = self._get(self._processed)
                if frame is _END:
                    return
                self.sink(frame)
                self.stats.frames_out += 1
                if self.on_frame is not None:
                    self.on_frame(frame)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)

    def run(self) -> PipelineStats:
        """Run to the end of the source; returns stats, or raises the first stage error."""
        threads = [
            threading.Thread(target=self._read, name="vidstyle-read", daemon=True),
            threading.Thread(target=self._work, name="vidstyle-stylize", daemon=True),
            threading.Thread(target=self._write, name="vidstyle-write", daemon=True),
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        try:
            # The writer finishing means everything before it finished (or something failed).
            while threads[2].is_alive():
                threads[2].join(timeout=0.1)
        except KeyboardInterrupt:
            self._stop.set()
            self._join(threads)
            raise
        self._stop.set()
        self._join(threads)
        self.stats.seconds = time.perf_counter() - started
        if self._error is not None:
            raise self._error
        return self.stats

    def drain(self) -> list[Frame]:
        """Frames processed but not yet written when a run stopped early, in order.

        Call after :meth:`run` raised (its threads are joined by then): a caller keeping a
        partial output writes these too, so no finished work is thrown away.
        """
        frames = []
        while True:
            try:
                item = self._processed.get_nowait()
            except queue.Empty:
                return frames
            if item is not _END:
                frames.append(item)

    @staticmethod
    def _join(threads: list[threading.Thread]) -> None:
        # Stages notice the stop flag within _POLL seconds, except inside one long model call.
        for thread in threads:
            thread.join(timeout=30.0)
