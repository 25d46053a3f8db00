"""Stylize very large frames in overlapping, feathered tiles with shared normalisation statistics.

Instance normalisation computes per-frame statistics, so stylizing tiles independently would give
each tile its own colours and visible seams. :class:`TiledStylizer` first runs the network once on a
downscaled copy of the whole frame and records every instance-norm layer's per-channel mean and
variance; each tile is then normalised with those frame-wide statistics, so tiles agree with each
other and (up to the downscale) with an untiled run. Overlapping borders are blended with linear
feather weights, so no tile edge reaches the output.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import cv2
import numpy as np
import torch
from torch import nn

from vidstyle.runtime.base import Stylizer
from vidstyle.runtime.graph import Uint8Graph
from vidstyle.runtime.threads import configure_torch_threads


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


class _SharedInstanceNorm:
    """Records instance-norm statistics on one pass and applies them on later passes."""

    def __init__(self, network: nn.Module) -> None:
        self.layers = [m for m in network.modules() if isinstance(m, nn.InstanceNorm2d)]
        self.stats: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        self.stats.clear()

        def make(layer: nn.InstanceNorm2d):
            def forward(x: torch.Tensor) -> torch.Tensor:
                var, mean = torch.var_mean(x.float(), dim=(2, 3), keepdim=True, correction=0)
                self.stats[id(layer)] = (mean, var)
                return self._normalise(layer, x, mean, var)
            return forward

        with self._patched(make):
            yield

    @contextlib.contextmanager
    def applying(self) -> Iterator[None]:
        def make(layer: nn.InstanceNorm2d):
            def forward(x: torch.Tensor) -> torch.Tensor:
                mean, var = self.stats[id(layer)]
                return self._normalise(layer, x, mean, var)
            return forward

        with self._patched(make):
            yield

    @staticmethod
    def _normalise(layer: nn.InstanceNorm2d, x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
        y = (x - mean) * torch.rsqrt(var + layer.eps)
        if layer.affine:
            y = y * layer.weight.view(1, -1, 1, 1) + layer.bias.view(1, -1, 1, 1)
        return y

    @contextlib.contextmanager
    def _patched(self, make) -> Iterator[None]:
        # Instance attributes shadow the class's forward for these layers only, and are removed after.
        for layer in self.layers:
            layer.forward = make(layer)
        try:
            yield
        finally:
            for layer in self.layers:
                del layer.forward


class TiledStylizer(Stylizer):
    """Stylizes a frame in ``tile``×``tile`` tiles that overlap by ``overlap`` pixels (torch, any device).

    stats_long_side: the statistics pass runs on the frame scaled to this longer side (frames that
        are already smaller run at full size, and then tiled output equals untiled output up to
        receptive-field effects at tile borders, which the overlap absorbs).
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
        threads: int | None = None,
    ) -> None:
        if tile <= 2 * overlap:
            raise ValueError(f"tile ({tile}) must be more than twice the overlap ({overlap})")
        if device.type == "cpu" and threads is not None:
            configure_torch_threads(threads)
        self.network = network.eval().to(device)
        self.device = device
        self.strength = float(strength)
        self.tile = int(tile)
        self.overlap = int(overlap)
        self.stats_long_side = int(stats_long_side)
        self.norms = _SharedInstanceNorm(self.network)
        self.graph = Uint8Graph(self.network, 1.0).eval()
        self.name = f"tiled{tile}-torch-{device.type}"

    def _run(self, image: np.ndarray) -> np.ndarray:
        frames = torch.from_numpy(np.ascontiguousarray(image))[None].to(self.device)
        return self.graph(frames)[0].cpu().numpy()

    @torch.inference_mode()
    def stylize(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        scale = min(1.0, self.stats_long_side / max(h, w))
        small = image if scale == 1.0 else cv2.resize(
            image, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA
        )
        with self.norms.recording():
            self._run(small)
        acc = np.zeros((h, w, 3), np.float32)
        weight = np.zeros((h, w, 1), np.float32)
        with self.norms.applying():
            for y0 in tile_starts(h, self.tile, self.overlap):
                for x0 in tile_starts(w, self.tile, self.overlap):
                    th, tw = min(self.tile, h - y0), min(self.tile, w - x0)
                    out = self._run(image[y0:y0 + th, x0:x0 + tw])
                    wy = feather_weights(h, y0, th, self.overlap)
                    wx = feather_weights(w, x0, tw, self.overlap)
                    wt = (wy[:, None] * wx[None, :])[..., None]
                    acc[y0:y0 + th, x0:x0 + tw] += out.astype(np.float32) * wt
                    weight[y0:y0 + th, x0:x0 + tw] += wt
        acc /= np.maximum(weight, 1e-6)
        if self.strength < 1.0:
            acc = acc * self.strength + image.astype(np.float32) * (1.0 - self.strength)
        return np.clip(acc + 0.5, 0, 255).astype(np.uint8)

    def close(self) -> None:
        self.graph = None


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
        self.name = fast.name
        self.precision = fast.precision
        self.precision_check = fast.precision_check

    def stylize(self, image: np.ndarray) -> np.ndarray:
        if image.shape[0] * image.shape[1] > self.above_pixels:
            return self.tiled.stylize(image)
        return self.fast.stylize(image)

    def stylize_batch(self, images):
        if images and all(im.shape[0] * im.shape[1] <= self.above_pixels for im in images):
            return self.fast.stylize_batch(images)
        return [self.stylize(im) for im in images]

    def close(self) -> None:
        self.fast.close()
        self.tiled.close()
