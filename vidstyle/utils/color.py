"""Colour spaces for colour-preserving style transfer (Gatys et al. 2016, "Preserving color in neural
artistic style transfer"): the NTSC YIQ space of the paper, and putting a photo's colours back.

All functions take (B, 3, H, W) float RGB tensors in [0, 1].
"""
from __future__ import annotations

import torch

# NTSC YIQ, as in the paper; rows give Y, I, Q from R, G, B.
_RGB_TO_YIQ = torch.tensor(
    [
        [0.299, 0.587, 0.114],
        [0.595716, -0.274453, -0.321263],
        [0.211456, -0.522591, 0.311135],
    ]
)


def rgb_to_yiq(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] -> (B, 3, H, W) YIQ (Y in [0, 1], I and Q around 0)."""
    m = _RGB_TO_YIQ.to(rgb.device, rgb.dtype)
    return torch.einsum("oc,bchw->bohw", m, rgb)


def yiq_to_rgb(yiq: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_yiq` (not clamped)."""
    m = torch.linalg.inv(_RGB_TO_YIQ).to(yiq.device, yiq.dtype)
    return torch.einsum("oc,bchw->bohw", m, yiq)


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> (B, 1, H, W) luminance Y in [0, 1]."""
    return rgb_to_yiq(rgb)[:, :1]


def recolor(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The stylized image's luminance with the content's chroma (I, Q), clamped to [0, 1].

    ``stylized`` and ``content`` are (B, 3, H, W) of the same size.
    """
    y = luminance(stylized)
    iq = rgb_to_yiq(content)[:, 1:]
    return yiq_to_rgb(torch.cat([y, iq], dim=1)).clamp(0.0, 1.0)
