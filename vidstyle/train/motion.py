"""Synthetic motion for temporal training (Ruder et al. 2018): random affine + smooth elastic flow fields."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from vidstyle.flow.warp import warp_tensor


def random_flow(batch: int, height: int, width: int, generator: torch.Generator, max_shift: float = 4.0,
                max_rotation_deg: float = 2.0, max_zoom: float = 0.03, elastic_px: float = 1.5) -> torch.Tensor:
    """(B, 2, H, W) backward flow in pixels: a small random camera move (shift, rotation, zoom about the
    centre) plus a smooth elastic field (random 4×4 grid of offsets, bicubically upsampled), like the
    frame-to-frame motion of hand-held video."""
    u = lambda *s: torch.rand(*s, generator=generator) * 2 - 1  # noqa: E731 - uniform in [-1, 1]
    ys = torch.arange(height, dtype=torch.float32).view(1, height, 1) - (height - 1) / 2
    xs = torch.arange(width, dtype=torch.float32).view(1, 1, width) - (width - 1) / 2
    angle = u(batch, 1, 1) * math.radians(max_rotation_deg)
    zoom = 1 + u(batch, 1, 1) * max_zoom
    cos, sin = torch.cos(angle) * zoom, torch.sin(angle) * zoom
    fx = cos * xs - sin * ys - xs + u(batch, 1, 1) * max_shift
    fy = sin * xs + cos * ys - ys + u(batch, 1, 1) * max_shift
    flow = torch.stack([fx, fy], dim=1)
    elastic = F.interpolate(u(batch, 2, 4, 4) * elastic_px, size=(height, width), mode="bicubic", align_corners=True)
    return flow + elastic


def inside(flow: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) float mask: 1 where the flow samples inside the image (visible in both frames)."""
    _, _, h, w = flow.shape
    ys = torch.arange(h, dtype=flow.dtype, device=flow.device).view(1, h, 1)
    xs = torch.arange(w, dtype=flow.dtype, device=flow.device).view(1, 1, w)
    sx, sy = xs + flow[:, 0], ys + flow[:, 1]
    ok = (sx >= 0) & (sx <= w - 1) & (sy >= 0) & (sy <= h - 1)
    return ok.unsqueeze(1).to(flow.dtype)


def move(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward-warp (B, C, H, W) by (B, 2, H, W); differentiable (vidstyle.flow.warp.warp_tensor)."""
    return warp_tensor(image, flow, padding_mode="border")
