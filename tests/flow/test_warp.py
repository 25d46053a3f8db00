import numpy as np
import pytest
import torch

from vidstyle.flow import flow_to_tensor, inside_mask, warp_image, warp_tensor
from vidstyle.flow.synthetic import textured_image


def smooth_field(h: int, w: int) -> np.ndarray:
    """A smooth non-uniform flow: rotation about the centre, zoom and a shift (up to ~6 px)."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w / 2, h / 2
    a = np.deg2rad(3.0)
    zoom = 1.03
    u = zoom * (np.cos(a) * (xs - cx) - np.sin(a) * (ys - cy)) + cx - xs + 1.5
    v = zoom * (np.sin(a) * (xs - cx) + np.cos(a) * (ys - cy)) + cy - ys - 0.7
    return np.stack([u, v], -1).astype(np.float32)


def analytic_image(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """A smooth function of continuous coordinates, so any sample point has an exact value."""
    r = 0.5 + 0.4 * np.sin(xs / 7.0) * np.cos(ys / 9.0)
    g = 0.5 + 0.4 * np.sin((xs + ys) / 11.0)
    b = 0.5 + 0.4 * np.cos(xs / 13.0 - ys / 6.0)
    return np.stack([r, g, b], -1).astype(np.float32)


def test_warping_by_the_true_flow_reproduces_the_target_away_from_borders():
    h, w = 96, 128
    flow = smooth_field(h, w)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    frame2 = analytic_image(xs, ys)
    # frame1(x) = frame2(x + flow(x)) exactly, by construction.
    frame1 = analytic_image(xs + flow[..., 0], ys + flow[..., 1])
    warped = warp_image(frame2, flow)
    inside = inside_mask(flow, margin=1)
    inside[:8], inside[-8:], inside[:, :8], inside[:, -8:] = False, False, False, False
    assert inside.mean() > 0.6
    err = np.abs(warped - frame1)[inside]
    assert err.max() < 0.01  # bilinear interpolation error of a smooth image only
    # Without warping the frames clearly differ: the test measures the warp, not a static scene.
    assert np.abs(frame2 - frame1)[inside].mean() > 0.05


def test_integer_shift_warp_is_exact_for_uint8():
    frame2 = textured_image(64, 80, seed=5)
    frame1 = np.roll(frame2, shift=(-3, 5), axis=(0, 1))  # frame1(y, x) = frame2(y + 3, x - 5)
    flow = np.zeros((64, 80, 2), np.float32)
    flow[..., 0], flow[..., 1] = -5.0, 3.0
    warped = warp_image(frame2, flow)
    assert warped.dtype == np.uint8 and warped.shape == frame2.shape
    assert np.array_equal(warped[8:-8, 8:-8], frame1[8:-8, 8:-8])


def test_torch_warp_matches_the_numpy_warp_and_is_differentiable():
    h, w = 48, 64
    flow = smooth_field(h, w)
    image = textured_image(h, w, seed=6).astype(np.float32) / 255.0
    expected = warp_image(image, flow)
    tensor = torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).requires_grad_(True)
    warped = warp_tensor(tensor, flow_to_tensor(flow))
    assert warped.shape == (1, 3, h, w)
    got = warped[0].permute(1, 2, 0).detach().numpy()
    inside = inside_mask(flow, margin=1)
    assert np.abs(got - expected)[inside].max() < 1e-4
    warped.sum().backward()
    assert tensor.grad is not None and tensor.grad.abs().sum() > 0


def test_torch_warp_broadcasts_one_flow_over_a_batch():
    flow = torch.zeros(1, 2, 10, 12)
    flow[:, 0] = 2.0
    images = torch.rand(3, 3, 10, 12)
    out = warp_tensor(images, flow)
    assert torch.allclose(out[..., :, :-2], images[..., :, 2:], atol=1e-5)


def test_mismatched_sizes_raise():
    with pytest.raises(ValueError):
        warp_image(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 12, 2), np.float32))
    with pytest.raises(ValueError):
        warp_tensor(torch.zeros(1, 3, 10, 10), torch.zeros(1, 2, 10, 12))
