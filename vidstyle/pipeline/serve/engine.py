"""The threads behind ``vidstyle serve``: models loaded in the background, one stylizing worker per stream.

A *channel* is one stream of frames to stylize: the server's camera (shared by every viewer of
the MJPEG stream) or one browser's camera (one per WebRTC connection). Each channel has

* an input mailbox that keeps only the newest frame (``LatestFrame``): whoever delivers frames
  (the capture thread, the WebRTC receive task) never waits for the model;
* a worker thread that stylizes the newest frame with the channel's current settings;
* an output :class:`Broadcast` holding only the newest result: every viewer reads the latest
  version when it is ready for one, so a slow viewer skips frames instead of delaying the
  worker, the camera or the other viewers.

Models are shared by all channels through a :class:`ModelStore`; one inference runs at a time
(the backends already use every core for one frame) and a model not loaded yet is built on the
store's loader thread while the channel keeps running its previous model.
"""
from __future__ import annotations

import asyncio
import collections
import math
import queue
import statistics
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional, Sequence

import numpy as np

from vidstyle.errors import InputError, VidstyleError
from vidstyle.io.encoder import even_crop
from vidstyle.models.styles import model_style_mix
from vidstyle.pipeline.live.mailbox import LatestFrame
from vidstyle.pipeline.live.model_cycle import style_styles
from vidstyle.pipeline.live.view import split_view
from vidstyle.runtime.base import Stylizer
from vidstyle.types import Frame
from vidstyle.utils.image import blend

# Readouts (fps, latency, model time) are taken over this many recent frames.
STATS_WINDOW = 30
# A freshly loaded model is run once at this size before it is used, so its first live frame
# does not pay for graph compilation and allocation (the camera's own size when there is one).
DEFAULT_WARM_SIZE = (640, 480)


@dataclass(frozen=True)
class ChannelSettings:
    """What a viewer chose for one stream.

    model: the model's name (one of the store's names).
    strength: 0 (the camera's picture) ... 1 (full style); blended at full resolution.
    split: left half original, right half stylized.
    mix: for a multi-style model, weight per style (empty: the model's own default).
    """

    model: str
    strength: float = 1.0
    split: bool = False
    mix: tuple[tuple[str, float], ...] = ()


def parse_settings(current: ChannelSettings, changes: dict, models: Sequence[str],
                   styles: Optional[Sequence[str]] = None) -> ChannelSettings:
    """``current`` with the JSON ``changes`` from a page applied; InputError on anything invalid.

    changes: any of ``model`` (str, one of ``models``), ``strength`` (finite number in 0-1),
    ``split`` (bool), ``mix`` ({style: weight >= 0} or "a=0.6,b=0.4", for a multi-style model; {} or
    null: the model's default). styles: the styles of the model the mix is for, when known (its mix is
    then checked and normalised by ``vidstyle.models.styles``); None: not loaded yet, checked when it is.
    """
    if not isinstance(changes, dict):
        raise InputError("settings must be a JSON object")
    unknown = set(changes) - {"model", "strength", "split", "mix", "channel"}
    if unknown:
        raise InputError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    updated = current
    if "model" in changes:
        model = changes["model"]
        if not isinstance(model, str) or model not in models:
            raise InputError(f"unknown model {model!r}: choose one of {', '.join(models)}")
        if model != current.model:
            updated = replace(updated, model=model, mix=())
    if "strength" in changes:
        value = changes["strength"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= 1:
            raise InputError(f"strength must be a number between 0 and 1, got {value!r}")
        updated = replace(updated, strength=float(value))
    if "mix" in changes:
        mix = changes["mix"] or {}
        if not isinstance(mix, (dict, str)):
            raise InputError("mix must map style names to weights >= 0")
        if mix and styles is not None:
            mix = model_style_mix(mix, styles, updated.model)
        elif isinstance(mix, dict) and not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in mix.values()
        ):
            raise InputError("mix must map style names to weights >= 0")
        elif isinstance(mix, dict) and mix and sum(float(v) for v in mix.values()) <= 0:
            raise InputError("mix: the weights are all 0")
        elif isinstance(mix, str):
            raise InputError(f"{updated.model} is still loading: send its mix as {{style: weight}} or once it runs")
        updated = replace(updated, mix=tuple((str(k), float(v)) for k, v in mix.items()))
    if "split" in changes:
        if not isinstance(changes["split"], bool):
            raise InputError(f"split must be true or false, got {changes['split']!r}")
        updated = replace(updated, split=changes["split"])
    return updated


