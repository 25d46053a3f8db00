"""The live loop: camera -> stylizer -> window/recording/virtual camera with the least latency.

The capture thread keeps only the newest frame (a one-slot mailbox), so when the model is
slower than the camera, stale frames are dropped instead of queueing up: latency stays at
about one frame interval plus the model's time. Stylizing, display and key handling run on
the calling thread (OpenCV windows want the main thread); models load on a thread of their own
while the current one keeps running; recording is encoded on its own thread so it never delays
the display.

Order of a session: options checked, the camera opened and the virtual camera claimed (either
fails in a second with one line), then the first model loads; the window opens with the first
camera frame (captioned "loading ..." until the model is ready).
"""
from __future__ import annotations

import os
import queue
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from vidstyle.errors import DeviceError, InputError
from vidstyle.io.codecs import container_for
from vidstyle.pipeline.live.blend import BLEND_STEP
from vidstyle.pipeline.live.mailbox import LatestFrame, capture_into
from vidstyle.pipeline.live.model_cycle import ModelCycle, SwitchRecord, default_loader, registry_companions
from vidstyle.pipeline.live.recorder import Recorder
from vidstyle.pipeline.live.sources import FittedSource, open_live_source
from vidstyle.pipeline.live.view import FIT_MODES, Fit, blend, overlay_lines, split_view
from vidstyle.pipeline.modes import LIVE_TEMPORAL_MODES
from vidstyle.runtime.export_worker import ExportWorker
from vidstyle.utils import validate
from vidstyle.utils.files import check_output_path

TEMPORAL_MODES = LIVE_TEMPORAL_MODES
# Frames up to this many pixels stay far below the runtime's tiling memory budget, so live models skip
# building the tiled engine (an extra graph export and compile: seconds more per model load).
UNTILED_MAX_PIXELS = 1920 * 1080
STRENGTH_STEP = 0.1
KEY_ESC = 27
# How long a one-off notice (a snapshot saved, a model that failed to load) stays in the overlay.
NOTICE_SECONDS = 3.0


@dataclass
class LiveOptions:
    """Options of :func:`run_live` (the ``vidstyle live`` flags).

    camera: device index ("0"), /dev/videoN, a URL, a video file (played at its own rate, like a camera),
        or an open source object yielding Frames (with ``info`` and ``close()``).
    models: registry names / paths / Stylizers / zero-argument callables returning a Stylizer; ``n``/``p``
        switch between them. One registry name alone: n/p also reach the other installed models that
        can keep up with the camera at this size (estimated from their multiply-adds per pixel).
    backend, device, threads, precision: how the models run (see ``vidstyle.runtime.create_stylizer``).
    strength: initial blend of stylized over original (``[``/``]`` change it).
    style: the first model's style or blend when it holds several (``"a"``, ``"a=0.6,b=0.4"``); ``n``/``p``
        step through its styles, ``b`` blends the current one with the next, ``,``/``.`` move that blend.
    size, fps: requested capture size (width, height) and rate; fit: how a picture of another shape
        goes into ``size``: letterbox (whole picture, black bars), crop (centre) or stretch.
    display: open a window; frames: stop after this many stylized frames shown (None: until q/Esc/end).
    record: start recording to this file at once (``r`` toggles recording).
    virtual_cam: also send the output to a virtual camera. mirror: flip horizontally.
    temporal: none, smooth (flow-guided blending with the previous output) or trained (each model's
        ``-temporal`` variant, as ``vidstyle video --temporal trained``; n/p then cycle temporal models only).
    snapshot_dir: where ``c`` snapshots and ``r`` recordings go. loop: play a video file camera again and again.
    keys: more key presses (one-character strings or ``waitKey`` codes) from elsewhere (a web page, a
        test); handled in order with the window's, none dropped.
    on_frame: called with a dict per stylized frame shown (index, image, latency_ms, model, strength, loading).
    on_message: called with one-line notices (snapshot saved, models left out, a failed load).
    """

    camera: Any = "0"
    models: Sequence[Any] = ()
    backend: str = "auto"
    device: str = "auto"
    threads: Optional[int] = None
    precision: str = "auto"
    strength: float = 1.0
    style: Optional[Any] = None
    size: Optional[tuple[int, int]] = None
    fps: Optional[float] = None
    fit: str = "letterbox"
    display: bool = True
    frames: Optional[int] = None
    record: Optional[str] = None
    overwrite: bool = False  # replace an existing --record file (never the camera's own file)
    virtual_cam: bool = False
    mirror: bool = False
    temporal: str = "none"
    smooth_blend: Optional[float] = None
    snapshot_dir: str = "."
    loop: bool = False
    reconnect_seconds: float = 3.0
    title: str = "vidstyle"
    keys: Optional["queue.Queue[Any]"] = None
    on_frame: Optional[Callable[[dict], None]] = None
    on_message: Optional[Callable[[str], None]] = None


