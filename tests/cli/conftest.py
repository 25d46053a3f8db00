"""Fixtures shared by the CLI tests."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vidstyle.models import build_network, full_arch_params, save_model


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    """A real fast transform network (untrained weights) saved the way trained ones are."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("models") / "untrained-fast.safetensors"
    save_model(path, build_network("fast"), {"architecture": "fast", "arch_params": full_arch_params("fast")})
    return path