class ModelStore:
    """Stylizers by model name, shared by every channel.

    names: the models viewers may choose (nothing else is ever loaded: names come from web pages).
    factory: builds a Stylizer from a name (``vidstyle.runtime.create_stylizer`` with the runtime flags).
    warm_size: (width, height) a new model is run at once before it is offered.

    :meth:`load` builds a model on the calling thread (start-up: a bad model fails before the
    server listens); :meth:`request` queues it for the loader thread and returns at once.
    :meth:`stylize` runs one frame; calls from different threads take turns.
    """

    def __init__(self, names: Sequence[str], factory: Callable[[str], Stylizer], warm_size: tuple[int, int] = DEFAULT_WARM_SIZE) -> None:
        if not names:
            raise InputError("no models to serve: give --model NAME (see `vidstyle models list`)")
        self.names = list(dict.fromkeys(names))
        self.warm_size = warm_size
        self._factory = factory
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._ready: dict[str, Stylizer] = {}
        self._errors: dict[str, str] = {}
        self._loading: set[str] = set()
        self._mix: dict[str, tuple] = {}
        self._queue: queue.Queue = queue.Queue()
        self._closed = False
        self.load_seconds: dict[str, float] = {}
        self._loader = threading.Thread(target=self._load_loop, name="vidstyle-serve-loader", daemon=True)
        self._loader.start()

    def _build(self, name: str) -> Stylizer:
        started = time.perf_counter()
        stylizer = self._factory(name)
        width, height = self.warm_size
        with self._run_lock:
            stylizer.stylize(np.zeros((height, width, 3), np.uint8))
        self.load_seconds[name] = time.perf_counter() - started
        return stylizer

    def load(self, name: str) -> Stylizer:
        """Build ``name`` now (or return it if ready); raises the model's own error."""
        with self._lock:
            if name in self._ready:
                return self._ready[name]
        stylizer = self._build(name)
        with self._lock:
            self._ready[name] = stylizer
        return stylizer

    def request(self, name: str) -> None:
        """Queue ``name`` for loading in the background unless it is ready, loading or failed."""
        with self._lock:
            if name in self._ready or name in self._loading or name in self._errors or self._closed:
                return
            self._loading.add(name)
        self._queue.put(name)

    def _load_loop(self) -> None:
        while True:
            name = self._queue.get()
            if name is None:
                return
            try:
                stylizer = self._build(name)
            except VidstyleError as exc:
                with self._lock:
                    self._errors[name] = str(exc)
                    self._loading.discard(name)
                continue
            except Exception as exc:  # noqa: BLE001 - a broken model must not end the server
                with self._lock:
                    self._errors[name] = f"{type(exc).__name__}: {exc}"
                    self._loading.discard(name)
                continue
            with self._lock:
                if self._closed:
                    stylizer.close()
                    return
                self._ready[name] = stylizer
                self._loading.discard(name)

    def get(self, name: str) -> Optional[Stylizer]:
        with self._lock:
            return self._ready.get(name)

    def status(self, name: str) -> str:
        """"ready", "loading", "error" or "idle" (never requested)."""
        with self._lock:
            if name in self._ready:
                return "ready"
            if name in self._loading:
                return "loading"
            if name in self._errors:
                return "error"
            return "idle"

    def error(self, name: str) -> Optional[str]:
        with self._lock:
            return self._errors.get(name)

    def styles(self, name: str) -> list[str]:
        """The styles a loaded multi-style model can blend (``Stylizer.styles``); [] otherwise."""
        stylizer = self.get(name)
        return style_styles(stylizer) if stylizer is not None else []

    def describe(self) -> list[dict[str, Any]]:
        """One JSON-ready entry per model: name, status, error, styles, load time."""
        return [
            {"name": name, "status": self.status(name), "error": self.error(name), "styles": self.styles(name),
             "load_seconds": round(self.load_seconds[name], 2) if name in self.load_seconds else None}
            for name in self.names
        ]

    def stylize(self, name: str, image: np.ndarray, mix: tuple = ()) -> np.ndarray:
        """Stylize (H, W, 3) uint8 RGB with the loaded model ``name`` (and blend ``mix`` of a multi-style one)."""
        with self._run_lock:
            stylizer = self._ready[name]
            if mix and style_styles(stylizer) and self._mix.get(name) != mix:
                try:
                    stylizer.set_style(dict(mix))
                except InputError:
                    pass  # a mix checked before the model loaded that it does not hold: keep its current style
                self._mix[name] = mix
            return stylizer.stylize(image)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            ready, self._ready = self._ready, {}
        self._queue.put(None)
        self._loader.join(timeout=30)
        with self._run_lock:
            for stylizer in ready.values():
                stylizer.close()


