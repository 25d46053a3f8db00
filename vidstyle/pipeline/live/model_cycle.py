"""The models (and styles) ``n``/``p`` step through in a live session, loaded in the background.

A switch to a model not used yet starts its load on a thread; the live loop keeps stylizing with
the current model meanwhile and adopts the new one when :meth:`ModelCycle.poll` finds it ready
(built and warmed up at the frame size). Models used once stay loaded, so going back is instant.

An entry is a (model, style mix) pair: a multi-style model (its stylizer lists ``styles`` and has
``set_style(mix)``) becomes one entry per style once loaded, and stepping between those entries
calls ``set_style``, which takes effect on the next frame without a reload.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from vidstyle.errors import InputError, VidstyleError
from vidstyle.models.styles import StyleMix
from vidstyle.pipeline.live.blend import StyleBlend, next_style_blend
from vidstyle.runtime.base import Stylizer
from vidstyle.runtime.export_worker import ExportWorker

# Registry models whose estimated time per frame is within this factor of what keeps up are offered
# (the estimate from multiply-adds is rough: depthwise convolutions run fewer multiply-adds per second).
KEEP_UP_TOLERANCE = 1.25


def model_label(model: Any) -> str:
    """A short name for a model entry: the file stem of a name or path, else the stylizer's name."""
    if isinstance(model, (str, os.PathLike)):
        return Path(str(model)).stem
    name = getattr(model, "model_name", None) or getattr(model, "name", None) or getattr(model, "__name__", None)
    return str(name or "model")


def style_styles(stylizer: Stylizer) -> list[str]:
    """The styles of a multi-style stylizer that can switch between them (``set_style``), else []."""
    styles = getattr(stylizer, "styles", None)
    if not styles or not callable(getattr(stylizer, "set_style", None)):
        return []
    return [str(s) for s in styles]


def mix_label(mix: dict[str, float]) -> str:
    """{"a": 1.0} -> "a"; {"a": 0.6, "b": 0.4} -> "a=0.6,b=0.4"."""
    if len(mix) == 1:
        return next(iter(mix))
    return ",".join(f"{name}={weight:g}" for name, weight in mix.items())


def _style_dict(style: StyleMix) -> dict[str, float]:
    """A ``--style`` string as {name: weight} (weights checked and normalised when the model is loaded)."""
    if not isinstance(style, str):
        return dict(style)
    from vidstyle.models.styles import parse_style_mix

    names = [part.partition("=")[0].strip() for part in style.split(",") if part.strip()]
    return parse_style_mix(style, names)


@dataclass(eq=False)
class CycleEntry:
    """One stop of the cycle: a model (registry name, path, Stylizer, or a zero-argument callable
    returning a Stylizer) and, for a multi-style model, the style mix to set (None: as loaded)."""

    model: Any
    style: Optional[dict[str, float]] = None
    optional: bool = False  # added from the registry (not named by the user): offered only if it keeps up

    @property
    def key(self) -> Any:
        return str(self.model) if isinstance(self.model, (str, os.PathLike)) else id(self.model)

    @property
    def label(self) -> str:
        name = model_label(self.model)
        return name if self.style is None else f"{name}: {mix_label(self.style)}"


@dataclass
class SwitchRecord:
    """One n/p press: when it came (``time.perf_counter()``), how long the model took to load (0 when it
    was loaded already), when the first frame in the new style was shown, and the gaps between the frames
    shown meanwhile (milliseconds)."""

    label: str
    requested_at: float
    load_ms: float = 0.0
    shown_at: Optional[float] = None
    gaps_ms: list = field(default_factory=list, repr=False)
    entry: Optional[CycleEntry] = field(default=None, repr=False)

    @property
    def key_to_style_ms(self) -> Optional[float]:
        return None if self.shown_at is None else (self.shown_at - self.requested_at) * 1000

    @property
    def max_gap_ms(self) -> float:
        """The longest time the window went without a new frame between the key and the new style."""
        return max(self.gaps_ms, default=0.0)


