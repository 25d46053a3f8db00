"""The registry resolves names: a model's temporally trained variant, and loading by name or path."""
from __future__ import annotations

import pytest
import torch

from vidstyle.errors import ModelError
from vidstyle.models import build_network, full_arch_params, load_model, load_model_file, save_model, temporal_model


@pytest.fixture
def toy_models(tmp_path, monkeypatch):
    torch.manual_seed(0)
    meta = {"architecture": "fast", "arch_params": full_arch_params("fast")}
    save_model(tmp_path / "toy-fast.safetensors", build_network("fast"), meta)
    save_model(tmp_path / "toy-fast-temporal.safetensors", build_network("fast"), {**meta, "temporal": True})
    save_model(tmp_path / "lonely-fast.safetensors", build_network("fast"), meta)
    monkeypatch.setenv("VIDSTYLE_MODELS", str(tmp_path))
    return tmp_path


def test_temporal_model_picks_the_temporal_variant(toy_models):
    assert temporal_model("toy-fast") == "toy-fast-temporal"
    assert temporal_model("toy-fast-temporal") == "toy-fast-temporal"
    assert temporal_model(str(toy_models / "toy-fast-temporal.safetensors")).endswith("toy-fast-temporal.safetensors")
    loaded = load_model("toy-fast-temporal")
    assert temporal_model(loaded) is loaded
    with pytest.raises(ModelError, match="temporal"):
        temporal_model("lonely-fast")
    with pytest.raises(ModelError, match="temporal"):
        temporal_model(load_model("lonely-fast"))


def test_names_go_through_the_registry_files_through_load_model_file(toy_models):
    by_name = load_model("toy-fast")
    by_path = load_model_file(toy_models / "toy-fast.safetensors")
    assert by_name.path == by_path.path and by_name.name == "toy-fast"
    with pytest.raises(ModelError, match="not found"):
        load_model_file("toy-fast")  # a name is not a file
