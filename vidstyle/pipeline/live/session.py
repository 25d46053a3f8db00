"""Live mode: camera -> stylizer -> window/recording/virtual camera with the least latency.

The capture thread keeps only the newest frame (a one-slot mailbox), so when the model is
slower than the camera, stale frames are dropped instead of queueing up: latency stays at
about one frame interval plus the model's time. Stylizing, display and key handling run on
the calling thread (OpenCV windows want the main thread); recording is encoded on its own
thread so it never delays the display.
"""
from __future__ import annotations

import contextlib
import os
import queue
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from vidstyle.errors import InputError, OutputError, VidstyleError
from vidstyle.io.encoder import EncoderSettings, VideoFileSink, container_for
from vidstyle.runtime.base import Stylizer
from vidstyle.types import Frame
from vidstyle.utils.files import temp_path_for

TEMPORAL_MODES = ("none", "smooth", "trained")
STRENGTH_STEP = 0.1
KEY_ESC = 27


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


def capture_into(source, slot: LatestFrame, stop: threading.Event) -> threading.Thread:
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


class Recorder:
    """Encodes the live output to a file on its own thread, stamped with the capture clock.

    The file is written under a temporary name and renamed by :meth:`close`, which always
    leaves a playable file (also when the camera failed); a disk error surfaces on the next
    :meth:`write` or on :meth:`close`.
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


@dataclass
class LiveOptions:
    """Options of :func:`run_live` (the ``vidstyle live`` flags).

    camera: device index ("0"), /dev/videoN, a URL, a video file (played at its own rate, like a camera),
        or an open source object yielding Frames (with ``info`` and ``close()``).
    models: registry names / paths / Stylizers; ``n``/``p`` switch between them.
    strength: initial blend of stylized over original (``[``/``]`` change it).
    size, fps: requested capture size (width, height) and rate.
    display: open a window; frames: stop after this many shown frames (None: until q/Esc/end).
    record: start recording to this file at once (``r`` toggles recording).
    virtual_cam: also send the output to a virtual camera. mirror: flip horizontally.
    temporal: none, smooth (flow-guided blending with the previous output) or trained (each model's
        ``-temporal`` variant, as ``vidstyle video --temporal trained``; n/p then cycle temporal models only).
    snapshot_dir: where ``c`` snapshots and ``r`` recordings go.
    """

    camera: Any = "0"
    models: Sequence[Any] = ()
    backend: str = "auto"
    device: str = "auto"
    threads: Optional[int] = None
    strength: float = 1.0
    size: Optional[tuple[int, int]] = None
    fps: Optional[float] = None
    display: bool = True
    frames: Optional[int] = None
    record: Optional[str] = None
    virtual_cam: bool = False
    mirror: bool = False
    temporal: str = "none"
    smooth_blend: Optional[float] = None
    snapshot_dir: str = "."
    reconnect_seconds: float = 3.0
    title: str = "vidstyle"
    on_frame: Optional[Callable[[dict], None]] = None


@dataclass
class LiveStats:
    """What a live session did; latencies are capture-to-display, in milliseconds."""

    frames_shown: int = 0
    frames_captured: int = 0
    frames_dropped: int = 0
    seconds: float = 0.0
    latencies_ms: list = field(default_factory=list, repr=False)
    model_ms: list = field(default_factory=list, repr=False)
    recordings: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames_shown / self.seconds if self.seconds > 0 else 0.0

    @property
    def latency_ms_median(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def latency_ms_p95(self) -> float:
        return float(np.percentile(self.latencies_ms, 95)) if self.latencies_ms else 0.0

    @property
    def model_ms_median(self) -> float:
        return statistics.median(self.model_ms) if self.model_ms else 0.0


def open_live_source(camera: str | int, size=None, fps=None, reconnect_seconds: float = 3.0):
    """A camera for ``camera``; an existing video file becomes a source paced at its own frame rate."""
    text = str(camera)
    if not text.isdigit() and not text.startswith("/dev/") and Path(text).is_file():
        from vidstyle.io.file import FileSource

        return FileSource(text, size=size, realtime=True)
    from vidstyle.io.camera import CameraSource

    return CameraSource(camera, size=size, fps=fps, reconnect_seconds=reconnect_seconds)


class ModelCycle:
    """The models ``n``/``p`` step through; Stylizers are built on first use and kept."""

    def __init__(self, models: Sequence[Any], opts: LiveOptions) -> None:
        if not models:
            raise InputError("give at least one --model")
        self.models = list(models)
        self.opts = opts
        self.index = 0
        self._cache: dict[int, Stylizer] = {}

    @staticmethod
    def with_registry(models: Sequence[Any], temporal_only: bool = False) -> list[Any]:
        """One named model: add the other installed models (only temporally trained ones with
        ``temporal_only``), so n/p have somewhere to go."""
        if len(models) != 1 or not isinstance(models[0], str):
            return list(models)
        try:
            from vidstyle.models import list_models

            others = [m.name for m in list_models() if m.metadata is not None and m.name != models[0]
                      and (m.metadata.get("temporal") or not temporal_only)]
        except (ImportError, VidstyleError):
            others = []
        return [models[0], *others]

    def current(self) -> Stylizer:
        if self.index not in self._cache:
            model = self.models[self.index]
            if isinstance(model, Stylizer):
                self._cache[self.index] = model
            else:
                from vidstyle.pipeline.video import VideoOptions, make_stylizer

                self._cache[self.index] = make_stylizer(
                    model, VideoOptions(backend=self.opts.backend, device=self.opts.device, threads=self.opts.threads)
                )
        return self._cache[self.index]

    def name(self) -> str:
        model = self.models[self.index]
        stylizer = self._cache.get(self.index)
        name = getattr(stylizer, "model_name", None) or getattr(stylizer, "name", None)
        if isinstance(model, (str, os.PathLike)):
            return Path(str(model)).stem
        return str(name or "model")

    def step(self, delta: int) -> None:
        self.index = (self.index + delta) % len(self.models)

    def close(self) -> None:
        for i, stylizer in self._cache.items():
            if not isinstance(self.models[i], Stylizer):
                stylizer.close()


def blend(original: np.ndarray, stylized: np.ndarray, strength: float) -> np.ndarray:
    """strength * stylized + (1 - strength) * original, both (H, W, 3) uint8."""
    if strength >= 1.0:
        return stylized
    if strength <= 0.0:
        return original
    import cv2

    return cv2.addWeighted(stylized, strength, original, 1.0 - strength, 0.0)


def split_view(original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Left half original, right half stylized, with a thin divider."""
    out = stylized.copy()
    half = out.shape[1] // 2
    out[:, :half] = original[:, :half]
    out[:, max(0, half - 1) : half + 1] = 255
    return out


