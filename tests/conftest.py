"""Shared fixtures: small synthetic media made on the fly (the suite needs no external media folder)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.io.synthetic import synthetic_scene, synthetic_style

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def scene() -> np.ndarray:
    return synthetic_scene()


@pytest.fixture
def style_texture() -> np.ndarray:
    return synthetic_style()
