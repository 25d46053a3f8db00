"""Speed measurements behind ``vidstyle bench``: model-only ms/frame and end-to-end live figures."""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from vidstyle.errors import InputError
from vidstyle.io.file import parse_size
from vidstyle.io.synthetic import synthetic_scene, write_test_clip
from vidstyle.models import build_network
from vidstyle.pipeline.live import LiveOptions, run_live
from vidstyle.runtime import create_stylizer
from vidstyle.runtime.threads import available_cores, inference_threads
from vidstyle.utils.device import cpu_supports_bf16
from vidstyle.runtime.base import Stylizer
from vidstyle.utils import validate

DEFAULT_SIZES = ((320, 240), (640, 480), (1280, 720), (1920, 1080))
ARCH_NAMES = ("fast", "quality")


@dataclass
class BenchOptions:
    """What ``vidstyle bench`` measures.

    models: registry names/paths, or "fast"/"quality" for an untrained network of that
        architecture (speed does not depend on the weights).
    sizes: (width, height) pairs. backends: "auto" or backend names.
    runs: timed frames per case (median reported; backends interleaved); warmup: untimed frames first.
    live: also run the live pipeline on a generated clip paced like a 30 fps camera, for
        ``live_seconds`` at each of ``live_sizes``.
    styles: style mixes of a multi-style model (``"a"``, ``"a=0.5,b=0.5"``), each its own case, timed
        interleaved with the others (switching is instant); () runs the model as loaded, and so does a
        one-style model.
    """

    models: tuple[str, ...] = ("fast",)
    sizes: tuple[tuple[int, int], ...] = DEFAULT_SIZES
    backends: tuple[str, ...] = ("auto",)
    device: str = "auto"
    threads: Optional[int] = None
    precision: str = "auto"
    runs: int = 20
    warmup: int = 3
    live: bool = True
    live_sizes: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720))
    live_seconds: float = 8.0
    live_fps: float = 30.0
    styles: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.threads = validate.threads(self.threads)
        self.runs = validate.integer("--runs", self.runs, 1, 100_000)
        self.warmup = validate.integer("--warmup", self.warmup, 0, 100_000)
        self.live_seconds = validate.finite("--live-seconds", self.live_seconds, 0.0, 24 * 3600.0, low_open=True)
        self.live_fps = validate.finite("live_fps", self.live_fps, 0.0, 1000.0, low_open=True)


@dataclass
class ModelTiming:
    model: str
    width: int
    height: int
    backend: str
    stylizer: str
    ms_median: float
    ms_min: float
    fps: float
    runs: int
    # CPU time of the whole process per frame (all inference threads): unlike wall time it hardly
    # changes with load from other processes; cpu_ms / threads is what an idle machine would need.
    cpu_ms_median: float = 0.0
    threads: int = 0


@dataclass
class LiveTiming:
    model: str
    width: int
    height: int
    backend: str
    stylizer: str
    camera_fps: float
    fps: float
    latency_ms_median: float
    latency_ms_p95: float
    model_ms_median: float
    frames_shown: int
    frames_dropped: int


@dataclass
class BenchReport:
    machine: dict = field(default_factory=dict)
    model_only: list = field(default_factory=list)
    live: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "machine": self.machine,
            "model_only": [asdict(t) for t in self.model_only],
            "live": [asdict(t) for t in self.live],
            "errors": self.errors,
        }


