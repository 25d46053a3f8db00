"""Exact inference rewrites: the rewritten network computes what the trained one does."""
from __future__ import annotations

import pytest
import torch

from vidstyle.runtime.rewrite import PhaseUpsampleConv, SpaceToDepthConv, fold_upsampling, pack_rgb_convolutions
from tests.runtime.conftest import seeded_network


@pytest.mark.parametrize("shape", [(1, 3, 64, 96), (2, 3, 37, 50)])
def test_folded_upsampling_equals_upsample_then_conv(shape):
    net = seeded_network("quality", channels=8, residual_blocks=1)
    folded = fold_upsampling(net)
    assert sum(isinstance(m, PhaseUpsampleConv) for m in folded.modules()) == 2
    x = torch.rand(shape)
    with torch.no_grad():
        assert torch.allclose(net(x), folded(x), atol=1e-5)


@pytest.mark.parametrize("factor", [2, 4])
@pytest.mark.parametrize("shape", [(1, 3, 64, 96), (1, 3, 37, 50)])
def test_packed_rgb_convolutions_are_exact(factor, shape):
    net = seeded_network("quality", channels=8, residual_blocks=1)
    packed = pack_rgb_convolutions(fold_upsampling(net), factor=factor)
    assert sum(isinstance(m, SpaceToDepthConv) for m in packed.modules()) == 2  # the 9×9 RGB in and RGB out
    x = torch.rand(shape)
    with torch.no_grad():
        assert torch.allclose(net(x), packed(x), atol=1e-5)


def test_the_original_network_is_left_untouched():
    net = seeded_network("quality", channels=8, residual_blocks=1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    fold_upsampling(net)
    pack_rgb_convolutions(net)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
