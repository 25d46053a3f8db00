"""Architectures: any input size, value range, gradients, and no grid or border artefacts."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.errors import ModelError
from vidstyle.models import build_network, count_parameters, full_arch_params, stored_arch_params


@pytest.mark.parametrize("arch", ["fast", "quality"])
@pytest.mark.parametrize("size", [(191, 257), (64, 64), (7, 5)])
def test_output_keeps_input_size(arch, size):
    torch.manual_seed(0)
    net = build_network(arch).eval()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        y = net(x)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("arch", ["fast", "quality"])
def test_gradients_reach_every_parameter(arch):
    torch.manual_seed(0)
    net = build_network(arch)
    net(torch.rand(1, 3, 33, 47)).mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_fast_is_small_and_quality_is_johnson_sized():
    assert 20_000 < count_parameters(build_network("fast")) < 50_000
    # pytorch/examples TransformerNet has 1,679,235 parameters.
    assert count_parameters(build_network("quality")) == 1_679_235


def test_full_arch_params_fills_defaults_and_rejects_unknown():
    params = full_arch_params("fast", channels=32)
    assert params["channels"] == 32 and "blocks" in params and "head_blur" in params
    net = build_network("fast", **params)
    assert count_parameters(net) < count_parameters(build_network("fast"))
    with pytest.raises(ValueError, match="no parameter"):
        full_arch_params("fast", width=3)
    with pytest.raises(ValueError, match="unknown architecture"):
        build_network("vgg")


def test_fast_shuffle_decoder_starts_without_checkerboard():
    """ICNR initialisation: each 2×2 cell of the pixel-shuffled output is constant before training."""
    from vidstyle.models.networks import ShuffleUpsample

    torch.manual_seed(0)
    up = ShuffleUpsample(8, 3)
    y = up(torch.rand(1, 8, 10, 12))
    cells = y.unfold(2, 2, 2).unfold(3, 2, 2)  # (1, 3, 10, 12, 2, 2)
    assert torch.allclose(cells, cells[..., :1, :1].expand_as(cells), atol=1e-6)


def test_fast_residual_output_starts_near_the_identity():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 40, 52)
    with torch.no_grad():
        near = (build_network("fast")(x) - x).abs().mean()
        plain = (build_network("fast", residual_output=False)(x) - x).abs().mean()
    assert near < 0.05 < plain


def test_project_first_upsampling_equals_projecting_after_interpolation():
    """The 1×1 projection commutes with bilinear ×2, so ProjectUpsample's first two steps equal
    interpolating the wide tensor and projecting after (what the older decoder's order would do)."""
    import torch.nn.functional as F

    from vidstyle.models.networks import ProjectUpsample

    torch.manual_seed(0)
    up = ProjectUpsample(12, 4)
    x = torch.rand(1, 12, 9, 11)
    first = F.interpolate(up.project(x), scale_factor=2, mode="bilinear", align_corners=False)
    after = up.project(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))
    assert torch.allclose(first, after, atol=1e-5)


def test_model_files_from_before_project_first_load_with_the_old_decoder(tmp_path):
    from vidstyle.models import load_model, save_model

    torch.manual_seed(0)
    params = full_arch_params("fast", project_first=False)
    old = build_network("fast", **params).eval()
    del params["project_first"]  # files written before the option existed do not name it
    path = save_model(tmp_path / "old.safetensors", old, {"architecture": "fast", "arch_params": params})
    loaded = load_model(path).network
    x = torch.rand(1, 3, 32, 40)
    with torch.no_grad():
        assert torch.equal(loaded(x), old(x))
    assert count_parameters(loaded) > count_parameters(build_network("fast"))


def test_files_with_retired_options_load_only_at_the_value_left():
    """Files that record an option since removed (every shipped fast net says norm="instance") still load;
    another value is a clear ModelError, not a TypeError from the constructor."""
    old = {**full_arch_params("fast"), "norm": "instance", "last_upsample": "shuffle"}
    params = stored_arch_params("fast", old)
    assert "norm" not in params and "last_upsample" not in params
    build_network("fast", **params)
    assert stored_arch_params("quality", {"channels": 32, "residual_blocks": 5, "norm": "instance"}) == {
        "channels": 32, "residual_blocks": 5}
    with pytest.raises(ModelError, match="norm='batch'"):
        stored_arch_params("fast", {**old, "norm": "batch"})
    with pytest.raises(ModelError, match="last_upsample='bilinear'"):
        stored_arch_params("fast", {**old, "last_upsample": "bilinear"})
