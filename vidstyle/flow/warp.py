"""Backward warping by a flow field: cv2.remap for numpy images, grid_sample for torch tensors.

``warp(image, flow)(x) = image(x + flow(x))``, bilinear. With the flow from frame A to frame B
(see :mod:`vidstyle.flow.estimate`), warping frame B gives frame B seen from A's pixel grid.
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import torch
import torch.nn.functional as F

_BORDERS = {"replicate": cv2.BORDER_REPLICATE, "constant": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT101}


@lru_cache(maxsize=8)
def pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (xs, ys), each (H, W) float32; cached and read-only."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys


def sample_points(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel samples from: (x + dx, y + dy), each (H, W) float32."""
    xs, ys = pixel_grid(*flow.shape[:2])
    return xs + flow[..., 0], ys + flow[..., 1]


def inside_mask(flow: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """(H, W) bool: True where x + flow(x) falls inside the image (at least ``margin`` px from its edge)."""
    h, w = flow.shape[:2]
    mx, my = sample_points(flow)
    return (mx >= margin) & (mx <= w - 1 - margin) & (my >= margin) & (my <= h - 1 - margin)


def warp_image(
    image: np.ndarray, flow: np.ndarray, border: str = "replicate", interpolation: int = cv2.INTER_LINEAR
) -> np.ndarray:
    """Backward-warp an (H, W) or (H, W, C) image (uint8 or float32) by an (H, W, 2) flow.

    Returns an array of the image's shape and dtype. ``border`` says what points outside
    the image read: "replicate" (nearest edge pixel), "constant" (zero) or "reflect".
    """
    if image.shape[:2] != flow.shape[:2]:
        raise ValueError(f"image {image.shape[:2]} and flow {flow.shape[:2]} differ in size")
    mx, my = sample_points(flow)
    mode = _BORDERS[border]
    if image.ndim == 3 and image.shape[2] > 4:  # cv2.remap handles at most 4 channels
        return np.stack(
            [cv2.remap(image[..., c], mx, my, interpolation, borderMode=mode) for c in range(image.shape[2])], axis=-1
        )
    out = cv2.remap(image, mx, my, interpolation, borderMode=mode)
    return out.reshape(image.shape)


def flow_to_tensor(flow: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(H, W, 2) numpy flow -> (1, 2, H, W) float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0).to(device)


def warp_tensor(image: torch.Tensor, flow: torch.Tensor, padding_mode: str = "border") -> torch.Tensor:
    """Backward-warp (B, C, H, W) by a (B, 2, H, W) flow in pixels (channel 0 = dx, 1 = dy); differentiable.

    Any float dtype and device (flow is moved to the image's). ``padding_mode``: "border",
    "zeros" or "reflection", as in ``torch.nn.functional.grid_sample``.
    """
    if image.dim() != 4 or flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"expected image (B, C, H, W) and flow (B, 2, H, W), got {tuple(image.shape)} and {tuple(flow.shape)}")
    if image.shape[-2:] != flow.shape[-2:]:
        raise ValueError(f"image {tuple(image.shape[-2:])} and flow {tuple(flow.shape[-2:])} differ in size")
    b, _, h, w = image.shape
    flow = flow.to(device=image.device, dtype=image.dtype)
    ys = torch.arange(h, device=image.device, dtype=image.dtype).view(1, h, 1)
    xs = torch.arange(w, device=image.device, dtype=image.dtype).view(1, 1, w)
    # grid_sample wants coordinates in [-1, 1] with align_corners=True mapping -1/1 to pixel centres 0 and W-1.
    gx = (xs + flow[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0
    gy = (ys + flow[:, 1]) * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=-1)
    if grid.shape[0] != b:
        grid = grid.expand(b, -1, -1, -1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode=padding_mode, align_corners=True)