@dataclass
class Output:
    """One stylized frame as viewers get it.

    image: (H, W, 3) uint8 RGB as shown (split view applied). stylized: the same without the split view,
    for snapshots. jpeg: ``image`` as JPEG bytes when the channel encodes for MJPEG viewers.
    video_frame: ``image`` as a yuv420p ``av.VideoFrame`` when the channel feeds a WebRTC track.
    captured: ``time.perf_counter()`` when the input frame arrived; ready: when this output was published.
    """

    version: int
    image: np.ndarray
    stylized: np.ndarray
    captured: float
    ready: float
    jpeg: Optional[bytes] = None
    video_frame: Any = None


class Broadcast:
    """The newest :class:`Output` of a channel, for any number of viewers on threads or event loops.

    Only the newest output is kept: a viewer asks for "anything newer than the version I have"
    and gets the latest one, skipping those it was too slow for.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._latest: Optional[Output] = None
        self._version = 0
        self._closed = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []

    @property
    def latest(self) -> Optional[Output]:
        with self._cond:
            return self._latest

    @property
    def closed(self) -> bool:
        return self._closed

    def next_version(self) -> int:
        with self._cond:
            return self._version + 1

    def publish(self, output: Output) -> None:
        with self._cond:
            self._latest = output
            self._version = output.version
            self._cond.notify_all()
            waiters, self._waiters = self._waiters, []
        self._wake(waiters)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            waiters, self._waiters = self._waiters, []
        self._wake(waiters)

    @staticmethod
    def _wake(waiters: list) -> None:
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # that event loop has already closed
                pass

    def wait_newer(self, version: int, timeout: Optional[float] = None) -> Optional[Output]:
        """Block until an output newer than ``version`` exists; None on close or timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._closed and (self._latest is None or self._latest.version <= version):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)
            return None if self._closed else self._latest

    async def next(self, version: int) -> Optional[Output]:
        """The newest output newer than ``version`` (awaiting one if needed); None once closed."""
        loop = asyncio.get_running_loop()
        while True:
            with self._cond:
                if self._closed:
                    return None
                if self._latest is not None and self._latest.version > version:
                    return self._latest
                future = loop.create_future()
                self._waiters.append((loop, future))
            await future


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


@dataclass
class ChannelStats:
    """Recent figures of one channel (all times in milliseconds)."""

    frames: int = 0
    captured: int = 0
    skipped: int = 0
    fps: float = 0.0
    latency_ms: float = 0.0
    model_ms: float = 0.0
    model: str = ""
    status: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 1) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


