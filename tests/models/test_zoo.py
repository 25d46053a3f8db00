"""Every model shipped in the repository's models/ folder loads and really stylizes."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vidstyle.io.synthetic import synthetic_scene
from vidstyle.models import list_models, load_model
from vidstyle.models.registry import package_models_dir

SHIPPED = [m for m in list_models() if m.path.parent == package_models_dir()]
REQUIRED = ("architecture", "arch_params", "style_name", "style_image_sha256", "training", "steps", "losses",
            "temporal", "vidstyle_version")


def test_the_zoo_has_four_fast_and_two_quality_styles():
    archs = [(m.metadata or {}).get("architecture") for m in SHIPPED if not (m.metadata or {}).get("temporal")]
    assert archs.count("fast") >= 4 and archs.count("quality") >= 2, [m.name for m in SHIPPED]


@pytest.mark.parametrize("info", SHIPPED, ids=[m.name for m in SHIPPED])
def test_shipped_model_loads_and_changes_the_image(info):
    assert info.error is None, info.error
    model = load_model(info.name)
    for key in REQUIRED:
        assert key in model.metadata, key
    assert json.loads(info.path.with_suffix(".json").read_text()) == model.metadata
    styles = model.metadata["arch_params"].get("styles")
    if not styles:  # one painting: the name says which, and which network
        assert model.name.startswith(model.metadata["style_name"]) and model.metadata["architecture"] in model.name
    image = synthetic_scene(75, 99, seed=4)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    outputs = []
    for row in range(len(styles or [None])):
        if styles:  # a multistyle network: every painting it holds
            mix = torch.zeros(len(styles))
            mix[row] = 1.0
            model.network.set_mix(mix)
        with torch.no_grad():
            y = model.network(x).clamp(0, 1)
        assert y.shape == x.shape
        out = (y[0].permute(1, 2, 0).numpy() * 255).round()
        assert np.abs(out - image).mean() > 10, "the model barely changes the image"
        assert out.std() > 10, "the model returns a flat image"
        outputs.append(out)
    assert all(np.abs(a - b).mean() > 5 for i, a in enumerate(outputs) for b in outputs[i + 1:]), "two styles look alike"
