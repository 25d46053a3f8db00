"""Exact inference rewrites: the rewritten network computes what the trained one does."""
from __future__ import annotations

import pytest
import torch

from vidstyle.runtime.rewrite import PhaseUpsampleConv, fold_upsampling
from tests.runtime.conftest import seeded_network


@pytest.mark.parametrize("shape", [(1, 3, 64, 96), (2, 3, 37, 50)])
def test_folded_upsampling_equals_upsample_then_conv(shape):
    net = seeded_network("quality", channels=8, residual_blocks=1)
    folded = fold_upsampling(net)
    assert sum(isinstance(m, PhaseUpsampleConv) for m in folded.modules()) == 2
    x = torch.rand(shape)
    with torch.no_grad():
        assert torch.allclose(net(x), folded(x), atol=1e-5)


def test_the_original_network_is_left_untouched():
    net = seeded_network("quality", channels=8, residual_blocks=1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    fold_upsampling(net)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
