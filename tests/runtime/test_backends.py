"""Every backend agrees with eager PyTorch float32 within 2/255, for both architectures and odd sizes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.io.synthetic import synthetic_scene
from vidstyle.runtime import available_backends, create_stylizer
from vidstyle.runtime.graph import Uint8Graph

BACKENDS = available_backends("cpu")


def reference(network: torch.nn.Module, image: np.ndarray) -> np.ndarray:
    """Eager float32 PyTorch, the way pytorch/examples runs it: float tensor in, clamp, round."""
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        y = network(x).clamp(0, 1)
    return (y[0].permute(1, 2, 0) * 255.0 + 0.5).to(torch.uint8).numpy()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("arch", ["fast", "quality"])
@pytest.mark.parametrize("size", [(96, 128), (67, 93)])
def test_backend_matches_torch_float32(backend, arch, size, fast_net, quality_net):
    network = fast_net if arch == "fast" else quality_net
    image = synthetic_scene(*size, seed=3)
    stylizer = create_stylizer(network, backend=backend, device="cpu", threads=2, precision="fp32")
    out = stylizer.stylize(image)
    assert out.shape == image.shape and out.dtype == np.uint8
    ref = reference(network, image)
    diff = np.abs(out.astype(int) - ref.astype(int))
    assert diff.max() <= 2, f"{backend} differs from torch float32 by {diff.max()}/255"
    # The network really ran: the output is not the input.
    assert np.abs(out.astype(int) - image.astype(int)).mean() > 5
    stylizer.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_equals_single_frames(backend, fast_net):
    frames = [synthetic_scene(64, 80, seed=s) for s in range(3)]
    stylizer = create_stylizer(fast_net, backend=backend, device="cpu", threads=2, precision="fp32")
    batch = stylizer.stylize_batch(frames)
    for frame, out in zip(frames, batch):
        assert np.abs(out.astype(int) - stylizer.stylize(frame).astype(int)).max() <= 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_strength_blends_with_original(backend, fast_net):
    image = synthetic_scene(64, 80, seed=5)
    full = create_stylizer(fast_net, backend=backend, device="cpu", precision="fp32").stylize(image).astype(int)
    none = create_stylizer(fast_net, backend=backend, device="cpu", strength=0.0, precision="fp32").stylize(image).astype(int)
    half = create_stylizer(fast_net, backend=backend, device="cpu", strength=0.5, precision="fp32").stylize(image).astype(int)
    assert np.abs(none - image).max() <= 1
    expected = (full + image.astype(int)) / 2
    assert np.abs(half - expected).max() <= 2


def test_uint8_graph_rounds_and_clamps():
    class Constant(torch.nn.Module):
        def forward(self, x):
            return torch.full_like(x, 1.7) * torch.linspace(-1, 1, x.shape[-1])

    frames = torch.zeros(1, 2, 9, 3, dtype=torch.uint8)
    out = Uint8Graph(Constant())(frames)
    assert out.dtype == torch.uint8 and out.shape == (1, 2, 9, 3)
    assert out[0, 0, 0, 0] == 0 and out[0, 0, -1, 0] == 255


def test_bf16_torch_is_close(fast_net):
    image = synthetic_scene(64, 80, seed=2)
    out = create_stylizer(fast_net, backend="torch", device="cpu", precision="bf16").stylize(image)
    diff = np.abs(out.astype(int) - reference(fast_net, image).astype(int))
    # bf16 keeps 8 significant bits: close on average, not bit-exact.
    assert diff.mean() < 2.0


def test_torch_stream_keeps_order_and_handles_size_changes(fast_net):
    from vidstyle.runtime.torch_backend import TorchStylizer

    stylizer = TorchStylizer(fast_net, torch.device("cpu"), batch_size=2)
    frames = [synthetic_scene(48, 64, seed=s) for s in range(3)] + [synthetic_scene(40, 56, seed=9)]
    streamed = list(stylizer.stylize_stream(iter(frames)))
    assert [s.shape for s in streamed] == [f.shape for f in frames]
    for frame, out in zip(frames, streamed):
        assert np.array_equal(out, stylizer.stylize(frame))
