"""Stylize very large frames in overlapping, feathered tiles with shared normalisation statistics.

Instance normalisation computes per-frame statistics, so stylizing tiles independently would give
each tile its own colours and visible seams. :class:`TiledStylizer` first runs the network once on a
downscaled copy of the whole frame and records every instance-norm layer's per-channel mean and
variance; each tile is then normalised with those frame-wide statistics, so tiles agree with each
other and (up to the downscale) with an untiled run. Overlapping borders are blended with linear
feather weights, so no tile edge reaches the output.
"""
from __future__ import annotations

import copy
from typing import Optional

import cv2
import numpy as np
import torch
from torch import nn

from vidstyle.models.networks import ConditionalInstanceNorm
from vidstyle.models.styles import network_styles
from vidstyle.runtime.base import Stylizer
from vidstyle.runtime.graph import Uint8Graph
from vidstyle.runtime.threads import configure_torch_threads
from vidstyle.utils.image import blend


def tile_starts(length: int, tile: int, overlap: int, align: int = 8) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels covering ``length`` with at least ``overlap`` shared.

    Starts are multiples of ``align`` so every tile sees the same stride-2/stride-4 sampling grid
    as the whole frame (a shifted grid would change the output, not just its borders).
    """
    if length <= tile:
        return [0]
    step = max(align, (tile - overlap) // align * align)
    starts = list(range(0, length - tile, step))
    # The last tile starts on the grid too and is cut short by the frame's edge, where the network
    # pads exactly as it does for the whole frame.
    starts.append(-(-(length - tile) // align) * align)
    return sorted(set(starts))


def feather_weights(length: int, start: int, size: int, overlap: int) -> np.ndarray:
    """1-D blend weights for a tile along one axis.

    At edges shared with a neighbouring tile, the outer ``overlap // 2`` pixels get weight 0 (their
    receptive field ran into the tile border, so they are not trusted) and the inner half ramps
    linearly up to 1. Edges that are the frame's own edges keep weight 1.
    """
    w = np.ones(size, np.float32)
    margin = overlap // 2
    ramp_len = overlap - margin
    ramp = np.concatenate([np.zeros(margin, np.float32), np.linspace(1.0 / (ramp_len + 1), 1.0, ramp_len, dtype=np.float32)])
    if start > 0 and overlap > 0:
        w[:overlap] = ramp
    if start + size < length and overlap > 0:
        w[size - overlap:] = np.minimum(w[size - overlap:], ramp[::-1])
    return w


class _StatsNorm(nn.Module):
    """Instance norm whose per-channel statistics are recorded into, or read from, a shared slot list.

    A multi-style network's conditional norm keeps its scale and shift per style: the mix its network
    set on the layer picks them, as in the layer itself.
    """

    def __init__(self, layer: nn.Module, slots: list, index: int, record: bool) -> None:
        super().__init__()
        self.conditional = layer if isinstance(layer, ConditionalInstanceNorm) else None
        affine = self.conditional is None and layer.affine
        self.eps = 1e-5 if self.conditional is not None else layer.eps  # F.instance_norm's default
        self.weight = layer.weight if affine else None
        self.bias = layer.bias if affine else None
        self.slots = slots
        self.index = index
        self.record = record

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.record:
            var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True, correction=0)
            self.slots[self.index] = (mean, var)
        else:
            mean, var = self.slots[self.index]
        y = (x - mean) * torch.rsqrt(var + self.eps)
        if self.conditional is not None:
            mix = self.conditional.mix.to(y.dtype)
            scale = (mix @ self.conditional.weight.to(y.dtype))[:, :, None, None]
            return y * scale + (mix @ self.conditional.bias.to(y.dtype))[:, :, None, None]
        if self.weight is not None:
            y = y * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
        return y


def _with_stats_norms(network: nn.Module, record: bool) -> tuple[nn.Module, list]:
    """A copy of ``network`` whose instance norms (plain or conditional) record or read statistics in the
    returned slots."""
    net = copy.deepcopy(network).eval()
    slots: list = []

    def replace(module: nn.Module) -> None:
        for name, child in module.named_children():
            if isinstance(child, (nn.InstanceNorm2d, ConditionalInstanceNorm)):
                setattr(module, name, _StatsNorm(child, slots, len(slots), record))
                slots.append(None)
            else:
                replace(child)

    replace(net)
    return net, slots


class StatsOutputGraph(nn.Module):
    """frames (1, H, W, 3) uint8 [, style (1, S) of a multi-style network] -> (mean_0, var_0, mean_1, var_1, ...)
    of every instance norm, each (1, C_i, 1, 1)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network, self.slots = _with_stats_norms(network, record=True)

    def forward(self, frames: torch.Tensor, style: Optional[torch.Tensor] = None) -> tuple:
        x = frames.permute(0, 3, 1, 2).to(torch.float32) * (1.0 / 255.0)
        self.network(x) if style is None else self.network(x, style)
        return tuple(t for pair in self.slots for t in pair)


