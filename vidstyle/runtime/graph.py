"""The uint8-in, uint8-out inference graph every backend runs.

Wrapping the transform network in :class:`Uint8Graph` folds the colour scaling (/255, *255),
clamping, rounding and the strength blend into the graph itself, so exported backends
(ONNX Runtime, OpenVINO) do them inside their fused kernels and Python never touches
float frames.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn


class Uint8Graph(nn.Module):
    """``network`` with uint8 NHWC frames at both ends.

    forward(frames, style=None): frames (B, H, W, 3) uint8 RGB -> (B, H, W, 3) uint8 RGB; ``style`` (1, S)
    float32 weights summing to 1 for a multi-style network (None: the network's own default).
    The network sees (B, 3, H, W) float RGB in [0, 1] (channels-last strides, which is free:
    the permute of an NHWC tensor is already channels-last). ``strength`` in [0, 1] blends the
    stylized output with the original frame: 1.0 is the full style, 0.0 the unchanged frame.

    ``compute_dtype`` is the dtype the network runs in (float16 on CUDA); the edges stay float32.
    """

    def __init__(self, network: nn.Module, strength: float = 1.0, compute_dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        if not 0.0 <= float(strength) <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {strength}")
        self.network = network
        self.strength = float(strength)
        self.compute_dtype = compute_dtype

    def forward(self, frames: torch.Tensor, style: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = frames.permute(0, 3, 1, 2).to(torch.float32) * (1.0 / 255.0)
        # A multi-style network takes its style weights (1, S) as a second input: switching styles is new data.
        y = self.network(x.to(self.compute_dtype)) if style is None else self.network(x.to(self.compute_dtype), style)
        y = y.to(torch.float32).clamp(0.0, 1.0)
        if self.strength < 1.0:
            y = y * self.strength + x * (1.0 - self.strength)
        # +0.5 then truncate = round half up, the same in torch, ONNX and OpenVINO casts.
        return (y * 255.0 + 0.5).to(torch.uint8).permute(0, 2, 3, 1)


def frames_to_tensor(images: list, device: torch.device, pin: bool = False) -> torch.Tensor:
    """Stack (H, W, 3) uint8 arrays into a (B, H, W, 3) uint8 tensor on ``device``.

    On CUDA with ``pin`` the stack goes through pinned memory so the copy is asynchronous.
    """
    import numpy as np

    batch = np.stack(images) if len(images) > 1 else np.ascontiguousarray(images[0])[None]
    t = torch.from_numpy(batch)
    if device.type == "cuda":
        if pin:
            t = t.pin_memory()
        return t.to(device, non_blocking=pin)
    return t
