"""Network surgery on fast nets: widening keeps the function, the decoder move keeps the weights, block drops,
the full-resolution head keeps the function and can learn, the head blur removes a period-2 pattern only; a
multistyle net's head can go, keeping everything before it."""
from __future__ import annotations

import pytest
import torch

from vidstyle.errors import InputError
from vidstyle.models import build_network, full_arch_params, load_model, stored_arch_params
from vidstyle.losses.look import periodic_peak_ratio
from vidstyle.train.surgery import (drop_blocks, drop_head, full_res_head, head_blur, output_change, project_first,
                                   resulting_params, widen)


def _net(**params):
    torch.manual_seed(3)
    params = full_arch_params("fast", **{"channels": 24, "blocks": 3, **params})
    net = build_network("fast", **params)
    with torch.no_grad():  # away from the near-identity start, so that every weight matters
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net.eval(), params


def test_widening_a_shipped_model_leaves_its_output_unchanged():
    model = load_model("starry_night-fast-painted")
    params = stored_arch_params("fast", model.metadata["arch_params"])
    wide, wide_params = widen(model.network, params, channels=64, seed=1)
    assert wide_params == {**params, "channels": 64} == resulting_params("widen", params, {"channels": 64})
    assert output_change(model.network, wide) < 1e-5
    assert sum(p.numel() for p in wide.parameters()) > sum(p.numel() for p in model.network.parameters())


def test_project_first_moves_the_projection_and_starts_the_new_filter_as_identity():
    net, params = _net(project_first=False)
    moved, new_params = project_first(net, params)
    assert new_params["project_first"] and not params["project_first"]
    old, new = net.state_dict(), moved.state_dict()
    assert torch.equal(new["decoder.0.project.weight"], old["decoder.0.conv.2.weight"])
    assert all(torch.equal(new[k], old[k]) for k in new if not k.startswith("decoder.0."))
    pointwise = new["decoder.0.conv.2.weight"][:, :, 0, 0]
    assert torch.equal(pointwise, torch.eye(pointwise.shape[0]))
    with pytest.raises(InputError, match="already has"):
        project_first(moved, new_params)


def test_drop_blocks_keeps_the_chosen_blocks_in_order():
    net, params = _net()
    short, new_params = drop_blocks(net, params, keep=[2, 0])
    assert new_params["blocks"] == 2 and len(short.residuals) == 2
    old, new = net.state_dict(), short.state_dict()
    assert torch.equal(new["residuals.0.conv1.2.weight"], old["residuals.2.conv1.2.weight"])
    assert torch.equal(new["residuals.1.conv1.2.weight"], old["residuals.0.conv1.2.weight"])
    assert 0 < output_change(net, short, reduce="mean") < 1


def test_full_res_head_keeps_the_output_and_every_new_weight_gets_a_gradient():
    net, params = _net(residual_output=False)
    with torch.no_grad():  # a trained no-skip net draws colours near [0, 1], as the head's offset assumes
        shuffle = net.decoder[3].conv[1]
        shuffle.weight.mul_(0.2)
        shuffle.bias.fill_(0.5)
    headed, new_params = full_res_head(net, params, channels=6)
    assert new_params == {**params, "head_channels": 6, "deblock": False}
    assert new_params == resulting_params("full_res_head", params, {"channels": 6})
    assert not any(isinstance(m, type(net.decoder[-1])) for m in headed.decoder)  # the fixed blur is gone
    assert output_change(net, headed) < 1e-5
    x = torch.rand(2, 3, 37, 50)  # odd sizes pass through the padding as before
    headed.train().requires_grad_(True)(x).square().mean().backward()
    head = headed.decoder[-1][1]
    assert head.weight.grad[:, 3:].abs().sum() > 0  # the new channels start unread but learn to be read
    with pytest.raises(InputError, match="deblocking blur"):
        full_res_head(headed, new_params)


def test_head_blur_removes_learned_period_2_stripes_and_keeps_every_weight():
    net, params = _net(residual_output=False, deblock=False, head_channels=6)
    with torch.no_grad():  # a shuffle that draws period-2 stripes: its 4 sub-pixels differ by row
        shuffle = net.decoder[3].conv[1]
        shuffle.weight.zero_()
        shuffle.bias.copy_(torch.tensor([1.0, 1.0, 0.0, 0.0]).repeat(6))
    x = torch.rand(1, 3, 96, 128)
    grid_before = periodic_peak_ratio(net(x)[0].permute(1, 2, 0).detach().numpy() * 255, 2)
    blurred, new_params = head_blur(net, params)
    assert new_params == {**params, "head_blur": True} == resulting_params("head_blur", params, {})
    old, new = net.state_dict(), blurred.state_dict()
    assert torch.equal(new[f"decoder.{len(blurred.decoder) - 1}.1.weight"], old[f"decoder.{len(net.decoder) - 1}.1.weight"])
    grid_after = periodic_peak_ratio(blurred(x)[0].permute(1, 2, 0).detach().numpy() * 255, 2)
    assert grid_before > 8.0 > 1.0 > grid_after
    with pytest.raises(InputError, match="no head blur"):
        head_blur(blurred, new_params)


def test_drop_head_keeps_every_style_row_and_the_body_of_a_multistyle_net():
    torch.manual_seed(3)
    params = full_arch_params("multistyle", styles=["a", "b", "c"], channels=16, blocks=2, mid=8, head=6)
    net = build_network("multistyle", **params)
    lite, new_params = drop_head(net, params)
    assert new_params == {**params, "head": 0, "head_blur": True} == resulting_params("drop_head", params, {})
    assert lite.styles == net.styles and lite.head == 0
    old, new = net.state_dict(), lite.state_dict()
    kept = [k for k in new if not k.startswith("decoder.3.")]
    assert kept and all(torch.equal(new[k], old[k]) for k in kept)  # every row of every style included
    assert any(k.startswith("decoder.1.") for k in kept) and any(k.startswith("residuals.") for k in kept)
    y = lite(torch.rand(1, 3, 37, 50))
    assert y.shape == (1, 3, 37, 50) and torch.isfinite(y).all()
    with pytest.raises(InputError, match="head > 0"):
        drop_head(lite, new_params)


@pytest.mark.parametrize("call, message", [
    (lambda net, p: widen(net, p, channels=16), "more than the network's 24"),
    (lambda net, p: drop_blocks(net, p, keep=[0, 0]), "distinct blocks among 0..2"),
    (lambda net, p: drop_blocks(net, p, keep=[3]), "distinct blocks among 0..2"),
    (lambda net, p: widen(net, {"channels": 32, "residual_blocks": 5}, channels=64), "fast networks"),
    (lambda net, p: full_res_head(net, p, channels=3), "at least 4"),
    (lambda net, p: head_blur(net, p), "full-resolution head"),
])
def test_impossible_surgery_is_an_input_error(call, message):
    net, params = _net()
    with pytest.raises(InputError, match=message):
        call(net, params)