@dataclass
class LiveStats:
    """What a live session did; latencies are capture-to-display, in milliseconds.

    frames_dropped: camera frames skipped as stale because the model was busy (the "could not keep up"
        figure); frames_missed: frames not stylized while paused or while a model loaded (not the model's fault).
    seconds: the whole session; paused_seconds: the part spent paused (fps leaves it out).
    switches: one record per n/p press (key to new style, load time, longest gap between frames meanwhile).
    end: why it ended: "quit", "window closed", "frames", "source ended" or "interrupted".
    """

    frames_shown: int = 0
    frames_captured: int = 0
    frames_dropped: int = 0
    frames_missed: int = 0
    seconds: float = 0.0
    paused_seconds: float = 0.0
    latencies_ms: list = field(default_factory=list, repr=False)
    model_ms: list = field(default_factory=list, repr=False)
    intervals_ms: list = field(default_factory=list, repr=False)
    recordings: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    switches: list = field(default_factory=list)
    keys: list = field(default_factory=list)
    left_out: list = field(default_factory=list)
    end: str = ""

    @property
    def fps(self) -> float:
        """Stylized frames shown per second of the session, pauses left out."""
        active = self.seconds - self.paused_seconds
        return self.frames_shown / active if active > 0 else 0.0

    @property
    def latency_ms_median(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def latency_ms_p95(self) -> float:
        return float(np.percentile(self.latencies_ms, 95)) if self.latencies_ms else 0.0

    @property
    def model_ms_median(self) -> float:
        return statistics.median(self.model_ms) if self.model_ms else 0.0

    @property
    def interval_ms_median(self) -> float:
        """The usual time between two frames shown (outside model loads and pauses)."""
        return statistics.median(self.intervals_ms) if self.intervals_ms else 0.0

    @property
    def skip_share(self) -> float:
        """Share of the camera frames that could have been stylized and were skipped as stale."""
        considered = self.frames_captured - self.frames_missed
        return self.frames_dropped / considered if considered > 0 else 0.0

    @property
    def completed_switches(self) -> list[SwitchRecord]:
        return [s for s in self.switches if s.key_to_style_ms is not None]


def _timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _key_code(key: Any) -> int:
    if isinstance(key, str):
        return ord(key[0]) if key else -1
    return int(key)


def _key_name(code: int) -> str:
    return {KEY_ESC: "Esc", 32: "space"}.get(code, chr(code) if 32 < code < 127 else str(code))


def _check_numbers(opts: LiveOptions) -> None:
    """InputError for a NaN, negative or absurd number among the options (see vidstyle.utils.validate)."""
    opts.strength = validate.finite("--strength", opts.strength, 0.0, 1.0)
    opts.fps = validate.optional_finite("--fps", opts.fps, low=0.0, high=1000.0, low_open=True)
    opts.frames = validate.optional_integer("--frames", opts.frames, low=1)
    opts.threads = validate.threads(opts.threads)
    opts.smooth_blend = validate.optional_finite("--smooth-blend", opts.smooth_blend, low=0.0, high=1.0,
                                                 high_open=True)
    if opts.size is not None:
        opts.size = validate.frame_size("--size", *opts.size)


def _check_options(opts: LiveOptions) -> None:
    if opts.temporal not in TEMPORAL_MODES:
        raise InputError(f"live --temporal supports {', '.join(TEMPORAL_MODES)}, not {opts.temporal!r}")
    if opts.fit not in FIT_MODES:
        raise InputError(f"--fit must be one of {', '.join(FIT_MODES)}, not {opts.fit!r}")
    if not opts.models:
        raise InputError("give at least one --model")
    _check_numbers(opts)
    if opts.record:
        container_for(opts.record)
        # The output rule of every command: never the camera's own file, an existing one only with overwrite.
        camera = opts.camera if isinstance(opts.camera, (str, os.PathLike)) else None
        check_output_path(opts.record, inputs=(camera,), overwrite=opts.overwrite)
    if opts.display:
        from vidstyle.io.window import display_available

        if not display_available():
            raise DeviceError("no display available (DISPLAY is not set); use --no-display to run headless")


def run_live(options: LiveOptions) -> LiveStats:
    """Run a live session until q/Esc, the window closing, ``frames`` shown, or the source ending.

    Raises InputError when the camera cannot be opened or disappears for good (any recording is
    finished and kept playable first), DeviceError for a missing display or virtual camera (before
    any model loads); Ctrl-C ends the session like q.
    """
    opts = options
    _check_options(opts)
    if isinstance(opts.camera, (str, int, os.PathLike)):
        raw_source = open_live_source(opts.camera, size=opts.size, fps=opts.fps, reconnect_seconds=opts.reconnect_seconds,
                                      loop=opts.loop)
    else:
        raw_source = opts.camera  # an already open source (CameraSource, FileSource, TestPatternSource ...)
    virtual_cam = None
    export_worker: Optional[ExportWorker] = None
    try:
        info = raw_source.info
        fit = Fit(info.width, info.height, opts.size, opts.fit)
        source = raw_source if fit.passthrough else FittedSource(raw_source, fit)
        source_fps = float(info.fps) if info.fps else (opts.fps or 30.0)
        if opts.virtual_cam:  # claimed before any model loads, so a missing loopback device fails at once
            from vidstyle.io.virtualcam import VirtualCameraSink

            virtual_cam = VirtualCameraSink(fit.canvas[0], fit.canvas[1], fps=source_fps)
        chosen = list(opts.models)
        if opts.temporal == "trained":
            from vidstyle.models.registry import temporal_model

            chosen = [temporal_model(model) for model in chosen]
        companions = registry_companions(chosen[0], temporal_only=opts.temporal == "trained") if len(chosen) == 1 else []
        untiled = {"tile": None} if fit.content[0] * fit.content[1] <= UNTILED_MAX_PIXELS else {}
        if len(chosen) + len(companions) > 1 and _exports_graphs(opts):
            export_worker = ExportWorker()  # ready by the time a second model loads
        cycle = ModelCycle(chosen, default_loader(opts.backend, opts.device, opts.threads,
                                                {**untiled, "precision": opts.precision}, export_worker),
                           extra=companions, style=opts.style)
    except BaseException:
        if export_worker is not None:
            export_worker.close()
        if virtual_cam is not None:
            virtual_cam.close()
        raw_source.close()
        raise
    session = _Session(opts, source, fit, source_fps, cycle, virtual_cam, bool(companions))
    try:
        return session.run()
    finally:
        if export_worker is not None:
            export_worker.close()


def _exports_graphs(opts: LiveOptions) -> bool:
    """Whether this session's models run as exported graphs (OpenVINO on the CPU), which a helper can export."""
    from vidstyle.runtime import available_backends
    from vidstyle.utils.device import resolve_device

    device = resolve_device(opts.device)
    backend = available_backends(device)[0] if opts.backend == "auto" else opts.backend
    return device.type == "cpu" and backend == "openvino"


class _Session:
    """The state of one run of the live loop (see :func:`run_live`)."""

    def __init__(self, opts: LiveOptions, source: Any, fit: Fit, source_fps: float, cycle: ModelCycle,
                 virtual_cam: Any, check_keep_up: bool) -> None:
        self.opts, self.source, self.fit, self.source_fps = opts, source, fit, source_fps
        self.cycle, self.virtual_cam = cycle, virtual_cam
        self.check_keep_up = check_keep_up
        self.stats = LiveStats()
        self.strength = float(opts.strength)
        self.split = False
        self.paused_since: Optional[float] = None
        self.window = None
        self.recorder: Optional[Recorder] = None
        self.post = None
        self.snapshot_dir = Path(opts.snapshot_dir)
        self.last_output: Optional[np.ndarray] = None  # canvas-sized output of the last frame (snapshots)
        self.last_pair: Optional[tuple[np.ndarray, np.ndarray]] = None  # (content image, stylized) to redraw
        self.last_view: Optional[np.ndarray] = None
        self.last_entry = None
        self.last_shown: Optional[float] = None
        self.interval_ema: Optional[float] = None
        self.notice: Optional[tuple[str, float]] = None
        self.quit = False

    # --- the loop ------------------------------------------------------------------------------------

    def run(self) -> LiveStats:
        opts, stats, cycle = self.opts, self.stats, self.cycle
        slot = LatestFrame()
        stop = threading.Event()
        capture_thread: Optional[threading.Thread] = None
        session_start = time.perf_counter()
        try:
            if opts.temporal == "smooth":
                from vidstyle.flow.stabilize import FlowStabilizer

                self.post = FlowStabilizer() if opts.smooth_blend is None else FlowStabilizer(blend=opts.smooth_blend)
            if opts.record:
                self.recorder = Recorder(opts.record, fps=self.source_fps)
            keep_up_ms = 1000.0 / self.source_fps if self.check_keep_up else None
            if opts.display:
                cycle.start(self.fit.content, keep_up_ms)  # the window shows the camera meanwhile
            else:
                cycle.load_now(self.fit.content, keep_up_ms)  # nothing to show meanwhile: the clock starts with the model ready
            session_start = time.perf_counter()
            capture_thread = capture_into(self.source, slot, stop)
            last_dropped = 0
            while not self.quit and (opts.frames is None or stats.frames_shown < opts.frames):
                cycle.poll()
                self._after_poll()
                try:
                    frame = slot.get(timeout=0.02 if self.window is not None else 0.05)
                except KeyboardInterrupt:
                    stats.end = "interrupted"
                    break
                if frame is None:
                    if slot.ended:
                        stats.end = "source ended"
                        break
                    self._pump()
                else:
                    new_drops, last_dropped = slot.dropped - last_dropped, slot.dropped
                    if self.paused_since is not None or cycle.loading is not None or not cycle.ready:
                        stats.frames_missed += new_drops  # not the model's fault
                    else:
                        stats.frames_dropped += new_drops
                    if self.paused_since is not None:
                        stats.frames_missed += 1
                        self._pump()
                    elif not cycle.ready:
                        stats.frames_missed += 1
                        self._show_raw(frame)
                    else:
                        self._stylize_and_show(frame)
                if self.window is not None and self.window.closed:
                    stats.end = "window closed"
                    break
                self._handle_keys()
            else:
                if not stats.end:
                    stats.end = "quit" if self.quit else "frames"
        except KeyboardInterrupt:
            stats.end = "interrupted"
        finally:
            stop.set()
            if capture_thread is not None:
                # Let the capture thread leave its loop before closing what it reads from.
                capture_thread.join(timeout=5.0)
            self.source.close()
            now = time.perf_counter()
            stats.seconds = now - session_start
            if self.paused_since is not None:
                stats.paused_seconds += now - self.paused_since
            stats.frames_captured = slot.captured
            stats.switches = list(cycle.switches)
            stats.left_out = list(cycle.left_out)
            try:
                if self.recorder is not None:
                    saved = self.recorder.close()
                    if saved is not None:
                        stats.recordings.append(saved)
            finally:
                if self.virtual_cam is not None:
                    self.virtual_cam.close()
                if self.window is not None:
                    self.window.close()
                cycle.close()
        return stats

    def _after_poll(self) -> None:
        cycle = self.cycle
        for message in cycle.messages:
            self._message(message)
        for message in cycle.notices:
            self._message(message, notice=True)
        cycle.messages.clear()
        cycle.notices.clear()

    # --- frames --------------------------------------------------------------------------------------

    def _stylize_and_show(self, frame: Any) -> None:
        opts, stats, cycle = self.opts, self.stats, self.cycle
        image = frame.image[:, ::-1].copy() if opts.mirror else frame.image
        entry, stylizer = cycle.current, cycle.stylizer
        assert stylizer is not None
        if self.post is not None and self.last_entry is not None and entry is not self.last_entry:
            self.post.reset()  # the previous output belongs to another style
        self.last_entry = entry
        started = time.perf_counter()
        stylized = stylizer.stylize(image)
        stats.model_ms.append((time.perf_counter() - started) * 1000)
        output = blend(image, stylized, self.strength)
        if self.post is not None:
            output = self.post(image, output)
        output = self.fit.finish(output)
        if self.recorder is not None:
            self.recorder.write(output, frame.wallclock)
        if self.virtual_cam is not None:
            self.virtual_cam.write(output)
        self.last_output = output
        self.last_pair = (image, stylized)
        self._show(self._view(image, output))

        shown = time.perf_counter()
        stats.latencies_ms.append((shown - frame.wallclock) * 1000)
        gap_ms = 0.0
        if self.last_shown is not None:
            dt = shown - self.last_shown
            gap_ms = dt * 1000
            self.interval_ema = dt if self.interval_ema is None else 0.9 * self.interval_ema + 0.1 * dt
            if cycle.loading is None:
                stats.intervals_ms.append(gap_ms)
        self.last_shown = shown
        cycle.frame_shown(entry, shown, gap_ms)
        stats.frames_shown += 1
        if opts.on_frame is not None:
            opts.on_frame({"index": stats.frames_shown - 1, "image": output, "latency_ms": stats.latencies_ms[-1],
                           "model": cycle.label, "strength": self.strength, "loading": cycle.loading})

    def _view(self, image: np.ndarray, output: np.ndarray) -> np.ndarray:
        """What the window shows for a content-sized camera ``image`` and a canvas-sized ``output``."""
        return split_view(self.fit.finish(image), output) if self.split else output

    def _show_raw(self, frame: Any) -> None:
        """Before the first model is ready: the camera itself, so the window never opens empty."""
        if not self.opts.display:
            return
        image = frame.image[:, ::-1].copy() if self.opts.mirror else frame.image
        self._show(self.fit.finish(image))

    def _overlay_lines(self) -> list[str]:
        cycle = self.cycle
        notice = None
        if self.notice is not None:
            notice, until = self.notice
            if time.perf_counter() >= until:
                self.notice = notice = None
        fps = latency = None
        if cycle.ready:
            fps = 1.0 / self.interval_ema if self.interval_ema else 0.0
            latency = self.stats.latencies_ms[-1] if self.stats.latencies_ms else 0.0
        return overlay_lines(cycle.label, self.strength, fps, latency, recording=self.recorder is not None,
                             loading=cycle.loading, paused=self.paused_since is not None, notice=notice)

    def _pump(self) -> None:
        """Let the window handle its events (keys, repaints) without a new picture."""
        if self.window is not None:
            self.window.show(None)

    def _show(self, view: Optional[np.ndarray]) -> None:
        """Draw ``view`` with the overlay (None: redraw the last view with the current overlay)."""
        if not self.opts.display:
            return
        if view is None:
            view = self.last_view
            if view is None:
                return
        else:
            self.last_view = view
        from vidstyle.io.window import DisplayWindow, draw_overlay

        if self.window is None:
            self.window = DisplayWindow(self.opts.title)
        self.window.show(draw_overlay(view, self._overlay_lines()))

    # --- keys ------------------------------------------------------------------------------------------

    def _handle_keys(self) -> None:
        keys: list[int] = []
        if self.window is not None:
            keys += self.window.keys()
        if self.opts.keys is not None:
            while True:
                try:
                    keys.append(_key_code(self.opts.keys.get_nowait()))
                except queue.Empty:
                    break
        for key in keys:
            if self.quit:
                break
            self._key(key)

    def _key(self, key: int) -> None:
        stats, cycle = self.stats, self.cycle
        now = time.perf_counter()
        stats.keys.append(_key_name(key))
        redraw = False
        if key in (ord("q"), KEY_ESC):
            self.quit = True
            self.stats.end = "quit"
        elif key in (ord("n"), ord("p")):
            cycle.step(1 if key == ord("n") else -1, now)
        elif key == ord("["):
            self.strength = max(0.0, round(self.strength - STRENGTH_STEP, 2))
            redraw = True
        elif key == ord("]"):
            self.strength = min(1.0, round(self.strength + STRENGTH_STEP, 2))
            redraw = True
        elif key == ord("b") or key in (ord(","), ord(".")):
            changed = cycle.toggle_blend() if key == ord("b") else cycle.shift_blend(
                BLEND_STEP if key == ord(".") else -BLEND_STEP)
            if not changed and cycle.ready:
                self._message(f"{cycle.label} holds one style: nothing to blend", notice=True)
            elif self.last_pair is not None and self.paused_since is not None:
                # Paused: stylize the frozen frame again in the new blend.
                image = self.last_pair[0]
                self.last_pair = (image, cycle.stylizer.stylize(image))  # type: ignore[union-attr]
            redraw = True
        elif key == ord("s"):
            self.split = not self.split
            redraw = True
        elif key == ord(" "):
            if self.paused_since is None:
                self.paused_since = now
            else:
                stats.paused_seconds += now - self.paused_since
                self.paused_since = None
                self.last_shown = None  # the pause is no frame interval
            redraw = True
        elif key == ord("c") and self.last_output is not None:
            from vidstyle.utils.image import save_image

            path = self.snapshot_dir / f"vidstyle-snapshot-{_timestamp()}-{len(stats.snapshots)}.png"
            stats.snapshots.append(save_image(self.last_output, path))
            self._message(f"saved snapshot {path}", notice=True)
        elif key == ord("r"):
            if self.recorder is not None:
                saved = self.recorder.close()
                self.recorder = None
                if saved is not None:
                    stats.recordings.append(saved)
                    self._message(f"saved recording {saved}", notice=True)
            else:
                path = self.snapshot_dir / f"vidstyle-recording-{_timestamp()}.mp4"
                self.recorder = Recorder(path, fps=self.source_fps)
                self._message(f"recording to {path}", notice=True)
        if redraw and self.last_pair is not None:
            # Show what the key changed at once, on the last frame (a slow model's next frame may be far off,
            # and a snapshot taken right after should have it too).
            image, stylized = self.last_pair
            self.last_output = self.fit.finish(blend(image, stylized, self.strength))
            self._show(self._view(image, self.last_output))
        elif redraw:
            self._show(None)

    def _message(self, text: str, notice: bool = False) -> None:
        if notice:
            self.notice = (text, time.perf_counter() + NOTICE_SECONDS)
        if self.opts.on_message is not None:
            self.opts.on_message(text)
