"""Multiply-adds per pixel: what live uses to tell which models keep up without loading them."""
from __future__ import annotations

import torch
from torch import nn

from vidstyle.models import build_network, full_arch_params, save_model
from vidstyle.runtime.cost import estimated_ms, model_multiply_adds, multiply_adds_per_pixel


def test_counts_the_convolutions_per_input_pixel():
    network = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8))
    # 3x3x3 per output pixel and channel at full size, then a depthwise 3x3 on a quarter of the pixels.
    assert multiply_adds_per_pixel(network) == 8 * 3 * 9 + 8 * 9 / 4


def test_model_files_are_costed_from_their_header(tmp_path):
    costs = {}
    for name, arch, params in [("fast", "fast", {}), ("narrow", "fast", {"channels": 16}), ("quality", "quality", {})]:
        full = full_arch_params(arch, **params)
        path = save_model(tmp_path / f"{name}.safetensors", build_network(arch, **full), {"architecture": arch, "arch_params": full})
        costs[name] = model_multiply_adds(path)
    assert costs["narrow"] < costs["fast"] < costs["quality"] / 20
    assert model_multiply_adds(tmp_path / "missing.safetensors") is None
    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    assert model_multiply_adds(tmp_path / "junk.safetensors") is None
    assert estimated_ms(20.0, costs["fast"], costs["narrow"]) < 20.0


def test_counting_leaves_the_network_alone():
    torch.manual_seed(0)
    network = build_network("fast").eval()
    before = [p.clone() for p in network.parameters()]
    multiply_adds_per_pixel(network)
    assert all(torch.equal(a, b) for a, b in zip(before, network.parameters()))
    assert not any(module._forward_hooks for module in network.modules())
