import torch

from vidstyle.losses import content_loss, gram_matrix, grid_loss, style_loss, temporal_loss, tv_loss


def _feats(seed=0, shape=(2, 8, 10, 12)):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def test_content_loss_zero_for_identical_positive_otherwise():
    a, b = _feats(0), _feats(1)
    assert content_loss(a, a).item() == 0
    assert content_loss(a, b).item() > 0


def test_content_loss_mask_ignores_masked_out_pixels():
    a = _feats(0)
    b = a.clone()
    b[..., :, 6:] += 5.0
    mask = torch.zeros(1, 1, 10, 12)
    mask[..., :, :6] = 1
    assert content_loss(a, b, mask).item() == 0
    assert content_loss(a, b).item() > 0


def test_gram_matrix_normalisation():
    f = torch.ones(1, 4, 3, 5)
    g = gram_matrix(f)
    assert g.shape == (1, 4, 4)
    assert torch.allclose(g, torch.full((1, 4, 4), 15 / (4 * 15)))


def test_gram_matrix_full_mask_equals_unmasked():
    f = _feats(0)
    assert torch.allclose(gram_matrix(f, torch.ones(1, 1, 10, 12)), gram_matrix(f), atol=1e-6)


def test_style_loss_zero_for_identical_positive_otherwise():
    fa = {"a": _feats(0), "b": _feats(2, (2, 16, 5, 6))}
    fb = {"a": _feats(1), "b": _feats(3, (2, 16, 5, 6))}
    targets = {k: gram_matrix(v) for k, v in fa.items()}
    assert style_loss(fa, targets).item() == 0
    assert style_loss(fb, targets).item() > 0
    weighted = style_loss(fb, targets, {"a": 2.0, "b": 0.0})
    only_a = style_loss({"a": fb["a"]}, {"a": targets["a"]})
    assert torch.allclose(weighted, 2 * only_a)


def test_tv_loss_zero_for_flat_image_positive_for_noise():
    flat = torch.full((1, 3, 16, 16), 0.5)
    assert tv_loss(flat).item() == 0
    assert tv_loss(torch.rand(1, 3, 16, 16)).item() > 0
    assert tv_loss(torch.rand(1, 3, 16, 16), torch.zeros(1, 1, 16, 16)).item() == 0


def test_temporal_loss_respects_occlusion_mask():
    x = torch.rand(1, 3, 8, 8)
    w = x.clone()
    w[..., :4] = 0
    mask = torch.ones(1, 1, 8, 8)
    assert temporal_loss(x, x).item() == 0
    assert temporal_loss(x, w).item() > 0
    mask[..., :4] = 0
    assert temporal_loss(x, w, mask).item() == 0


def test_grid_loss_sees_a_stride_locked_grid_but_not_texture():
    g = torch.Generator().manual_seed(0)
    texture = (0.5 + 0.1 * torch.randn(2, 3, 128, 160, generator=g)).clamp(0, 1)  # strong detail, not grid-locked
    yy, xx = torch.meshgrid(torch.arange(128.0), torch.arange(160.0), indexing="ij")
    smooth = (0.3 + 0.4 * xx / 160 + 0.2 * yy / 128).expand(2, 3, 128, 160)
    columns = 0.02 * ((xx % 4) == 0).float()  # faint period-4 vertical lines, as the trained nets drew
    checker = 0.02 * (((xx + yy) % 2) * 2 - 1)  # period-2 checkerboard
    assert grid_loss(smooth).item() < 1e-7  # only the replicate-padded edges of a ramp leave any detail
    assert grid_loss(texture).item() < 2e-5  # random detail averages out over the phases
    for pattern in (columns, checker):
        assert grid_loss((smooth + pattern).clamp(0, 1)).item() > 2e-5
        assert grid_loss((texture + pattern).clamp(0, 1)).item() > 5 * grid_loss(texture).item()
    # differentiable: a step against its gradient shrinks the grid
    x = (smooth + columns).clone().requires_grad_(True)
    loss = grid_loss(x)
    loss.backward()
    assert grid_loss(x.detach() - 1e3 * x.grad).item() < loss.item()
