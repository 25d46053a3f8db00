"""Tiled inference matches untiled inference, with no seams along tile borders."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.io.synthetic import synthetic_scene
from tests.runtime.conftest import seeded_network
from vidstyle.runtime import available_backends, create_stylizer
from vidstyle.runtime.tiling import TiledStylizer, feather_weights, tile_starts


def test_tile_starts_cover_with_overlap_on_the_stride_grid():
    for length in (1000, 1001, 2160):
        starts = tile_starts(length, 256, 64)
        assert starts[0] == 0 and starts[-1] + 256 >= length
        assert all(s % 8 == 0 for s in starts)
        assert all(b - a <= 256 - 64 for a, b in zip(starts, starts[1:]))
    assert tile_starts(100, 256, 64) == [0]


def test_feather_weights_drop_tile_borders_and_keep_frame_edges():
    first = feather_weights(1000, 0, 256, 64)
    assert first[0] == 1.0 and first[-1] == 0.0 and first.max() == 1.0
    last = feather_weights(1000, 744, 256, 64)
    assert last[-1] == 1.0 and last[0] == 0.0
    # Overlapping neighbours together always cover every pixel with positive weight.
    total = np.zeros(1000, np.float32)
    for s in tile_starts(1000, 256, 64):
        size = min(256, 1000 - s)
        total[s:s + size] += feather_weights(1000, s, size, 64)
    assert (total > 0).all()


ENGINES = ["torch"] + (["openvino"] if "openvino" in available_backends("cpu") else [])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("arch,params", [("fast", dict(channels=24, blocks=2)), ("quality", dict(channels=8, residual_blocks=2))])
def test_tiled_matches_untiled(arch, params, engine):
    network = seeded_network(arch, **params)
    image = synthetic_scene(203, 261, seed=7)  # odd: the last tiles are cut short
    whole = create_stylizer(network, backend="torch", device="cpu", tile=None).stylize(image).astype(int)
    tiled = TiledStylizer(network, torch.device("cpu"), tile=136, overlap=64, engine=engine, threads=2)
    assert engine in tiled.name
    tiled = tiled.stylize(image).astype(int)
    diff = np.abs(tiled - whole)
    assert diff.mean() < 1.0, diff.mean()
    assert np.percentile(diff, 99.9) <= 2
    # The overlap bands, where neighbouring tiles are blended, are as close as the rest.
    bands = [r for s in tile_starts(image.shape[0], 136, 64)[1:] for r in range(s, s + 64)]
    assert bands and diff[bands].mean() < 1.0


def test_large_frames_go_through_tiles(fast_net):
    image = synthetic_scene(130, 170, seed=8)
    stylizer = create_stylizer(fast_net, backend="torch", device="cpu", tile=96, tile_overlap=32, tile_above_pixels=100 * 100)
    whole = create_stylizer(fast_net, backend="torch", device="cpu", tile=None).stylize(image)
    out = stylizer.stylize(image)
    assert out.shape == image.shape
    assert np.abs(out.astype(int) - whole.astype(int)).mean() < 1.0


def test_tiling_threshold_follows_activation_memory():
    from vidstyle.models import build_network
    from vidstyle.runtime.tiling import activation_bytes_per_pixel, tile_threshold_pixels

    fast, quality = build_network("fast").eval(), build_network("quality").eval()
    # quality keeps 64 channels at full resolution after its last upsample; fast never goes wide there.
    assert activation_bytes_per_pixel(quality) > 3 * activation_bytes_per_pixel(fast)
    budget = 2 * 2**30
    assert 1920 * 1080 < tile_threshold_pixels(quality, budget) < 3840 * 2160
    assert tile_threshold_pixels(fast, budget) > 3840 * 2160
