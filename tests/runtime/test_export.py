"""ONNX and TorchScript exports load in their runtimes and match the network at new sizes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.runtime.export import export_onnx, export_torchscript

ort = pytest.importorskip("onnxruntime")


def test_onnx_export_has_dynamic_height_and_width(tmp_path, fast_net):
    path = export_onnx(fast_net, tmp_path / "fast.onnx", opset=17)
    assert path.exists() and not list(tmp_path.glob(".*partial*"))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for h, w in [(64, 96), (51, 77)]:  # neither is the traced size
        x = torch.rand(2, 3, h, w)
        with torch.no_grad():
            ref = fast_net(x).numpy()
        out = session.run(None, {"input": x.numpy()})[0]
        assert out.shape == (2, 3, h, w)
        assert np.abs(out - ref).max() < 1e-3


def test_onnx_uint8_export(tmp_path, fast_net):
    path = export_onnx(fast_net, tmp_path / "fast_u8.onnx", uint8_io=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    frame = np.random.default_rng(0).integers(0, 256, (1, 40, 56, 3), dtype=np.uint8)
    out = session.run(None, {"input": frame})[0]
    assert out.dtype == np.uint8 and out.shape == frame.shape


def test_torchscript_export_matches(tmp_path, quality_net):
    path = export_torchscript(quality_net, tmp_path / "quality.pt")
    loaded = torch.jit.load(str(path))
    x = torch.rand(1, 3, 45, 61)
    with torch.no_grad():
        assert torch.allclose(loaded(x), quality_net(x), atol=1e-5)


def test_export_to_missing_folder_is_output_error(tmp_path, fast_net):
    from vidstyle.errors import OutputError

    with pytest.raises(OutputError):
        export_onnx(fast_net, tmp_path / "no" / "such" / "dir.onnx")
