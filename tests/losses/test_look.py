"""The look measures: palette ratio, luminance SSIM, colour transfer, artefact scores, and the palette loss."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from vidstyle.io.synthetic import synthetic_scene, synthetic_style
from vidstyle.losses.functional import palette_loss, rgb_to_lab, sorted_projections
from vidstyle.losses.look import colour_transfer, luminance_ssim, palette_distance, palette_ratio, to_lab


def test_rgb_to_lab_matches_opencv():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    ours = rgb_to_lab(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255)[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - to_lab(image)).max() < 0.5


def test_palette_ratio_is_one_for_the_photo_and_small_for_the_painting_colours():
    photo = synthetic_scene(96, 128, seed=1)
    painting = synthetic_style(96, 128, seed=2)
    assert abs(palette_ratio(photo, photo, painting) - 1.0) < 1e-6
    assert palette_ratio(painting, photo, painting) < 0.05
    # Reinhard colour transfer moves the palette most of the way while keeping the photo's structure.
    moved = colour_transfer(photo, painting)
    assert palette_ratio(moved, photo, painting) < 0.6
    assert luminance_ssim(moved, photo) > 0.5


def test_luminance_ssim_orders_degradations():
    photo = synthetic_scene(96, 128, seed=3)
    rng = np.random.default_rng(0)

    def noisy(amount):
        return np.clip(photo.astype(int) + rng.integers(-amount, amount + 1, photo.shape), 0, 255).astype(np.uint8)

    assert luminance_ssim(photo, photo) > 0.999
    assert luminance_ssim(photo, noisy(60)) < luminance_ssim(photo, noisy(10)) < 0.999
    assert luminance_ssim(photo, 255 - photo) < 0.3  # inverted structure


def test_palette_loss_agrees_with_the_numpy_measure_and_has_gradients():
    painting = synthetic_style(64, 64, seed=4)
    photo = synthetic_scene(32, 32, seed=5)
    directions = torch.nn.functional.normalize(torch.randn(64, 3, generator=torch.Generator().manual_seed(0)), dim=1)
    target_lab = rgb_to_lab(torch.from_numpy(painting).permute(2, 0, 1)[None].float() / 255)
    target = sorted_projections(target_lab.flatten(2)[0].T, directions, 32 * 32)
    x = (torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255).requires_grad_(True)
    loss = palette_loss(x, target[None], directions)
    loss.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # Same order of magnitude as the numpy sliced Wasserstein (different directions and sampling).
    reference = palette_distance(photo, painting)
    assert 0.5 * reference < float(loss) < 2.0 * reference
    painting_small = np.array(Image.fromarray(painting).resize((32, 32)))
    own = palette_loss(torch.from_numpy(painting_small).permute(2, 0, 1)[None].float() / 255, target[None], directions)
    assert float(own) < 0.3 * float(loss)
