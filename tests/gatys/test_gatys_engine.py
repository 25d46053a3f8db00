"""The reusable Gatys core: targets computed once, L-BFGS/Adam lower the loss, extra loss and masks count."""
import pytest
import torch

from vidstyle.io.synthetic import synthetic_scene, synthetic_style
from vidstyle.errors import InputError
from vidstyle.gatys import GatysEngine, GatysOptions, total_loss
from vidstyle.runtime.precision import autocast_dtype
from vidstyle.losses import gram_matrix
from vidstyle.utils.image import to_tensor


@pytest.fixture(scope="module")
def pair():
    return to_tensor(synthetic_scene(48, 64)), to_tensor(synthetic_style(48, 64))


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_thirty_steps_lower_the_total_loss(pair, optimizer):
    content, style = pair
    engine = GatysEngine(GatysOptions(optimizer=optimizer, device="cpu"))
    targets = engine.targets(content, [style])
    before = total_loss(engine, content, targets)
    seen = []
    result = engine.optimize(content, targets, steps=30, callback=lambda step, image, terms: seen.append(terms.total))
    after = total_loss(engine, result, targets)
    assert len(seen) == 30
    assert after < 0.7 * before
    assert result.shape == content.shape
    assert 0.0 <= result.min() and result.max() <= 1.0


def test_extra_loss_pulls_the_image_towards_its_target(pair):
    content, style = pair
    engine = GatysEngine(GatysOptions(device="cpu", precision="float32"))
    targets = engine.targets(content, [style])
    grey = torch.full_like(content, 0.5)
    plain = engine.optimize(content, targets, steps=10)
    pulled = engine.optimize(content, targets, steps=10, extra_loss=lambda x: 1e3 * (x - grey).pow(2).mean())
    assert (pulled - grey).abs().mean() < 0.5 * (plain - grey).abs().mean()


def test_content_mask_zero_removes_the_content_term(pair):
    content, style = pair
    engine = GatysEngine(GatysOptions(device="cpu", precision="float32"))
    targets = engine.targets(content, [style])
    other = torch.rand_like(content)
    _, unmasked = engine.loss(other, targets)
    _, masked = engine.loss(other, targets, content_mask=torch.zeros(1, 1, 48, 64))
    assert unmasked.content > 0
    assert masked.content == 0
    assert masked.style == pytest.approx(unmasked.style)


def test_blended_grams_are_the_weighted_sum(pair):
    content, style = pair
    engine = GatysEngine(GatysOptions(device="cpu", precision="float32"))
    a = engine.style_grams([content])
    b = engine.style_grams([style])
    blend = engine.style_grams([content, style], [0.7, 0.3])
    for name in engine.style_layers:
        assert torch.allclose(blend[name], 0.7 * a[name] + 0.3 * b[name], rtol=1e-4, atol=1e-4)


def test_layer_normalisers_make_each_layer_count_alike(pair):
    content, style = pair
    engine = GatysEngine(GatysOptions(device="cpu", precision="float32"))
    targets = engine.targets(content, [style])
    feats = engine.features(torch.zeros_like(content))
    # An all-black image's Gram is far from every target; normalised, no layer dwarfs the others by 1000x.
    per_layer = []
    for name in engine.style_layers:
        diff = (gram_matrix(feats[name]) - targets.style_grams[name]).pow(2).mean()
        per_layer.append(float(diff) * targets.style_norm[name])
    assert max(per_layer) < 1000 * min(per_layer)
    raw = [float((gram_matrix(feats[n]) - targets.style_grams[n]).pow(2).mean()) for n in engine.style_layers]
    assert max(raw) > 1000 * min(raw)  # why the normalisers exist


def test_bfloat16_features_track_float32(pair):
    content, _ = pair
    fp32 = GatysEngine(GatysOptions(device="cpu", precision="float32"))
    bf16 = GatysEngine(GatysOptions(device="cpu", precision="bfloat16"))
    a, b = fp32.features(content), bf16.features(content)
    for name in fp32.layers:
        rel = (a[name] - b[name]).norm() / a[name].norm()
        assert rel < 0.05, name


def test_precision_names_are_the_shared_ones_and_old_spellings_map_onto_them():
    assert GatysOptions(precision="float32").precision == "fp32"
    assert GatysOptions(precision="bfloat16").precision == "bf16"
    assert GatysOptions(precision="bf16").precision == "bf16"
    assert GatysEngine(GatysOptions(device="cpu", precision="bfloat16")).autocast_dtype is torch.bfloat16
    assert autocast_dtype("auto", torch.device("mps"), cuda_auto="bf16") is None
    with pytest.raises(InputError, match="auto, fp32, bf16, fp16"):
        GatysOptions(precision="double")


@pytest.mark.parametrize(
    "changes",
    [{"size": 0}, {"style_layers": ("relu9_9",)}, {"content_layers": ("nope",)}, {"optimizer": "sgd"},
     {"scales": (512, 256)}, {"style_weight": -1.0}, {"style_layer_weights": (1.0,)}],
)
def test_invalid_options_raise_input_error(changes):
    with pytest.raises(InputError):
        GatysOptions(**changes)


def test_retarget_keeps_style_grams_and_renormalises_content(pair):
    content, style = pair
    engine = GatysEngine(GatysOptions(device="cpu", precision="float32"))
    targets = engine.targets(content, [style])
    frame = content.flip(-1)
    moved = engine.retarget(targets, frame)
    fresh = engine.targets(frame, [style])
    assert moved.style_grams is targets.style_grams
    for name in engine.content_layers:
        assert torch.allclose(moved.content[name], fresh.content[name])
        assert moved.content_norm[name] == pytest.approx(fresh.content_norm[name])