class _Load:
    """One model built and warmed up on a background thread."""

    def __init__(self, entry: CycleEntry, load: Callable[[Any], Stylizer], warm_size: Optional[tuple[int, int]],
                 measure: bool, background: bool, then: Optional[Callable[[], Any]] = None) -> None:
        self.entry = entry
        self.stylizer: Optional[Stylizer] = None
        self.error: Optional[BaseException] = None
        self.load_ms = 0.0
        self.frame_ms: Optional[float] = None
        self.then_result: Any = None
        self._load, self._warm_size, self._measure, self._background = load, warm_size, measure, background
        self._then = then
        self.done = threading.Event()  # the model is ready (or failed)
        self.then_done = threading.Event()  # ``then`` has run too
        self.thread = threading.Thread(target=self._run, name="vidstyle-model-load", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        if self._background:
            _lower_thread_priority()
        started = time.perf_counter()
        try:
            stylizer = self._load(self.entry.model)
            if self._warm_size is not None:
                # First inference at the frame size: graph compilation and allocations happen here, not on a live frame.
                image = np.zeros((self._warm_size[1], self._warm_size[0], 3), np.uint8)
                stylizer.stylize(image)
                self.load_ms = (time.perf_counter() - started) * 1000
                if self._measure:
                    timed = time.perf_counter()
                    stylizer.stylize(image)
                    self.frame_ms = (time.perf_counter() - timed) * 1000
            else:
                self.load_ms = (time.perf_counter() - started) * 1000
            self.stylizer = stylizer
        except BaseException as exc:  # noqa: BLE001 - handed to the live loop by poll()
            self.error = exc
        finally:
            self.done.set()
        try:
            if self._then is not None and self.error is None:
                self.then_result = self._then()
        except Exception:  # noqa: BLE001 - optional extra work: nothing to report
            pass
        finally:
            self.then_done.set()


def _lower_thread_priority() -> None:
    """Let a background load yield the CPU to the live loop (Linux: nice applies per thread)."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + 5))
    except (AttributeError, OSError):
        pass


def _default_cost(model: Any) -> Optional[float]:
    if not isinstance(model, (str, os.PathLike)):
        return None
    from vidstyle.runtime.cost import model_multiply_adds

    return model_multiply_adds(model)


def default_loader(backend: str = "auto", device: str = "auto", threads: Optional[int] = None,
                   runtime_options: Optional[dict] = None,
                   export_worker: Optional[ExportWorker] = None) -> Callable[[Any], Stylizer]:
    """Builds Stylizers the way ``vidstyle video`` does; Stylizers pass through, callables are called.

    runtime_options: further ``create_stylizer`` options (e.g. ``{"tile": None}``).
    export_worker: once it is ready, models' graphs are exported there, not on the loading thread (which
        would hold the interpreter's lock for a second while the live loop needs it).
    """

    def load(model: Any) -> Stylizer:
        if isinstance(model, Stylizer):
            return model
        if callable(model):
            return model()
        from vidstyle.runtime import create_stylizer

        options = dict(runtime_options or {})
        if export_worker is not None and export_worker.ready:
            options["graph_exporter"] = export_worker.export
        return create_stylizer(model, backend=backend, device=device, threads=threads, **options)

    return load


def registry_companions(first: Any, temporal_only: bool = False) -> list[str]:
    """The other installed models (only temporally trained ones with ``temporal_only``), for n/p
    to have somewhere to go when one model was named; [] when ``first`` is not a name."""
    if not isinstance(first, str):
        return []
    from vidstyle.models import list_models

    try:
        return [m.name for m in list_models() if m.metadata is not None and m.name != Path(first).stem
                and (m.metadata.get("temporal") or not temporal_only)]
    except VidstyleError:
        return []


class ModelCycle:
    """The entries ``n``/``p`` step through, the current one, and the load in progress.

    models: what the user named, always offered. extra: models added from the registry, offered only
        when their estimated time per frame keeps up (see :meth:`keep_up`).
    load: builds a Stylizer from an entry's model (see :func:`default_loader`).
    cost: a model's multiply-adds per pixel, None when unknown (default
        :func:`vidstyle.runtime.cost.model_multiply_adds`); used for ``extra`` entries only.
    """

    def __init__(self, models: Sequence[Any], load: Optional[Callable[[Any], Stylizer]] = None,
                 extra: Sequence[Any] = (), cost: Optional[Callable[[Any], Optional[float]]] = None,
                 style: Optional[StyleMix] = None) -> None:
        if not models:
            raise InputError("give at least one --model")
        self.entries = [CycleEntry(m) for m in models] + [CycleEntry(m, optional=True) for m in extra]
        if style is not None:  # --style: the first model's style or blend (checked when it is loaded)
            self.entries[0].style = _style_dict(style)
        self._load_fn = load or default_loader()
        self._cost = cost
        self._keep_up_ms: Optional[float] = None
        self.current: Optional[CycleEntry] = None
        self.target: CycleEntry = self.entries[0]
        self.switches: list[SwitchRecord] = []
        self.messages: list[str] = []  # one-line reports for the console
        self.notices: list[str] = []  # ... that the window shows too
        self.left_out: list[str] = []
        self.blend: Optional[StyleBlend] = None  # b , . keys: a blend of the current model's styles
        self.reference_ms: Optional[float] = None  # the first model's time per frame, measured at start
        self._stylizers: dict[Any, Stylizer] = {}
        self._loading: Optional[_Load] = None
        self._warm_size: Optional[tuple[int, int]] = None
        self._open_switch: Optional[SwitchRecord] = None
        self._costs_pending: Optional[_Load] = None

    @staticmethod
    def with_registry(models: Sequence[Any], temporal_only: bool = False) -> list[Any]:
        """One named model: it and the other installed models (see :func:`registry_companions`)."""
        if len(models) != 1:
            return list(models)
        return [models[0], *registry_companions(models[0], temporal_only)]

    # --- state -------------------------------------------------------------------------------

    @property
    def stylizer(self) -> Optional[Stylizer]:
        """The Stylizer of the current entry (None until the first model is ready)."""
        return None if self.current is None else self._stylizers[self.current.key]

    @property
    def label(self) -> str:
        if self.blend is not None and self.current is not None and self.target is self.current:
            return f"{model_label(self.current.model)}: {self.blend.label}"
        return (self.current or self.target).label

    @property
    def loading(self) -> Optional[str]:
        """The label of the model being loaded, or None."""
        return None if self._loading is None else self._loading.entry.label

    @property
    def ready(self) -> bool:
        return self.current is not None

    # --- driving it ----------------------------------------------------------------------------

    def start(self, warm_size: tuple[int, int], keep_up_ms: Optional[float] = None) -> None:
        """Begin loading the first entry in the background, warmed up at ``warm_size`` (width, height).

        keep_up_ms: the camera's frame interval; when given, the registry-added entries are then limited
        to those that keep up (:meth:`keep_up`; their costs are read on the loading thread too).
        """
        self._warm_size = warm_size
        self._keep_up_ms = keep_up_ms
        then = None
        if keep_up_ms is not None and any(e.optional for e in self.entries):
            cost = self._cost or _default_cost
            models = {e.key: e.model for e in self.entries if e.optional or e is self.entries[0]}
            then = lambda: {key: cost(model) for key, model in models.items()}  # noqa: E731
        self._loading = _Load(self.target, self._load_fn, warm_size, measure=True, background=False, then=then)

    def load_now(self, warm_size: tuple[int, int], keep_up_ms: Optional[float] = None) -> Stylizer:
        """Load the first entry and wait for it and for the keep-up check (headless sessions have
        nothing to show meanwhile)."""
        self.start(warm_size, keep_up_ms)
        assert self._loading is not None
        self._loading.then_done.wait()
        self.poll()
        assert self.stylizer is not None
        return self.stylizer

    def step(self, delta: int, now: Optional[float] = None) -> SwitchRecord:
        """Move the target ``delta`` entries on (from the one loading, if any); a loaded model's entry is
        adopted at once, another one starts loading. Returns the record the live loop completes."""
        position = self.entries.index(self.target)
        self.target = self.entries[(position + delta) % len(self.entries)]
        record = SwitchRecord(self.target.label, time.perf_counter() if now is None else now, entry=self.target)
        self._open_switch = record
        self.switches.append(record)
        self._advance()
        return record

    def poll(self) -> None:
        """Adopt a finished load (raising the first model's load error; reporting a later one in
        :attr:`messages` and staying on the current model); start the next load if needed."""
        pending = self._costs_pending
        if pending is not None and pending.then_done.is_set():
            self._costs_pending = None
            self._apply_costs(pending)
        load = self._loading
        if load is not None and load.done.is_set():
            self._loading = None
            if load.error is not None:
                if self.current is None:
                    raise load.error
                reason = str(load.error).strip().splitlines()[0] if str(load.error).strip() else type(load.error).__name__
                self.notices.append(f"cannot load {load.entry.label}: {reason}")
                self.entries = [e for e in self.entries if e.key != load.entry.key or e is self.current]
                if self.target.key == load.entry.key:
                    self.target = self.current
                    if self._open_switch is not None:
                        self.switches.remove(self._open_switch)
                        self._open_switch = None
            else:
                assert load.stylizer is not None
                self._stylizers[load.entry.key] = load.stylizer
                if self._open_switch is not None and self._open_switch.entry is not None \
                        and self._open_switch.entry.key == load.entry.key:
                    self._open_switch.load_ms = load.load_ms
                if load.frame_ms is not None and self.reference_ms is None:
                    self.reference_ms = load.frame_ms
                if load.then_done.is_set() or self._keep_up_ms is None:
                    self._apply_costs(load)
                else:
                    self._costs_pending = load
                self._expand_styles(load.entry, load.stylizer)
                if self.current is None:  # the first model: show it even if n/p moved on meanwhile
                    self._adopt(load.entry)
        self._advance()

    def _apply_costs(self, load: _Load) -> None:
        if isinstance(load.then_result, dict) and self._keep_up_ms is not None:
            left_out = self.keep_up(self._keep_up_ms, load.then_result.get, by_key=True)
            if left_out:
                limit = max(self._keep_up_ms, self.reference_ms or 0.0) * KEEP_UP_TOLERANCE
                self.messages.append(
                    f"n/p leave out {', '.join(left_out)}: estimated over {limit:.0f} ms a frame at this size "
                    f"from their multiply-adds ({self.entries[0].label} takes {self.reference_ms:.0f} ms here, the "
                    f"camera gives a frame every {self._keep_up_ms:.0f} ms); name them with --model to use them anyway")

    def keep_up(self, budget_ms: float, cost: Callable[[Any], Optional[float]], by_key: bool = False) -> list[str]:
        """Drop registry-added entries whose estimated time per frame exceeds what keeps up: the larger of
        ``budget_ms`` (the camera's frame interval) and the first model's own time, times KEEP_UP_TOLERANCE.

        cost: multiply-adds per pixel of a model (of an entry's key with ``by_key``; None when unknown: such
        entries stay). Returns the labels left out (also kept in :attr:`left_out`); needs :attr:`reference_ms`
        (the first model timed).
        """
        from vidstyle.runtime.cost import estimated_ms

        def cost_of(entry: CycleEntry) -> Optional[float]:
            return cost(entry.key) if by_key else cost(entry.model)

        first = self.entries[0]
        reference_cost = cost_of(first)
        if self.reference_ms is None or not reference_cost:
            return []
        limit = max(budget_ms, self.reference_ms) * KEEP_UP_TOLERANCE
        kept, left_out = [], []
        for entry in self.entries:
            model_cost = cost_of(entry) if entry.optional else None
            if model_cost is not None and estimated_ms(self.reference_ms, reference_cost, model_cost) > limit:
                left_out.append(entry.label)
            else:
                kept.append(entry)
        self.entries = kept
        if self.target not in kept:
            self.target = self.current or kept[0]
        self.left_out = left_out
        return left_out

    def frame_shown(self, entry: Optional[CycleEntry], now: float, gap_ms: float) -> Optional[SwitchRecord]:
        """Tell the cycle a frame stylized with ``entry`` was shown ``gap_ms`` after the previous one;
        returns the switch record it completes, if any."""
        record = self._open_switch
        if record is None:
            return None
        if gap_ms > 0:
            record.gaps_ms.append(gap_ms)
        if entry is not None and entry is record.entry:
            record.shown_at = now
            self._open_switch = None
            return record
        return None

    def close(self, wait_s: float = 60.0) -> None:
        """Close the stylizers this cycle built. A load still running is waited for (up to ``wait_s``):
        native inference code torn down under a running thread at exit aborts the process."""
        for load in (self._loading, self._costs_pending):
            if load is not None:
                load.thread.join(timeout=wait_s)
                if load.stylizer is not None and load.entry.key not in self._stylizers:
                    self._stylizers[load.entry.key] = load.stylizer
        self._loading = self._costs_pending = None
        named = {e.key for e in self.entries if isinstance(e.model, Stylizer)}
        for key, stylizer in self._stylizers.items():
            if key not in named:
                stylizer.close()
        self._stylizers.clear()

    # --- inside --------------------------------------------------------------------------------

    def _start_load(self, entry: CycleEntry) -> None:
        self._loading = _Load(entry, self._load_fn, self._warm_size, measure=False, background=self.current is not None)

    def _advance(self) -> None:
        """Adopt the target if its model is loaded, else make sure it is loading."""
        target = self.target
        if target.key in self._stylizers:
            if target is not self.current:
                self._adopt(target)
        elif self._loading is None:
            self._start_load(target)

    def toggle_blend(self) -> bool:
        """``b``: blend the current style 50/50 with the model's next style, or end the blend (back to the
        entry's own style). False when the current model holds fewer than two styles."""
        stylizer = self.stylizer
        styles = style_styles(stylizer) if stylizer is not None else []
        if len(styles) < 2 or self.current is None:
            return False
        if self.blend is not None:
            self.blend = None
            stylizer.set_style(dict(self.current.style or {styles[0]: 1.0}))  # type: ignore[union-attr]
            return True
        return self._set_blend(next_style_blend(styles, self.current.style))

    def shift_blend(self, delta: float) -> bool:
        """``,`` / ``.``: move the blend ``delta`` towards the next style (starting one at weight 0 when none
        is on). False when the current model holds fewer than two styles."""
        stylizer = self.stylizer
        styles = style_styles(stylizer) if stylizer is not None else []
        if len(styles) < 2 or self.current is None:
            return False
        start = self.blend or next_style_blend(styles, self.current.style, weight=0.0)
        return self._set_blend(start.shifted(delta))

    def _set_blend(self, blend: StyleBlend) -> bool:
        self.stylizer.set_style(blend.mix)  # type: ignore[union-attr]
        self.blend = blend
        return True

    def _adopt(self, entry: CycleEntry) -> None:
        self.blend = None
        stylizer = self._stylizers[entry.key]
        if entry.style is not None and style_styles(stylizer):
            stylizer.set_style(dict(entry.style))  # type: ignore[attr-defined]
        self.current = entry

    def _expand_styles(self, entry: CycleEntry, stylizer: Stylizer) -> None:
        """A multi-style model's entry becomes one entry per style (its given mix first, if any)."""
        styles = style_styles(stylizer)
        if not styles:
            return
        siblings = [CycleEntry(entry.model, {name: 1.0}, optional=entry.optional)
                    for name in styles if entry.style != {name: 1.0}]
        position = self.entries.index(entry) if entry in self.entries else None
        if position is None:
            return
        if entry.style is None:
            # The entry itself becomes the first style, so the target/current identity survives.
            entry.style = {styles[0]: 1.0}
            siblings = siblings[1:]
        self.entries[position + 1 : position + 1] = siblings