def machine_description() -> dict:
    """Cores, CPU model, bf16 support, GPU, library versions: what a figure needs next to it."""
    import platform

    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": available_cores(),
        "bf16": cpu_supports_bf16(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    for module in ("onnxruntime", "openvino"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    return info


def parse_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """``"320x240,640x480"`` -> ((320, 240), (640, 480)); raises InputError on a malformed or tiny size."""
    sizes = tuple(parse_size(part.strip()) for part in text.split(",") if part.strip())
    if not sizes:
        raise InputError("no sizes given")
    for width, height in sizes:
        if width < 8 or height < 8:
            raise InputError(f"size {width}x{height} is too small (at least 8x8)")
    return sizes


def time_stylizer(stylizer: Stylizer, image: np.ndarray, runs: int, warmup: int, cpu_times: Optional[list] = None) -> list[float]:
    """Milliseconds per ``stylize`` call for ``runs`` calls after ``warmup`` untimed ones.

    ``cpu_times``, when given, receives the process CPU milliseconds of each timed call.
    """
    for _ in range(warmup):
        stylizer.stylize(image)
    times = []
    for _ in range(runs):
        cpu = time.process_time()
        start = time.perf_counter()
        stylizer.stylize(image)
        times.append((time.perf_counter() - start) * 1000.0)
        if cpu_times is not None:
            cpu_times.append((time.process_time() - cpu) * 1000.0)
    return times


def resolve_bench_model(name: str) -> Any:
    """A registry name/path loads that model; "fast"/"quality" with no such model builds an untrained one."""
    if name in ARCH_NAMES:
        return build_network(name).eval()
    return name


def write_camera_clip(path: Path, width: int, height: int, fps: float, seconds: float) -> Path:
    """A generated clip (moving test pattern, no audio) that the live pipeline plays like a camera."""
    write_test_clip(path, width=width, height=height, fps=fps, seconds=seconds, audio=False)
    return path


def bench_live(stylizer: Stylizer, clip: Path, frames: Optional[int] = None) -> dict:
    """Run the live pipeline (no window) on ``clip`` played at its own rate; fps and latencies."""
    stats = run_live(LiveOptions(camera=str(clip), models=[stylizer], display=False, frames=frames))
    # The first frames include start-up (capture thread, first decode); drop them from latency.
    lat = stats.latencies_ms[5:] or stats.latencies_ms
    return {
        "fps": stats.fps,
        "latency_ms_median": statistics.median(lat) if lat else 0.0,
        "latency_ms_p95": float(np.percentile(lat, 95)) if lat else 0.0,
        "model_ms_median": stats.model_ms_median,
        "frames_shown": stats.frames_shown,
        "frames_dropped": stats.frames_dropped,
    }


def run_bench(options: BenchOptions, progress: Optional[Callable[[str], None]] = None) -> BenchReport:
    """Measure every model × size × backend (model-only), then the live figures; see :class:`BenchOptions`.

    For each model and size the backends are timed interleaved (one frame each, in turn, ``runs``
    rounds), so load from other processes hits every backend alike and their ratios stay fair.
    """
    say = progress or (lambda msg: None)
    report = BenchReport(machine=machine_description())
    for model_name in options.models:
        model = resolve_bench_model(model_name)
        stylizers: dict[str, Stylizer] = {}
        case_style: dict[str, Optional[str]] = {}  # case label -> the style mix it runs (None: as loaded)
        for backend in options.backends:
            try:
                stylizer = create_stylizer(
                    model, backend=backend, device=options.device, threads=options.threads,
                    precision=options.precision, tile=None,
                )
                mixes = options.styles if stylizer.styles else ()  # a one-style model runs as it is
                for style in mixes:
                    stylizer.set_style(style)  # a bad mix fails here, before any timing
            except Exception as exc:  # report and carry on with the other backends
                report.errors.append(f"{model_name} {backend}: {exc}")
                say(f"{model_name} {backend}: {exc}")
                continue
            label = f"auto→{stylizer.backend}" if backend == "auto" else backend
            for style in mixes or (None,):
                case = label if style is None else f"{label} {style}"
                stylizers[case], case_style[case] = stylizer, style
        for width, height in options.sizes:
            image = synthetic_scene(height, width)
            times: dict[str, list[float]] = {label: [] for label in stylizers}
            cpu: dict[str, list[float]] = {label: [] for label in stylizers}
            for label, stylizer in stylizers.items():
                _use_style(stylizer, case_style[label])
                time_stylizer(stylizer, image, runs=0, warmup=options.warmup)
            for _ in range(options.runs):
                for label, stylizer in stylizers.items():
                    _use_style(stylizer, case_style[label])
                    times[label] += time_stylizer(stylizer, image, runs=1, warmup=0, cpu_times=cpu[label])
            threads = inference_threads(options.threads)
            for label, stylizer in stylizers.items():
                med = statistics.median(times[label])
                cpu_med = statistics.median(cpu[label])
                report.model_only.append(ModelTiming(model_name, width, height, label, stylizer.name, med,
                                                     min(times[label]), 1000.0 / med, len(times[label]), cpu_med, threads))
                say(f"{model_name:>24} {width}x{height:<5} {label:>18}  {med:8.1f} ms  {1000.0 / med:7.1f} fps"
                    f"  (CPU {cpu_med:.1f} ms on {threads} threads)")
        if options.live:
            with tempfile.TemporaryDirectory(prefix="vidstyle-bench-") as tmp:
                for width, height in options.live_sizes:
                    clip = write_camera_clip(Path(tmp) / f"camera-{width}x{height}.mp4", width, height,
                                             options.live_fps, options.live_seconds)
                    for label, stylizer in stylizers.items():
                        _use_style(stylizer, case_style[label])
                        live = bench_live(stylizer, clip)
                        report.live.append(LiveTiming(model_name, width, height, label, stylizer.name, options.live_fps, **live))
                        say(f"{model_name:>24} {width}x{height:<5} {label:>18}  live {live['fps']:5.1f} fps"
                            f" (camera {options.live_fps:g}), latency median {live['latency_ms_median']:.0f} ms"
                            f" p95 {live['latency_ms_p95']:.0f} ms, dropped {live['frames_dropped']}")
        for stylizer in {id(s): s for s in stylizers.values()}.values():
            stylizer.close()
    return report


def _use_style(stylizer: Stylizer, style: Optional[str]) -> None:
    """Switch a case's stylizer to its style (outside the timed calls; instant)."""
    if style is not None:
        stylizer.set_style(style)


def format_report(report: BenchReport) -> str:
    """Markdown tables of a report (what ``vidstyle bench`` prints at the end)."""
    m = report.machine
    lines = [
        f"machine: {m.get('cpu')}, {m.get('cores')} cores, bf16={m.get('bf16')}, gpu={m.get('gpu')}, "
        f"torch {m.get('torch')}, onnxruntime {m.get('onnxruntime')}, openvino {m.get('openvino')}, "
        f"load average at start {m.get('load_average')}",
        "",
        "| model | size | backend | ms/frame (median) | fps | CPU ms/frame (all threads) | CPU ms / threads |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in report.model_only:
        per_thread = t.cpu_ms_median / t.threads if t.threads else 0.0
        lines.append(f"| {t.model} | {t.width}×{t.height} | {t.backend} ({t.stylizer}) | {t.ms_median:.1f} | {t.fps:.1f} "
                     f"| {t.cpu_ms_median:.1f} | {per_thread:.1f} |")
    if report.live:
        lines += ["", "| model | size | backend | live fps (camera fps) | latency median / p95 ms | dropped |", "|---|---|---|---|---|---|"]
        for t in report.live:
            lines.append(
                f"| {t.model} | {t.width}×{t.height} | {t.backend} | {t.fps:.1f} ({t.camera_fps:g}) | "
                f"{t.latency_ms_median:.0f} / {t.latency_ms_p95:.0f} | {t.frames_dropped} |"
            )
    for e in report.errors:
        lines.append(f"error: {e}")
    return "\n".join(lines)
