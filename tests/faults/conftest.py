"""Fixtures of the fault corpus (see corpus.py): a tiny real model, a photo, a painting, a clip."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from tests.faults.corpus import write_image
from vidstyle.io.synthetic import synthetic_style, write_test_clip
from vidstyle.models import build_network, full_arch_params, save_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A small real fast network (untrained weights) saved as trained models are."""
    torch.manual_seed(0)
    params = full_arch_params("fast", channels=16, blocks=1)
    path = tmp_path_factory.mktemp("models") / "tiny-fast.safetensors"
    save_model(path, build_network("fast", **params), {"architecture": "fast", "arch_params": params,
                                                        "style_name": "tiny"})
    return path


@pytest.fixture
def photo(tmp_path) -> Path:
    return write_image(tmp_path / "photo.png")


@pytest.fixture
def painting(tmp_path) -> Path:
    path = tmp_path / "painting.png"
    Image.fromarray(synthetic_style(64, 64)).save(path)
    return path


@pytest.fixture
def clip(tmp_path) -> Path:
    return write_test_clip(tmp_path / "clip.mp4", width=64, height=48, frames=12, audio=True).path
