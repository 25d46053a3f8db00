"""Shared fixtures: small synthetic media made on the fly (the suite needs no external media folder)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

torch.set_num_threads(min(2, torch.get_num_threads()))


def synthetic_scene(height: int = 96, width: int = 128, seed: int = 0) -> np.ndarray:
    """A deterministic (H, W, 3) uint8 RGB scene: gradients, a disc, stripes and noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = xx / max(1, width - 1)
    g = yy / max(1, height - 1)
    b = 0.5 + 0.5 * np.sin(xx / 5.0 + seed) * np.cos(yy / 7.0)
    img = np.stack([r, g, b], axis=-1)
    cy, cx = height * (0.3 + 0.4 * rng.random()), width * (0.3 + 0.4 * rng.random())
    disc = (yy - cy) ** 2 + (xx - cx) ** 2 < (min(height, width) / 5) ** 2
    img[disc] = rng.random(3)
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def synthetic_style(height: int = 96, width: int = 128, seed: int = 1) -> np.ndarray:
    """A texture-like 'painting': coloured diagonal strokes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        f = rng.uniform(0.1, 0.4)
        img[..., c] = 0.5 + 0.5 * np.sin(f * (xx + yy * rng.uniform(0.5, 2)) + rng.uniform(0, 6))
    return (img * 255).astype(np.uint8)


@pytest.fixture
def scene() -> np.ndarray:
    return synthetic_scene()


@pytest.fixture
def style_texture() -> np.ndarray:
    return synthetic_style()
