import torch

from vidstyle.losses import content_loss, gram_matrix, style_loss, temporal_loss, tv_loss


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
