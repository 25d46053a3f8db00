"""Luminance-only style transfer (Gatys et al. 2016, "Preserving color in neural artistic style transfer").

The style is transferred on luminance alone and the content's chroma is put back afterwards
(:func:`vidstyle.utils.color.recolor`). Functions take (B, 1 or 3, H, W) float tensors in [0, 1].
"""
from __future__ import annotations

import torch


def gray_rgb(y: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) luminance -> (B, 3, H, W) grey RGB that VGG19 can read."""
    return y.clamp(0.0, 1.0).expand(-1, 3, -1, -1).contiguous()


def match_luminance(style_y: torch.Tensor, content_y: torch.Tensor) -> torch.Tensor:
    """Shift and scale the style's luminance to the content's mean and standard deviation (paper, eq. 1)."""
    s_mean, s_std = style_y.mean(), style_y.std().clamp_min(1e-6)
    c_mean, c_std = content_y.mean(), content_y.std()
    return ((style_y - s_mean) * (c_std / s_std) + c_mean).clamp(0.0, 1.0)
