"""Real transform networks (vidstyle.models.build_network, fixed seed) for the runtime tests."""
from __future__ import annotations

import pytest
import torch

from vidstyle.models.networks import build_network


def seeded_network(arch: str, seed: int = 0, **params) -> torch.nn.Module:
    """An untrained network with deterministic weights; norm affine parameters are perturbed so
    every layer matters (fresh instance norms are the identity affine)."""
    torch.manual_seed(seed)
    net = build_network(arch, **params).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.InstanceNorm2d, torch.nn.BatchNorm2d)) and m.affine:
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return net


@pytest.fixture(scope="session")
def fast_net() -> torch.nn.Module:
    return seeded_network("fast", channels=24, blocks=2)


@pytest.fixture(scope="session")
def quality_net() -> torch.nn.Module:
    return seeded_network("quality", channels=8, residual_blocks=2)
