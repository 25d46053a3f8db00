"""What n/p step through: models that keep up, multi-style models' styles, loads that fail."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from vidstyle.errors import ModelError
from vidstyle.models import build_network, full_arch_params, save_model
from vidstyle.pipeline.live.model_cycle import ModelCycle, default_loader, registry_companions
from vidstyle.runtime.base import FunctionStylizer, Stylizer

COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}


class TintStylizer(Stylizer):
    """A multi-style stylizer in miniature, with the interface of the real one: ``styles`` and
    ``set_style(mix)``; each style paints the frame its colour, a mix blends the colours."""

    name = "tint"
    styles = list(COLOURS)

    def __init__(self) -> None:
        self.mix = {"red": 1.0}

    def set_style(self, mix: dict[str, float]) -> None:
        self.mix = dict(mix)

    def stylize(self, image: np.ndarray) -> np.ndarray:
        colour = sum(weight * np.array(COLOURS[name], float) for name, weight in self.mix.items())
        return np.broadcast_to(colour.astype(np.uint8), image.shape).copy()


def tint() -> Stylizer:
    return TintStylizer()


@pytest.fixture
def toy_registry(tmp_path, monkeypatch):
    """Three models on the registry: a fast net, a narrower fast net and a quality net (untrained)."""
    torch.manual_seed(0)
    for name, arch, params in [("toy-fast", "fast", {}), ("toy-lite", "fast", {"channels": 16}),
                               ("toy-quality", "quality", {})]:
        full = full_arch_params(arch, **params)
        save_model(tmp_path / f"{name}.safetensors", build_network(arch, **full), {"architecture": arch, "arch_params": full})
    monkeypatch.setenv("VIDSTYLE_MODELS", str(tmp_path))
    return tmp_path


def test_one_named_model_cycles_only_registry_models_that_keep_up(toy_registry):
    companions = registry_companions("toy-fast")
    assert {"toy-lite", "toy-quality"} <= set(companions) and "toy-fast" not in companions
    cycle = ModelCycle(["toy-fast"], default_loader(backend="torch", runtime_options={"tile": None}), extra=companions)
    cycle.load_now((64, 48), keep_up_ms=1000 / 30)
    assert cycle.reference_ms is not None and cycle.reference_ms > 0
    # The quality net runs ~60x the fast net's multiply-adds per pixel: it cannot keep a 30 fps camera's pace
    # when the fast net takes what it takes here; the narrower fast net costs less than the named one.
    assert "toy-quality" in cycle.left_out
    labels = [e.label for e in cycle.entries]
    assert labels[0] == "toy-fast" and "toy-lite" in labels and "toy-quality" not in labels
    cycle.close()


def test_models_listed_by_the_user_are_never_left_out(toy_registry):
    cycle = ModelCycle(["toy-fast", "toy-quality"], default_loader(backend="torch"))
    cycle.load_now((64, 48), keep_up_ms=1000 / 30)
    assert cycle.left_out == [] and [e.label for e in cycle.entries] == ["toy-fast", "toy-quality"]
    cycle.close()


def test_the_loader_builds_with_the_sessions_runtime_options(toy_registry):
    from vidstyle.runtime.openvino_backend import openvino_available
    from vidstyle.runtime.tiling import LargeFrameStylizer

    if not openvino_available():
        pytest.skip("needs OpenVINO")
    # Live frames below the tiling budget skip the tiled engine (a second graph to export and compile per
    # load), and --precision reaches the backend.
    plain = default_loader(backend="openvino", threads=1, runtime_options={"tile": None, "precision": "fp32"})("toy-fast")
    assert not isinstance(plain, LargeFrameStylizer) and plain.precision == "fp32"
    tiled = default_loader(backend="openvino", threads=1, runtime_options={"precision": "fp32"})("toy-fast")
    assert isinstance(tiled, LargeFrameStylizer)


def wait_loaded(cycle: ModelCycle, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while cycle.loading is not None and time.monotonic() < deadline:
        time.sleep(0.01)
        cycle.poll()


def test_a_model_loads_in_the_background_and_is_adopted_when_ready():
    def slow_half():
        time.sleep(0.3)
        return FunctionStylizer(lambda image: image // 2, name="half")

    invert = FunctionStylizer(lambda image: 255 - image, name="invert")
    cycle = ModelCycle([invert, slow_half])
    cycle.load_now((8, 8))
    record = cycle.step(1)
    # The switch does not wait: the current model stays until the new one is built and warmed up.
    assert cycle.loading == "slow_half" and cycle.stylizer is invert and cycle.label == "invert"
    wait_loaded(cycle)
    assert cycle.label == "slow_half" and record.load_ms >= 300
    cycle.step(1)  # back to a model already loaded: instant
    assert cycle.loading is None and cycle.stylizer is invert
    cycle.close()


def test_a_model_that_fails_to_load_leaves_the_current_one_running():
    def broken():
        raise ModelError("model file not found: gone.safetensors")

    invert = FunctionStylizer(lambda image: 255 - image, name="invert")
    cycle = ModelCycle([invert, broken])
    cycle.load_now((8, 8))
    cycle.step(1)
    wait_loaded(cycle)
    assert cycle.stylizer is invert and cycle.notices == ["cannot load broken: model file not found: gone.safetensors"]
    assert [e.label for e in cycle.entries] == ["invert"]  # not offered again
    cycle.close()


def test_the_first_models_load_error_is_raised():
    def broken():
        raise ModelError("no model named 'x'")

    with pytest.raises(ModelError, match="no model named"):
        ModelCycle([broken]).load_now((8, 8))


def test_a_multi_style_model_cycles_its_styles_instantly_then_moves_on():
    invert = FunctionStylizer(lambda image: 255 - image, name="invert")
    cycle = ModelCycle([tint, invert])
    stylizer = cycle.load_now((8, 8))
    assert [e.label for e in cycle.entries] == ["tint: red", "tint: green", "tint: blue", "invert"]
    record = cycle.step(1)
    # A style of the loaded model: set_style, no load.
    assert cycle.loading is None and cycle.label == "tint: green" and stylizer.mix == {"green": 1.0}
    assert record.load_ms == 0
    cycle.step(1)
    assert stylizer.mix == {"blue": 1.0}
    cycle.step(1)
    wait_loaded(cycle)
    assert cycle.stylizer is invert
    cycle.step(1)
    assert cycle.stylizer is stylizer and stylizer.mix == {"red": 1.0}
    cycle.step(-1)
    assert cycle.stylizer is invert
    cycle.close()