class StatsInputGraph(nn.Module):
    """(frames (B, H, W, 3) uint8, [style (1, S) of a multi-style network,] mean_0, var_0, ...) -> (B, H, W, 3)
    uint8, normalised with the given statistics."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        net, self.slots = _with_stats_norms(network, record=False)
        self.multistyle = bool(network_styles(network))
        self.graph = Uint8Graph(net, 1.0)

    def forward(self, frames: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
        style, stats = (inputs[0], inputs[1:]) if self.multistyle else (None, inputs)
        for i in range(len(self.slots)):
            self.slots[i] = (stats[2 * i], stats[2 * i + 1])
        return self.graph(frames, style)


class TorchTileEngine:
    """Statistics pass and tile pass with PyTorch (any device)."""

    def __init__(self, network: nn.Module, device: torch.device) -> None:
        self.device = device
        self.stats_graph = StatsOutputGraph(network).to(device).eval()
        self.tile_graph = StatsInputGraph(network).to(device).eval()
        self.name = f"torch-{device.type}"

    def _frames(self, image: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(image))[None].to(self.device)

    def _style(self, style: Optional[np.ndarray]) -> tuple:
        return () if style is None else (torch.from_numpy(style).to(self.device),)

    @torch.inference_mode()
    def statistics(self, image: np.ndarray, style: Optional[np.ndarray] = None) -> list:
        return list(self.stats_graph(self._frames(image), *self._style(style))) if self.stats_graph.slots else []

    @torch.inference_mode()
    def run_tile(self, tile: np.ndarray, stats: list, style: Optional[np.ndarray] = None) -> np.ndarray:
        return self.tile_graph(self._frames(tile), *self._style(style), *stats)[0].cpu().numpy()


class OpenVINOTileEngine:
    """Statistics pass (fp32) and tile pass (``precision``) with OpenVINO on the CPU; statistics (and a
    multi-style network's style weights) are graph inputs."""

    def __init__(self, network: nn.Module, threads: int, precision: str = "fp32") -> None:
        from vidstyle.runtime.export import traced_onnx_bytes
        from vidstyle.runtime.openvino_backend import CompiledByShape, cpu_config

        network = network.float().eval().cpu()
        # Odd example size: the network's pad-to-stride branch must be traced (see export._EXAMPLE_HW).
        example = torch.randint(0, 256, (1, 67, 93, 3), dtype=torch.uint8)
        styles = network_styles(network)
        weights = torch.arange(1, len(styles) + 1, dtype=torch.float32)[None]
        style_args, style_names = ((weights / weights.sum(),), ["style"]) if styles else ((), [])
        stats_graph = StatsOutputGraph(network).eval()
        with torch.no_grad():
            example_stats = list(stats_graph(example, *style_args))
        stat_names = [f"{kind}{i // 2}" for i, kind in zip(range(len(example_stats)), ["mean", "var"] * len(example_stats))]
        frame_axes = {0: "batch", 1: "height", 2: "width"}
        self.stats_model = None
        if example_stats:
            self.stats_model = CompiledByShape(
                traced_onnx_bytes(stats_graph, (example, *style_args), ["input", *style_names], stat_names,
                                  {"input": frame_axes}),
                cpu_config(threads, "fp32"),
            )
        tile_onnx = traced_onnx_bytes(
            StatsInputGraph(network).eval(), (example, *style_args, *example_stats), ["input", *style_names, *stat_names],
            ["output"],
            {"input": frame_axes, "output": frame_axes},
        )
        self.tile_model = CompiledByShape(tile_onnx, cpu_config(threads, precision))
        self.name = f"openvino-cpu-{precision}"

    def statistics(self, image: np.ndarray, style: Optional[np.ndarray] = None) -> list:
        if self.stats_model is None:
            return []
        return self.stats_model.infer([np.ascontiguousarray(image)[None], *([] if style is None else [style])])

    def run_tile(self, tile: np.ndarray, stats: list, style: Optional[np.ndarray] = None) -> np.ndarray:
        return self.tile_model.infer([np.ascontiguousarray(tile)[None], *([] if style is None else [style]), *stats])[0][0]


# Bytes per frame pixel of a tiled frame outside the network: uint8 in and out (6), float32 accumulator and
# weight (16), and the temporaries of the final rounding and blend (24).
TILED_BYTES_PER_PIXEL = 46.0


class TiledStylizer(Stylizer):
    """Stylizes a frame in ``tile``×``tile`` tiles that overlap by ``overlap`` pixels.

    engine: "torch" (any device) or "openvino" (CPU; ``precision`` fp32 or bf16 for the tiles).
    stats_long_side: the statistics pass runs on the frame scaled to this longer side (frames that
        are already smaller run at full size, and then tiled output equals untiled output up to
        receptive-field effects at tile borders, which the overlap absorbs).
    stats_max_pixels: instead of ``stats_long_side``, run the statistics pass at the largest scale
        with at most this many pixels (create_stylizer passes the memory budget's limit: statistics
        from a larger copy are closer to the full frame's).
    Peak memory is one tile's activations plus a float32 accumulator of the frame (16 bytes/pixel).
    """

    def __init__(
        self,
        network: nn.Module,
        device: torch.device,
        strength: float = 1.0,
        tile: int = 768,
        overlap: int = 128,
        stats_long_side: int = 1024,
        stats_max_pixels: int | None = None,
        threads: int | None = None,
        engine: str = "torch",
        precision: str = "fp32",
    ) -> None:
        if tile <= 2 * overlap:
            raise ValueError(f"tile ({tile}) must be more than twice the overlap ({overlap})")
        if device.type == "cpu" and threads is not None:
            configure_torch_threads(threads)
        if engine == "openvino":
            self.engine = OpenVINOTileEngine(network, threads or 1, precision)
        elif engine == "torch":
            self.engine = TorchTileEngine(network, device)
        else:
            raise ValueError(f"unknown tile engine {engine!r}: use torch or openvino")
        self.device = device
        self.strength = float(strength)
        self.tile = int(tile)
        self.overlap = int(overlap)
        self.stats_long_side = int(stats_long_side)
        self.stats_max_pixels = stats_max_pixels
        self.precision = precision if engine == "openvino" else "fp32"
        self.name = f"tiled{tile}-{self.engine.name}"
        self.hold_styles(network_styles(network))

    def stylize(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        if self.stats_max_pixels:
            scale = min(1.0, (self.stats_max_pixels / (h * w)) ** 0.5)
        else:
            scale = min(1.0, self.stats_long_side / max(h, w))
        small = image if scale == 1.0 else cv2.resize(
            image, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA
        )
        style = None if self.style_input is None else self.style_input.vector
        stats = self.engine.statistics(small, style)
        acc = np.zeros((h, w, 3), np.float32)
        weight = np.zeros((h, w, 1), np.float32)
        for y0 in tile_starts(h, self.tile, self.overlap):
            for x0 in tile_starts(w, self.tile, self.overlap):
                th, tw = min(self.tile, h - y0), min(self.tile, w - x0)
                out = self.engine.run_tile(image[y0:y0 + th, x0:x0 + tw], stats, style)
                wy = feather_weights(h, y0, th, self.overlap)
                wx = feather_weights(w, x0, tw, self.overlap)
                wt = (wy[:, None] * wx[None, :])[..., None]
                acc[y0:y0 + th, x0:x0 + tw] += out.astype(np.float32) * wt
                weight[y0:y0 + th, x0:x0 + tw] += wt
        acc /= np.maximum(weight, 1e-6)
        return blend(image, np.clip(acc + 0.5, 0, 255).astype(np.uint8), self.strength)

    def peak_bytes(self, height: int, width: int, frames: int = 1) -> float:
        """One frame at a time: the uint8 frame in and out, the float32 accumulators and the final blend's
        temporaries (TILED_BYTES_PER_PIXEL), and the larger of the statistics pass and one tile's activations."""
        stats = min(height * width, self.stats_max_pixels or self.stats_long_side ** 2)
        per_pixel = 6.0 + 2.0 * self.activation_bytes_per_pixel
        return height * width * TILED_BYTES_PER_PIXEL + max(stats, self.tile ** 2) * per_pixel

    def close(self) -> None:
        self.engine = None


@torch.no_grad()
def activation_bytes_per_pixel(network: nn.Module, probe: int = 64) -> float:
    """Float32 bytes of the largest single activation per input pixel (probed on a probe×probe input).

    A backend holds about two activations of this size at once (a layer's input and output; the
    rest are smaller), so ``2 * bytes_per_pixel * H * W`` estimates a frame's peak inference memory.
    Measured with OpenVINO fp32 (extra RSS during one frame): quality 1920×1080 1.07 GB (estimate
    1.13), 3840×2160 4.2 GB (estimate 4.5); fast 3840×2160 0.9 GB (estimate 0.9).
    """
    largest = 0

    def hook(_module, _inputs, output):
        nonlocal largest
        if isinstance(output, torch.Tensor):
            largest = max(largest, output.numel())

    leaves = [m for m in network.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    try:
        device = next(network.parameters()).device
        network(torch.zeros(1, 3, probe, probe, device=device))
    finally:
        for h in handles:
            h.remove()
    return 4.0 * largest / (probe * probe)


def tile_threshold_pixels(network: nn.Module, memory_budget_bytes: float) -> int:
    """Frames with more pixels than this are tiled, so inference stays within ``memory_budget_bytes``."""
    return int(memory_budget_bytes / (2.0 * activation_bytes_per_pixel(network)))


class LargeFrameStylizer(Stylizer):
    """Uses ``fast`` for ordinary frames and ``tiled`` for frames above ``above_pixels`` pixels."""

    def __init__(self, fast: Stylizer, tiled: Stylizer, above_pixels: int) -> None:
        self.fast = fast
        self.tiled = tiled
        self.above_pixels = int(above_pixels)
        self.name = f"{fast.name}, {tiled.name} above {self.above_pixels / 1e6:.1f} Mpx"
        self.precision = fast.precision
        self.precision_check = fast.precision_check

    @property
    def styles(self) -> list[str]:  # type: ignore[override]
        return self.fast.styles

    @property
    def style_mix(self) -> dict[str, float]:  # type: ignore[override]
        return self.fast.style_mix

    def _apply_style(self, mix: dict[str, float]) -> None:
        self.fast.set_style(mix)
        self.tiled.set_style(mix)

    def stylize(self, image: np.ndarray) -> np.ndarray:
        if image.shape[0] * image.shape[1] > self.above_pixels:
            return self.tiled.stylize(image)
        return self.fast.stylize(image)

    def stylize_batch(self, images):
        if images and all(im.shape[0] * im.shape[1] <= self.above_pixels for im in images):
            return self.fast.stylize_batch(images)
        return [self.stylize(im) for im in images]

    def peak_bytes(self, height: int, width: int, frames: int = 1) -> float:
        if height * width > self.above_pixels:
            return self.tiled.peak_bytes(height, width)  # tiled frames go one at a time
        return self.fast.peak_bytes(height, width, frames)

    def close(self) -> None:
        self.fast.close()
        self.tiled.close()