class Channel:
    """One stream being stylized: input mailbox, worker thread, output broadcast.

    id: how pages name it ("camera" for the server's camera).
    settings: the initial :class:`ChannelSettings`; :meth:`update` changes them while running.
    jpeg_quality: encode each output as JPEG (MJPEG viewers) at this quality; None: don't.
    video_frames: also make a yuv420p ``av.VideoFrame`` of each output (a WebRTC track sends it).
    mirror: flip input frames horizontally first (selfie view).
    on_demand: stylize only while :attr:`viewers` > 0 (the server's camera keeps running without viewers).

    Frames go in through :meth:`put` (a ``Frame``; ``image`` may also be an ``av.VideoFrame``,
    converted on the worker so the deliverer never waits) or :attr:`slot` directly.
    """

    def __init__(
        self,
        id: str,
        store: ModelStore,
        settings: ChannelSettings,
        jpeg_quality: Optional[int] = None,
        video_frames: bool = False,
        mirror: bool = False,
        on_demand: bool = False,
    ) -> None:
        self.id = id
        self.store = store
        self._settings = settings
        self.jpeg_quality = jpeg_quality
        self.video_frames = video_frames
        self.mirror = mirror
        self.on_demand = on_demand
        self.viewers = 0
        self.slot = LatestFrame()
        self.output = Broadcast()
        self.ended = False
        self.error: Optional[str] = None
        self._active = settings.model  # the model actually running (the chosen one may still be loading)
        self._times: collections.deque = collections.deque(maxlen=STATS_WINDOW + 1)
        self._latency: collections.deque = collections.deque(maxlen=STATS_WINDOW)
        self._model_ms: collections.deque = collections.deque(maxlen=STATS_WINDOW)
        self._frames = 0
        self._stop = threading.Event()
        self.store.request(settings.model)
        self._worker = threading.Thread(target=self._run, name=f"vidstyle-serve-{id}", daemon=True)
        self._worker.start()

    @property
    def settings(self) -> ChannelSettings:
        return self._settings

    def update(self, changes: dict) -> ChannelSettings:
        """Apply a page's setting changes (see :func:`parse_settings`); a new model starts loading."""
        model = changes.get("model", self._settings.model) if isinstance(changes, dict) else self._settings.model
        styles = self.store.styles(model) if self.store.status(model) == "ready" else None
        self._settings = parse_settings(self._settings, changes, self.store.names, styles)
        self.store.request(self._settings.model)
        return self._settings

    def put(self, frame: Frame) -> None:
        self.slot.put(frame)

    def _pick_model(self) -> Optional[str]:
        wanted = self._settings.model
        if self.store.get(wanted) is not None:
            self._active = wanted
            return wanted
        self.store.request(wanted)
        return self._active if self.store.get(self._active) is not None else None

    def _run(self) -> None:
        import cv2

        try:
            while not self._stop.is_set():
                try:
                    frame = self.slot.get(timeout=0.1)
                except VidstyleError as exc:
                    self.error = str(exc)
                    break
                if frame is None:
                    if self.slot.ended:
                        break
                    continue
                if self.on_demand and self.viewers <= 0:
                    continue
                model = self._pick_model()
                image = frame.image
                if not isinstance(image, np.ndarray):  # an av.VideoFrame from a WebRTC track
                    image = image.to_ndarray(format="rgb24")
                if self.mirror:
                    image = np.ascontiguousarray(image[:, ::-1])
                settings = self._settings
                started = time.perf_counter()
                if model is None:
                    stylized = image  # nothing loaded yet: show the camera until the model is ready
                else:
                    mix = settings.mix if model == settings.model else ()
                    stylized = self.store.stylize(model, image, mix)
                    self._model_ms.append((time.perf_counter() - started) * 1000)
                stylized = blend(image, stylized, settings.strength)
                shown = split_view(image, stylized) if settings.split else stylized
                jpeg = None
                if self.jpeg_quality is not None:
                    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(shown, cv2.COLOR_RGB2BGR),
                                               [cv2.IMWRITE_JPEG_QUALITY, int(self.jpeg_quality)])
                    jpeg = encoded.tobytes() if ok else None
                video_frame = None
                if self.video_frames:
                    import av

                    # OpenCV's conversion is about twice as fast as swscale's here (BT.601, as the encoder expects).
                    video_frame = av.VideoFrame.from_ndarray(cv2.cvtColor(np.ascontiguousarray(even_crop(shown)), cv2.COLOR_RGB2YUV_I420),
                                                             format="yuv420p")
                ready = time.perf_counter()
                self._frames += 1
                self._times.append(ready)
                self._latency.append((ready - frame.wallclock) * 1000)
                self.output.publish(Output(self.output.next_version(), shown, stylized, frame.wallclock, ready, jpeg, video_frame))
        except Exception as exc:  # noqa: BLE001 - reported on the page and in the summary, never a silent stop
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.ended = True
            self.output.close()

    def stats(self) -> ChannelStats:
        times = list(self._times)
        fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
        if times and time.perf_counter() - times[-1] > 2.0:
            fps = 0.0  # nothing for a while (paused source, no viewers): say so rather than the old rate
        wanted = self._settings.model
        state = self.store.status(wanted)
        if self.error:
            status = self.error
        elif self.ended:
            status = "the source ended"
        elif state == "loading" or (state == "idle" and wanted != self._active):
            status = f"loading {wanted}\u2026"
        elif state == "error":
            status = f"{wanted} failed to load: {self.store.error(wanted)}"
        else:
            status = ""
        return ChannelStats(
            frames=self._frames,
            captured=self.slot.captured,
            skipped=self.slot.dropped,
            fps=fps,
            latency_ms=statistics.median(self._latency) if self._latency else 0.0,
            model_ms=statistics.median(self._model_ms) if self._model_ms else 0.0,
            model=self._active,
            status=status,
        )

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.slot.close()
        self._worker.join(timeout=timeout)
        self.output.close()
