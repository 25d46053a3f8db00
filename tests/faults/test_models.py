"""Malicious and malformed model files: refused in one line before anything is built or unpickled."""
from __future__ import annotations

import json
import pickle
import struct
import time
from pathlib import Path

import pytest
import torch

from tests.faults.corpus import Snapshot, assert_refused, run_cli
from vidstyle.models import build_network, full_arch_params, save_model


def rewrite_metadata(src: Path, dst: Path, change) -> Path:
    """A copy of the model ``src`` whose vidstyle metadata (in the header) went through ``change``; the
    tensors are untouched. No sibling .json, so the header is what is read."""
    data = src.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    meta = json.loads(header["__metadata__"]["vidstyle"])
    change(meta)
    header["__metadata__"]["vidstyle"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    dst.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + length:])
    return dst


def arch_param(key, value):
    return lambda meta: meta["arch_params"].__setitem__(key, value)


@pytest.mark.parametrize("change,message", [
    (arch_param("blocks", 100000), "cannot describe"),
    (arch_param("channels", 100000), "cannot describe"),
    (arch_param("channels", -1), "cannot describe"),
    (arch_param("blocks", 3), "do not match"),
    (arch_param("channels", 12), "has shape"),
    (arch_param("channels", "abc"), "cannot build"),
    (arch_param("colour", 1), "cannot build"),
    (lambda meta: meta.__setitem__("architecture", ["fast"]), "must be a name"),
    (lambda meta: meta.__setitem__("architecture", "transformer"), "unknown architecture"),
    (lambda meta: meta.__setitem__("arch_params", [1, 2]), "must be a JSON object"),
    (lambda meta: meta.pop("arch_params"), "lacks"),
])
def test_malformed_headers_are_refused_before_building(tmp_path, capsys, tiny_model, photo, change, message):
    bad = rewrite_metadata(tiny_model, tmp_path / "bad.safetensors", change)
    kept = Snapshot(bad, photo)
    started = time.perf_counter()
    assert_refused(run_cli(capsys, "stylize", photo, tmp_path / "o.png", "--model", bad), message)
    assert time.perf_counter() - started < 10  # nothing of 100000 blocks was built
    kept.assert_unchanged()
    assert not (tmp_path / "o.png").exists()


def test_nan_weights_are_refused(tmp_path, capsys, photo):
    params = full_arch_params("fast", channels=16, blocks=1)
    network = build_network("fast", **params)
    with torch.no_grad():
        next(network.parameters()).fill_(float("nan"))
    model = save_model(tmp_path / "nan.safetensors", network, {"architecture": "fast", "arch_params": params})
    assert_refused(run_cli(capsys, "stylize", photo, tmp_path / "o.png", "--model", model), "NaN or infinite")
    assert not (tmp_path / "o.png").exists()


class Exploit:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/vidstyle-fault-corpus-pwned"),))


@pytest.mark.parametrize("kind", ["pickle", "truncated", "empty", "text", "huge-header-length"])
def test_malicious_and_broken_files_are_refused(tmp_path, capsys, tiny_model, photo, kind):
    bad = tmp_path / "m.safetensors"
    if kind == "pickle":
        bad.write_bytes(pickle.dumps(Exploit()))
    elif kind == "truncated":
        bad.write_bytes(tiny_model.read_bytes()[:2000])
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "text":
        bad.write_text("not a model\n")
    else:
        bad.write_bytes(struct.pack("<Q", 1 << 60) + b"{}")
    for command in (("stylize", photo, tmp_path / "o.png", "--model", bad), ("models", "info", bad),
                    ("export", bad, tmp_path / "o.onnx")):
        result = run_cli(capsys, *command)
        assert result.code == 2 and len(result.lines) == 1 and "vidstyle: error:" in result.lines[0], result.err
    assert not Path("/tmp/vidstyle-fault-corpus-pwned").exists()
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "o.onnx").exists()


def test_a_refused_vgg19_pickle_is_one_line(tmp_path, capsys, photo, painting, monkeypatch):
    evil = tmp_path / "vgg.pth"
    evil.write_bytes(pickle.dumps(Exploit(), protocol=4))
    monkeypatch.setenv("VIDSTYLE_VGG19", str(evil))
    result = run_cli(capsys, "image", photo, painting, tmp_path / "o.png", "--size", "32", "--steps", "1", "--quiet")
    assert_refused(result, "refusing")
    assert not Path("/tmp/vidstyle-fault-corpus-pwned").exists()
