"""FlowStabilizer (``--temporal smooth``): still scenes hold still, moving things move without trails."""
import numpy as np
import pytest
import torch

from vidstyle.flow import FlowStabilizer
from vidstyle.flow.synthetic import moving_square_frames, noisy_static_frames, textured_image
from vidstyle.temporal.evaluate import WarpingErrorMeter
from vidstyle.utils.image import to_tensor, to_uint8


class RandomConvStylizer:
    """A fixed random convolutional network: like an untrained transform network, it is a strongly
    non-linear function of its input, so sensor noise in the input becomes visible flicker in the output."""

    def __init__(self, seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.weights = [torch.randn(16, 3, 3, 3, generator=gen) * 0.6, torch.randn(3, 16, 3, 3, generator=gen) * 0.25]

    @torch.inference_mode()
    def __call__(self, image: np.ndarray) -> np.ndarray:
        x = to_tensor(image)
        x = torch.tanh(4.0 * torch.nn.functional.conv2d(x - 0.5, self.weights[0], padding=1))
        x = torch.sigmoid(2.0 * torch.nn.functional.conv2d(x, self.weights[1], padding=1))
        return to_uint8(x)


def run(frames, stylizer, stabilizer=None):
    outputs = []
    for frame in frames:
        out = stylizer(frame)
        outputs.append(stabilizer(frame, out) if stabilizer is not None else out)
    return outputs


def warping_error(originals, stylized) -> float:
    meter = WarpingErrorMeter()
    for o, s in zip(originals, stylized):
        meter.update(o, s)
    return meter.mean


@pytest.mark.parametrize("interpolation", ["linear", "cubic"])
def test_smooth_holds_a_still_noisy_scene_still(interpolation):
    frames = noisy_static_frames(textured_image(120, 160, seed=11), count=12, noise_std=4.0)
    stylizer = RandomConvStylizer()
    none = run(frames, stylizer)
    smooth = run(frames, stylizer, FlowStabilizer(blend=0.8, interpolation=interpolation))
    e_none, e_smooth = warping_error(frames, none), warping_error(frames, smooth)
    assert e_none > 1e-4, "the stylizer must flicker on sensor noise for this test to mean anything"
    assert e_smooth <= 0.2 * e_none, f"E_warp smooth {e_smooth:.2e} vs none {e_none:.2e}"


def test_smooth_moves_a_moving_square_without_trails():
    background = textured_image(120, 160, seed=12)
    size, step = 32, (6, 2)
    frames, positions = moving_square_frames(background, (20, 30), step, size, count=10)
    stylizer = RandomConvStylizer(seed=1)
    none = run(frames, stylizer)
    smooth = run(frames, stylizer, FlowStabilizer(blend=0.8))
    last = len(frames) - 1
    x, y = positions[last]
    inner = (slice(y + 4, y + size - 4), slice(x + 4, x + size - 4))
    # Where the square is now, the output shows the stylized square (it moved with the input) ...
    diff_square = np.abs(smooth[last][inner].astype(int) - none[last][inner].astype(int)).mean()
    # ... and where it was a few frames ago, the stylized background: no ghost left behind.
    trail = np.zeros(background.shape[:2], bool)
    for px, py in positions[last - 4 : last]:
        trail[py : py + size, px : px + size] = True
    trail[y : y + size, x : x + size] = False
    diff_trail = np.abs(smooth[last][trail].astype(int) - none[last][trail].astype(int)).mean()
    square_vs_background = np.abs(none[last][inner].astype(int) - none[0][inner].astype(int)).mean()
    assert square_vs_background > 20, "square and background must look different after stylization"
    assert diff_square < 0.2 * square_vs_background, f"square lags behind the input: {diff_square:.1f}"
    assert diff_trail < 0.2 * square_vs_background, f"ghost trail behind the square: {diff_trail:.1f}"


def test_first_frame_passes_through_and_reset_forgets():
    frames = noisy_static_frames(textured_image(64, 80, seed=13), count=3)
    stylizer = RandomConvStylizer()
    stab = FlowStabilizer(blend=0.9)
    first = stylizer(frames[0])
    assert np.array_equal(stab(frames[0], first), first)
    second = stylizer(frames[1])
    assert not np.array_equal(stab(frames[1], second), second)
    stab.reset()
    assert np.array_equal(stab(frames[2], second), second)


def test_blend_zero_is_a_no_op_and_bad_blend_is_rejected():
    frames = noisy_static_frames(textured_image(64, 80, seed=14), count=3)
    stylizer = RandomConvStylizer()
    stab = FlowStabilizer(blend=0.0)
    for f in frames:
        s = stylizer(f)
        assert np.array_equal(stab(f, s), s)
    with pytest.raises(ValueError, match="blend"):
        FlowStabilizer(blend=1.0)
    with pytest.raises(ValueError, match="interpolation"):
        FlowStabilizer(interpolation="nearest-ish")


def test_a_scene_cut_restarts_from_the_fresh_frame():
    a = textured_image(96, 128, seed=15)
    b = textured_image(96, 128, seed=16)
    stylizer = RandomConvStylizer()
    stab = FlowStabilizer(blend=0.8)
    stab(a, stylizer(a))
    cut = stylizer(b)
    assert np.array_equal(stab(b, cut), cut)
