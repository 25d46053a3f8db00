"""Loss functions for style transfer. All are pure functions of tensors.

Shapes: features (B, C, H, W); masks (B, 1, H', W') or (1, 1, H', W') with values in [0, 1],
resized to each feature map with bilinear interpolation. Every loss returns a scalar tensor,
zero for identical inputs.
"""
from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F


def _fit_mask(mask: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    if mask is None:
        return None
    if mask.dim() == 3:
        mask = mask.unsqueeze(1)
    if mask.shape[-2:] != like.shape[-2:]:
        mask = F.interpolate(mask.to(like.dtype), size=like.shape[-2:], mode="bilinear", align_corners=False)
    return mask.to(like.dtype)


def content_loss(features: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared difference of feature maps (B, C, H, W); with a mask, the mean over masked pixels."""
    diff = (features - target) ** 2
    m = _fit_mask(mask, features)
    if m is None:
        return diff.mean()
    return (diff * m).sum() / (m.sum() * features.shape[1]).clamp_min(1e-8)


def gram_matrix(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C) Gram matrix normalised by C·H·W (by C·Σmask with a mask)."""
    b, c, h, w = features.shape
    m = _fit_mask(mask, features)
    if m is not None:
        features = features * m
        norm = c * m.flatten(1).sum(1).clamp_min(1e-8).view(-1, 1, 1)
        if norm.shape[0] != b:
            norm = norm.expand(b, 1, 1)
    else:
        norm = c * h * w
    flat = features.reshape(b, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / norm


def style_loss(
    features: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    layer_weights: Mapping[str, float] | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Σ_l w_l · mean((G(F_l) − G_target_l)²) over the layers of ``target_grams``.

    target_grams[l] is (1, C, C) or (B, C, C); it broadcasts over the batch.
    """
    total = None
    for name, target in target_grams.items():
        g = gram_matrix(features[name], mask)
        w = 1.0 if layer_weights is None else float(layer_weights.get(name, 1.0))
        term = w * ((g - target.to(g.dtype)) ** 2).mean()
        total = term if total is None else total + term
    if total is None:
        raise ValueError("style_loss needs at least one layer")
    return total


def tv_loss(image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Total variation of (B, C, H, W): mean squared difference of neighbouring pixels."""
    dx = (image[..., :, 1:] - image[..., :, :-1]) ** 2
    dy = (image[..., 1:, :] - image[..., :-1, :]) ** 2
    m = _fit_mask(mask, image)
    if m is None:
        return dx.mean() + dy.mean()
    mx, my = m[..., :, 1:], m[..., 1:, :]
    c = image.shape[1]
    return (dx * mx).sum() / (c * mx.sum()).clamp_min(1e-8) + (dy * my).sum() / (c * my.sum()).clamp_min(1e-8)


def grid_loss(image: torch.Tensor, period: int = 4) -> torch.Tensor:
    """Energy of a pattern locked to the pixel grid modulo ``period``: the artefact of strided networks.

    image: (B, C, H, W) in [0, 1]. The high-pass detail (image minus a 5×5 box blur) is split into the
    period×period pixel phases; the loss is the variance across phases of each phase's mean detail,
    averaged over B and C. Brush strokes at any other frequency or orientation, and strokes that are not
    aligned over the whole image, average out (a photo gives ~1e-5 at 256 px); a visible stride-4 grid of
    amplitude a gives about a²/2. Periods that divide ``period`` (2 for 4) are covered too.
    """
    b, c, h, w = image.shape
    detail = image - F.avg_pool2d(F.pad(image, (2, 2, 2, 2), mode="replicate"), 5, 1)
    h_crop, w_crop = h - h % period, w - w % period
    phases = detail[..., :h_crop, :w_crop].reshape(b, c, h_crop // period, period, w_crop // period, period)
    return phases.mean(dim=(2, 4)).var(dim=(-2, -1), unbiased=False).mean()


def temporal_loss(image: torch.Tensor, warped_previous: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Ruder et al. 2016 short-term temporal loss: (1/D) Σ c·(x − ω(x_prev))² with D = C·H·W.

    ``mask`` (B, 1, H, W) in [0, 1] is 1 where the previous frame is visible (not occluded).
    """
    diff = (image - warped_previous) ** 2
    m = _fit_mask(mask, image)
    if m is not None:
        diff = diff * m
    return diff.mean()


def rgb_to_lab(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) sRGB in [0, 1] -> (B, 3, H, W) CIELAB (D65): L in [0, 100], a and b about [-128, 127].

    Differentiable (the same formulas as OpenCV's float conversion), for colour losses.
    """
    x = image.clamp(0, 1)
    linear = torch.where(x > 0.04045, ((x + 0.055) / 1.055) ** 2.4, x / 12.92)
    m = torch.tensor([[0.412453, 0.357580, 0.180423],
                      [0.212671, 0.715160, 0.072169],
                      [0.019334, 0.119193, 0.950227]], dtype=x.dtype, device=x.device)
    xyz = torch.einsum("ij,bjhw->bihw", m, linear)
    xyz = xyz / torch.tensor([0.950456, 1.0, 1.088754], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-6) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], dim=1)


def sorted_projections(pixels: torch.Tensor, directions: torch.Tensor, count: int) -> torch.Tensor:
    """Quantiles of a point cloud along each direction: (N, D) points, (K, D) unit directions ->
    (K, count) values at ``count`` evenly spaced quantiles (the target of :func:`palette_loss`)."""
    projected = (pixels @ directions.T).T.contiguous()  # (K, N)
    q = torch.linspace(0, 1, count, dtype=pixels.dtype, device=pixels.device)
    return torch.quantile(projected, q, dim=1).T.contiguous()


def palette_loss(image: torch.Tensor, target_quantiles: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Sliced 1-Wasserstein distance between each image's Lab pixel distribution and a target's, per image.

    image: (B, 3, H, W) RGB in [0, 1]; target_quantiles: (B or 1, K, H·W) from :func:`sorted_projections` of
    the target's Lab pixels; directions: (K, 3) unit vectors. Returns (B,) distances in Lab units.
    """
    lab = rgb_to_lab(image).flatten(2).transpose(1, 2)  # (B, N, 3)
    projected = torch.sort(lab @ directions.T.to(lab.dtype), dim=1).values.transpose(1, 2)  # (B, K, N)
    return (projected - target_quantiles.to(projected.dtype)).abs().mean(dim=(1, 2))