def _timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def run_live(options: LiveOptions) -> LiveStats:
    """Run a live session until q/Esc, the window closing, ``frames`` shown, or the source ending.

    Raises InputError when the camera cannot be opened or disappears for good (any recording is
    finished and kept playable first); Ctrl-C ends the session like q.
    """
    opts = options
    if opts.temporal not in TEMPORAL_MODES:
        raise InputError(f"live --temporal supports {', '.join(TEMPORAL_MODES)}, not {opts.temporal!r}")
    if opts.record:
        container_for(opts.record)
        out_dir = Path(opts.record).parent if str(Path(opts.record).parent) else Path(".")
        if not out_dir.is_dir():
            raise OutputError(f"output folder does not exist: {out_dir}")
    chosen = list(opts.models)
    if opts.temporal == "trained":
        from vidstyle.pipeline.video import temporal_model

        chosen = [temporal_model(model) for model in chosen]
    models = ModelCycle(ModelCycle.with_registry(chosen, temporal_only=opts.temporal == "trained"), opts)
    models.current()  # a bad model fails before the camera opens

    post = None
    if opts.temporal == "smooth":
        from vidstyle.flow.stabilize import FlowStabilizer

        post = FlowStabilizer() if opts.smooth_blend is None else FlowStabilizer(blend=opts.smooth_blend)

    window = None
    if opts.display:
        from vidstyle.io.window import DisplayWindow

        window = DisplayWindow(opts.title)

    if isinstance(opts.camera, (str, int, os.PathLike)):
        source = open_live_source(opts.camera, size=opts.size, fps=opts.fps, reconnect_seconds=opts.reconnect_seconds)
    else:
        source = opts.camera  # an already open source (CameraSource, FileSource, TestPatternSource ...)
    source_fps = float(source.info.fps) if source.info.fps else (opts.fps or 30.0)
    # Warm the model up at the capture size (graph compilation, allocations) before the clock starts.
    models.current().stylize(np.zeros((source.info.height, source.info.width, 3), np.uint8))
    slot = LatestFrame()
    stop = threading.Event()
    stats = LiveStats()
    strength = float(opts.strength)
    paused = split = False
    recorder: Optional[Recorder] = Recorder(opts.record, fps=source_fps) if opts.record else None
    virtual_cam = None
    last_view: Optional[np.ndarray] = None
    last_output: Optional[np.ndarray] = None
    interval_ema: Optional[float] = None
    last_shown: Optional[float] = None
    snapshot_dir = Path(opts.snapshot_dir)
    session_start = time.perf_counter()
    capture_thread = capture_into(source, slot, stop)

    try:
        while opts.frames is None or stats.frames_shown < opts.frames:
            try:
                frame = slot.get(timeout=0.05)
            except KeyboardInterrupt:
                break
            key = -1
            if frame is None:
                if slot.ended:
                    break
                if window is not None and last_view is not None:
                    key = window.show(last_view)  # keep the window responsive while waiting
            elif paused:
                if window is not None and last_view is not None:
                    key = window.show(last_view)
            else:
                image = frame.image[:, ::-1].copy() if opts.mirror else frame.image
                stylizer = models.current()
                started = time.perf_counter()
                stylized = stylizer.stylize(image)
                stats.model_ms.append((time.perf_counter() - started) * 1000)
                output = blend(image, stylized, strength)
                if post is not None:
                    output = post(image, output)
                if recorder is not None:
                    recorder.write(output, frame.wallclock)
                if opts.virtual_cam:
                    if virtual_cam is None:
                        from vidstyle.io.virtualcam import VirtualCameraSink

                        virtual_cam = VirtualCameraSink(output.shape[1], output.shape[0], fps=source_fps)
                    virtual_cam.write(output)
                last_output = output
                view = split_view(image, output) if split else output
                if window is not None:
                    from vidstyle.io.window import draw_overlay

                    fps_now = 1.0 / interval_ema if interval_ema else 0.0
                    latency_now = stats.latencies_ms[-1] if stats.latencies_ms else 0.0
                    lines = [
                        f"{fps_now:4.1f} fps  latency {latency_now:3.0f} ms",
                        f"{models.name()}  strength {strength:.1f}" + ("  REC" if recorder is not None else ""),
                    ]
                    last_view = draw_overlay(view, lines)
                    key = window.show(last_view)
                else:
                    last_view = view
                shown = time.perf_counter()
                stats.latencies_ms.append((shown - frame.wallclock) * 1000)
                if last_shown is not None:
                    dt = shown - last_shown
                    interval_ema = dt if interval_ema is None else 0.9 * interval_ema + 0.1 * dt
                last_shown = shown
                stats.frames_shown += 1
                if opts.on_frame is not None:
                    opts.on_frame({"index": stats.frames_shown - 1, "image": output, "latency_ms": stats.latencies_ms[-1]})

            if window is not None and window.closed:
                break
            if key in (ord("q"), KEY_ESC):
                break
            if key == ord("n") or key == ord("p"):
                models.step(1 if key == ord("n") else -1)
                if post is not None:
                    post.reset()
            elif key == ord("["):
                strength = max(0.0, round(strength - STRENGTH_STEP, 2))
            elif key == ord("]"):
                strength = min(1.0, round(strength + STRENGTH_STEP, 2))
            elif key == ord("s"):
                split = not split
            elif key == ord(" "):
                paused = not paused
            elif key == ord("c") and last_output is not None:
                from vidstyle.utils.image import save_image

                path = snapshot_dir / f"vidstyle-snapshot-{_timestamp()}-{len(stats.snapshots)}.png"
                stats.snapshots.append(save_image(last_output, path))
            elif key == ord("r"):
                if recorder is not None:
                    saved = recorder.close()
                    recorder = None
                    if saved is not None:
                        stats.recordings.append(saved)
                        print(f"vidstyle: saved recording {saved}", file=sys.stderr)
                else:
                    recorder = Recorder(snapshot_dir / f"vidstyle-recording-{_timestamp()}.mp4", fps=source_fps)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        # Let the capture thread leave its loop before closing what it reads from.
        capture_thread.join(timeout=5.0)
        source.close()
        stats.seconds = time.perf_counter() - session_start
        stats.frames_captured, stats.frames_dropped = slot.captured, slot.dropped
        if recorder is not None:
            saved = recorder.close()
            if saved is not None:
                stats.recordings.append(saved)
        if virtual_cam is not None:
            virtual_cam.close()
        if window is not None:
            window.close()
        models.close()
    return stats
