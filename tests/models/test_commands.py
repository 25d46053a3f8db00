"""`vidstyle stylize`, `models` and `export` on a small seeded (untrained) model saved in a temporary folder."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vidstyle.io.synthetic import synthetic_scene
from vidstyle.cli.main import main
from vidstyle.models import build_network, full_arch_params, load_model, save_model


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    folder = tmp_path / "zoo"
    folder.mkdir()
    torch.manual_seed(0)
    params = full_arch_params("fast", channels=16, blocks=1, residual_output=False)
    save_model(folder / "toy-fast.safetensors", build_network("fast", **params),
               {"architecture": "fast", "arch_params": params, "style_name": "toy", "steps": 0,
                "losses": {"style": 2.0}})
    monkeypatch.setenv("VIDSTYLE_MODELS", str(folder))
    return folder


def _write(path, seed=0, size=(61, 83)):
    Image.fromarray(synthetic_scene(*size, seed=seed)).save(path)
    return np.asarray(Image.open(path).convert("RGB"))


def test_stylize_one_image(tmp_path, model_dir, capsys):
    src = tmp_path / "in.png"
    original = _write(src)
    out = tmp_path / "out.png"
    assert main(["stylize", str(src), str(out), "--model", "toy-fast", "--backend", "torch"]) == 0
    styled = np.asarray(Image.open(out))
    assert styled.shape == original.shape
    assert np.abs(styled.astype(int) - original).mean() > 5


def test_strength_zero_returns_the_original_and_preserve_color_keeps_chroma(tmp_path, model_dir):
    src = tmp_path / "in.png"
    original = _write(src)
    out = tmp_path / "zero.png"
    main(["stylize", str(src), str(out), "--model", "toy-fast", "--backend", "torch", "--strength", "0"])
    assert np.array_equal(np.asarray(Image.open(out)), original)
    full, kept = tmp_path / "full.png", tmp_path / "kept.png"
    main(["stylize", str(src), str(full), "--model", "toy-fast", "--backend", "torch"])
    main(["stylize", str(src), str(kept), "--model", "toy-fast", "--backend", "torch", "--preserve-color"])

    def chroma(a):
        a = a.astype(np.float32) / 255
        return a - a.mean(axis=2, keepdims=True)

    orig_c = chroma(original)
    assert np.abs(chroma(np.asarray(Image.open(kept))) - orig_c).mean() < 0.5 * np.abs(
        chroma(np.asarray(Image.open(full))) - orig_c).mean()


def test_stylize_folder_mirrors_layout_and_skips_unreadable(tmp_path, model_dir, capsys):
    src = tmp_path / "photos"
    (src / "sub").mkdir(parents=True)
    _write(src / "a.png", 0)
    _write(src / "sub" / "b.jpg", 1, size=(40, 50))
    _write(src / "c.png", 2)
    (src / "broken.png").write_bytes(b"nope")
    dst = tmp_path / "styled"
    assert main(["stylize", str(src), str(dst), "--model", "toy-fast", "--backend", "torch", "--batch", "2",
                 "--long-side", "64"]) == 0
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*.*")) == ["a.png", "c.png", "sub/b.jpg"]
    assert max(Image.open(dst / "sub" / "b.jpg").size) == 64
    assert "skipping" in capsys.readouterr().err


def test_bad_inputs_give_one_error_line(tmp_path, model_dir, capsys):
    src = tmp_path / "in.png"
    _write(src)
    assert main(["stylize", str(src), str(tmp_path / "o.png"), "--model", "nope", "--backend", "torch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vidstyle: error: no model named 'nope'")
    assert main(["stylize", str(tmp_path / "absent.png"), str(tmp_path / "o.png"), "--model", "toy-fast"]) == 2
    assert "input not found" in capsys.readouterr().err
    assert main(["stylize", str(src), str(tmp_path / "o.txt"), "--model", "toy-fast"]) == 2
    assert "image extension" in capsys.readouterr().err


def test_models_list_and_info(model_dir, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "toy-fast" in out and "fast" in out
    assert main(["models", "info", "toy-fast"]) == 0
    info = capsys.readouterr().out
    assert "architecture" in info and "channels" in info and "toy" in info
    assert main(["models", "info", "missing"]) == 2


def test_export_onnx_matches_pytorch_within_2_of_255(tmp_path, model_dir):
    import onnxruntime as ort

    out = tmp_path / "toy.onnx"
    assert main(["export", "toy-fast", "--format", "onnx", str(out)]) == 0
    net = load_model("toy-fast").network
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    for h, w in [(61, 83), (120, 160)]:  # dynamic height/width, odd sizes too
        x = torch.rand(1, 3, h, w)
        with torch.no_grad():
            expected = net(x).clamp(0, 1).numpy()
        got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0].clip(0, 1)
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() * 255 <= 2


def test_export_torchscript_runs_without_vidstyle_classes(tmp_path, model_dir):
    out = tmp_path / "toy.pt"
    assert main(["export", "toy-fast", str(out)]) == 0
    scripted = torch.jit.load(str(out))
    x = torch.rand(1, 3, 37, 41)
    with torch.no_grad():
        assert torch.allclose(scripted(x), load_model("toy-fast").network(x), atol=1e-5)
