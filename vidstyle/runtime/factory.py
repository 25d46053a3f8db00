"""``create_stylizer``: resolve a model, pick a backend for the device, wrap it for size handling."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from vidstyle.errors import DeviceError, InputError, ModelError
from vidstyle.models import load_model
from vidstyle.models.styles import model_style_mix, network_styles
from vidstyle.runtime.base import Stylizer
from vidstyle.runtime.precision import BF16_MIN_PSNR_DB, bf16_check_image, parse_precision, psnr
from vidstyle.runtime.threads import inference_threads
from vidstyle.utils.device import cpu_supports_bf16, resolve_device

BACKENDS = ("torch", "onnxruntime", "openvino")


@dataclass
class RuntimeOptions:
    """How a network is run. ``create_stylizer`` fills one from its arguments.

    backend: "auto" or one of BACKENDS. device: "auto", "cpu", "cuda[:N]".
    threads: inference threads (None: every available core, see ``vidstyle.runtime.threads``).
    strength: 1.0 full style ... 0.0 original frame.
    long_side: run the network with the frame's longer side scaled to this many pixels and
        scale the result back (None: native size).
    precision: "auto" (fp16 on CUDA; on a CPU with native bf16, OpenVINO bf16 when the model's bf16
        output is within BF16_MIN_PSNR_DB of fp32 on a check image, else fp32), "fp32",
        "bf16" (CPU with AVX512-BF16/AMX), "fp16" (CUDA).
    tile: frames whose estimated inference memory exceeds ``tile_memory_budget`` bytes (or with more
        pixels than ``tile_above_pixels`` when that is given) are stylized in overlapping tiles of this
        size with shared normalisation statistics ("auto": 768 on CPU, never on CUDA; None: never).
    compile: torch backend only, wrap the graph in torch.compile.
    batch_size: frames per batch on CUDA (file mode).
    style: a multi-style model's style or blend to start with (``"a"``, ``"a=0.6,b=0.4"`` or {name: weight};
        None: its first style); ``Stylizer.set_style`` switches later without a reload.
    graph_exporter: OpenVINO on the CPU, a model given by name or path: a callable (model, strength,
        style_input) -> the uint8 ONNX graph, used instead of exporting in this process (an
        :class:`~vidstyle.runtime.export_worker.ExportWorker`'s ``export``); when it raises ModelError the
        graph is exported here.
    """

    backend: str = "auto"
    device: str = "auto"
    threads: int | None = None
    strength: float = 1.0
    long_side: int | None = None
    precision: str = "auto"
    tile: int | str | None = "auto"
    tile_overlap: int = 128
    tile_above_pixels: int | None = None
    # Inference memory allowed per frame before tiling (and the size of the tiled statistics pass): 1920×1080
    # runs untiled with every model, and a 3840×2160 quality-model video, frames in flight included, stays
    # within the memory limit (vidstyle.utils.validate) and under 4 GB (measured 4.8 GB untiled).
    tile_memory_budget: float = 1.5 * 2**30
    compile: bool = False
    batch_size: int = 4
    style: str | dict | None = None
    graph_exporter: Callable[[str, float, bool], bytes] | None = None


def available_backends(device: str | torch.device = "cpu") -> list[str]:
    """Backends installed and usable on ``device``, fastest first."""
    from vidstyle.runtime.onnx_backend import onnxruntime_available
    from vidstyle.runtime.openvino_backend import openvino_available

    dev = resolve_device(device)
    if dev.type == "cuda":
        found = ["torch"]
        if onnxruntime_available():
            import onnxruntime as ort

            if "CUDAExecutionProvider" in ort.get_available_providers():
                found.append("onnxruntime")
        return found
    if dev.type != "cpu":
        return ["torch"]
    # Order measured by `vidstyle bench` on 2 CPU cores (README figures): OpenVINO, then ORT, then torch.
    found = []
    if openvino_available():
        found.append("openvino")
    if onnxruntime_available():
        found.append("onnxruntime")
    found.append("torch")
    return found


def resolve_network(model: Any, device: str = "cpu") -> tuple[nn.Module, dict, str]:
    """Turn a registry name, a path, a loaded model or an ``nn.Module`` into (network, metadata, name)."""
    if isinstance(model, nn.Module):
        return model, {}, model.__class__.__name__
    if isinstance(model, (str, os.PathLike)):
        loaded = load_model(model, device="cpu")
        return loaded.network, dict(loaded.metadata or {}), str(getattr(loaded, "name", None) or Path(str(model)).stem)
    network = getattr(model, "network", None)
    if isinstance(network, nn.Module):
        name = getattr(model, "name", None) or network.__class__.__name__
        return network, dict(getattr(model, "metadata", None) or {}), str(name)
    raise ModelError(f"not a model: {type(model).__name__} (expected a name, a path, a loaded model or a torch module)")


def _exported_graph(network: nn.Module, model_ref: str | None, opts: RuntimeOptions, strength: float) -> bytes | None:
    """The graph from ``opts.graph_exporter`` when there is one and it can serve this model, else None."""
    if opts.graph_exporter is None or model_ref is None:
        return None
    try:
        return opts.graph_exporter(model_ref, strength, bool(network_styles(network)))
    except ModelError:
        return None


def _auto_cpu_openvino(network: nn.Module, device: torch.device, strength: float, threads: int,
                       onnx: bytes | None = None) -> Stylizer:
    """OpenVINO bf16 if the CPU has native bf16 and this model keeps its quality in it, else fp32."""
    from vidstyle.runtime.openvino_backend import OpenVINOStylizer

    fp32 = OpenVINOStylizer(network, device, strength=strength, threads=threads, precision="fp32", onnx=onnx)
    if not cpu_supports_bf16():
        return fp32
    # The same graph compiled twice: one export (the slow, GIL-holding part of a load), not two.
    bf16 = OpenVINOStylizer(network, device, strength=strength, threads=threads, precision="bf16", onnx=fp32.onnx)
    image = bf16_check_image()
    quality = psnr(fp32.stylize(image), bf16.stylize(image))
    chosen = bf16 if quality >= BF16_MIN_PSNR_DB else fp32
    (fp32 if chosen is bf16 else bf16).close()
    chosen.precision_check = {"bf16_psnr_db": quality, "threshold_db": BF16_MIN_PSNR_DB}
    return chosen


def _backend_stylizer(network: nn.Module, backend: str, device: torch.device, opts: RuntimeOptions, strength: float,
                      model_ref: str | None = None) -> Stylizer:
    threads = inference_threads(opts.threads)
    precision = opts.precision
    onnx = _exported_graph(network, model_ref, opts, strength) if backend == "openvino" else None
    if precision == "auto":
        if device.type == "cpu" and backend == "openvino":
            return _auto_cpu_openvino(network, device, strength, threads, onnx)
        precision = "fp16" if device.type == "cuda" and backend == "torch" else "fp32"
    if precision == "fp16" and (device.type != "cuda" or backend != "torch"):
        raise DeviceError("fp16 runs on CUDA with the torch backend; use --precision fp32 or bf16 on the CPU")
    if precision == "bf16" and backend == "onnxruntime":
        raise DeviceError("the onnxruntime backend runs fp32 only; use --backend openvino or torch for bf16")
    if backend == "torch":
        from vidstyle.runtime.torch_backend import TorchStylizer

        return TorchStylizer(
            network, device, strength=strength, precision=precision, threads=threads,
            compile=opts.compile, batch_size=opts.batch_size,
        )
    if backend == "onnxruntime":
        from vidstyle.runtime.onnx_backend import OnnxRuntimeStylizer

        return OnnxRuntimeStylizer(network, device, strength=strength, threads=threads)
    from vidstyle.runtime.openvino_backend import OpenVINOStylizer

    return OpenVINOStylizer(network, device, strength=strength, threads=threads, precision=precision, onnx=onnx)


def _activation_bytes(network: nn.Module) -> float:
    """The network's largest activation in float32 bytes per pixel, for memory estimates (0: cannot probe)."""
    from vidstyle.runtime.tiling import activation_bytes_per_pixel

    try:
        return activation_bytes_per_pixel(network)
    except Exception:  # noqa: BLE001 - a network that needs more than a frame (a style input): no estimate
        return 0.0


def create_stylizer(
    model: Any,
    backend: str = "auto",
    device: str = "auto",
    threads: int | None = None,
    strength: float = 1.0,
    long_side: int | None = None,
    **options: Any,
) -> Stylizer:
    """Build a :class:`Stylizer` for ``model``: uint8 (H, W, 3) RGB frames in, same-size uint8 RGB out.

    model: registry name (e.g. ``starry_night-fast-painted``), a ``.safetensors`` path, a loaded model
        (``vidstyle.models.load_model``) or a transform network ``nn.Module``. A multi-style model's
        stylizer lists its ``styles`` and switches with ``set_style`` (``style=`` picks the first).
    backend: "auto" picks the fastest one installed for the device (OpenVINO, then ONNX Runtime,
        then torch on the CPU; torch fp16 on CUDA). Further keyword options: see :class:`RuntimeOptions`.
    Raises DeviceError for a backend or device that is not available, InputError for bad options.
    """
    opts = RuntimeOptions(backend=backend, device=device, threads=threads, strength=strength, long_side=long_side, **options)
    if not 0.0 <= float(opts.strength) <= 1.0:
        raise InputError(f"strength must be between 0 and 1, got {opts.strength}")
    if opts.long_side is not None and opts.long_side < 16:
        raise InputError(f"long side must be at least 16 pixels, got {opts.long_side}")
    opts.precision = parse_precision(opts.precision)
    dev = resolve_device(opts.device)
    network, metadata, model_name = resolve_network(model)
    network = network.float().eval()
    # Checked before the (slower) graph export.
    mix = None if opts.style is None else model_style_mix(opts.style, network_styles(network), model_name)

    installed = available_backends(dev)
    if opts.backend == "auto":
        chosen = installed[0]
    elif opts.backend not in BACKENDS:
        raise InputError(f"unknown backend {opts.backend!r}: use auto, {', '.join(BACKENDS)}")
    elif opts.backend not in installed:
        raise DeviceError(
            f"backend {opts.backend!r} is not available on {dev.type} (installed: {', '.join(installed)});"
            " install it with pip install -e '.[dev]' or use --backend auto"
        )
    else:
        chosen = opts.backend

    # With long_side the strength blend happens at full resolution, outside the network graph.
    inner_strength = opts.strength if opts.long_side is None else 1.0
    model_ref = str(model) if isinstance(model, (str, os.PathLike)) else None
    stylizer = _backend_stylizer(network, chosen, dev, opts, inner_strength, model_ref)
    # Activations count against host memory only on the CPU (a GPU holds its own).
    stylizer.activation_bytes_per_pixel = _activation_bytes(network) if dev.type == "cpu" else 0.0

    tile = opts.tile
    if tile == "auto":
        tile = 768 if dev.type == "cpu" else None
    if tile is not None and opts.long_side is None:
        from vidstyle.runtime.tiling import LargeFrameStylizer, TiledStylizer, tile_threshold_pixels

        # The most pixels one untiled pass may hold: the tiling threshold, and the statistics pass's size.
        within_budget = tile_threshold_pixels(network, opts.tile_memory_budget)
        above = within_budget if opts.tile_above_pixels is None else opts.tile_above_pixels
        tiled = TiledStylizer(network, dev, strength=inner_strength, tile=int(tile), overlap=opts.tile_overlap,
                              stats_max_pixels=within_budget, threads=inference_threads(opts.threads),
                              engine="openvino" if chosen == "openvino" else "torch", precision=stylizer.precision)
        tiled.activation_bytes_per_pixel = stylizer.activation_bytes_per_pixel
        stylizer = LargeFrameStylizer(stylizer, tiled, above_pixels=above)
    if opts.long_side is not None:
        from vidstyle.runtime.scaling import ScaledStylizer

        stylizer = ScaledStylizer(stylizer, opts.long_side, strength=opts.strength)
    stylizer.model_name = model_name
    stylizer.metadata = metadata
    stylizer.backend = chosen
    if mix is not None:
        stylizer.set_style(mix)
    return stylizer
