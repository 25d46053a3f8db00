"""Live with a real multi-style model: ``--style``, n/p through its styles, b/,/. blending, all instant."""
from __future__ import annotations

import dataclasses
import queue

import numpy as np
import pytest
import torch

from vidstyle.io.synthetic import TestPatternSource, synthetic_scene
from vidstyle.models import build_network, full_arch_params, save_model
from vidstyle.pipeline.live import LiveOptions, ModelCycle, run_live
from vidstyle.pipeline.live.blend import StyleBlend, next_style_blend
from vidstyle.pipeline.live.model_cycle import default_loader
from vidstyle.runtime import create_stylizer
from vidstyle.runtime.base import FunctionStylizer

STYLES = ["candy", "mosaic", "udnie"]


@pytest.fixture(scope="module")
def zoo_file(tmp_path_factory):
    """A tiny untrained multi-style model file whose styles differ."""
    torch.manual_seed(0)
    params = full_arch_params("multistyle", styles=STYLES, channels=8, blocks=1, mid=8)
    network = build_network("multistyle", **params)
    with torch.no_grad():
        for layer in network.conditional_norms:
            layer.weight.uniform_(0.3, 2.0)
            layer.bias.uniform_(-0.5, 0.5)
    path = tmp_path_factory.mktemp("zoo") / "tiny-zoo.safetensors"
    return save_model(path, network, {"architecture": "multistyle", "arch_params": params})


def test_blend_steps():
    blend = next_style_blend(STYLES, {"mosaic": 1.0})
    assert blend == StyleBlend("mosaic", "udnie", 0.5) and blend.mix == {"mosaic": 0.5, "udnie": 0.5}
    assert next_style_blend(STYLES, {"udnie": 0.7, "mosaic": 0.3}).second == "candy"  # the heaviest, wrapping round
    assert next_style_blend(STYLES, None).first == "candy"
    assert blend.shifted(0.1).mix == {"mosaic": 0.4, "udnie": 0.6} and blend.shifted(0.1).label == "mosaic=0.4,udnie=0.6"
    assert blend.shifted(0.9).weight == 1.0 and blend.shifted(-0.9).weight == 0.0
    with pytest.raises(ValueError):
        next_style_blend(["one"], None)


def test_style_option_blend_keys_and_n_p_on_the_cycle(zoo_file):
    cycle = ModelCycle([str(zoo_file)], default_loader(backend="torch", threads=1), style="mosaic")
    stylizer = cycle.load_now((64, 48))
    assert [e.label for e in cycle.entries] == ["tiny-zoo: mosaic", "tiny-zoo: candy", "tiny-zoo: udnie"]
    assert stylizer.style_mix == {"mosaic": 1.0}
    assert cycle.toggle_blend() and cycle.label == "tiny-zoo: mosaic=0.5,udnie=0.5"
    assert stylizer.style_mix == {"mosaic": 0.5, "udnie": 0.5}
    assert cycle.shift_blend(0.1) and stylizer.style_mix == pytest.approx({"mosaic": 0.4, "udnie": 0.6})
    assert cycle.toggle_blend() and cycle.label == "tiny-zoo: mosaic" and stylizer.style_mix == {"mosaic": 1.0}
    # From a single style, . starts a blend at its first step; n ends any blend with the next style.
    assert cycle.shift_blend(0.1) and stylizer.style_mix == pytest.approx({"mosaic": 0.9, "udnie": 0.1})
    record = cycle.step(1)
    assert record.load_ms == 0 and cycle.blend is None and cycle.label == "tiny-zoo: candy"
    assert stylizer.style_mix == {"candy": 1.0}
    cycle.close()


def test_one_style_models_have_nothing_to_blend():
    cycle = ModelCycle([FunctionStylizer(lambda image: 255 - image, name="invert")])
    cycle.load_now((8, 8))
    assert not cycle.toggle_blend() and not cycle.shift_blend(0.1) and cycle.label == "invert"
    cycle.close()


class StillCamera(TestPatternSource):
    """A 30 fps camera that shows one picture, so every output can be checked against the model."""

    def __init__(self, image: np.ndarray) -> None:
        super().__init__(image.shape[1], image.shape[0], fps=30, realtime=True)
        self.image = image

    def __iter__(self):
        for frame in super().__iter__():
            yield dataclasses.replace(frame, image=self.image)


def test_a_live_session_switches_and_blends_styles_on_keys_from_the_next_frame(zoo_file):
    picture = synthetic_scene(48, 64, seed=2)
    keys: queue.Queue = queue.Queue()
    shown: list[tuple[str, np.ndarray]] = []
    plan = {2: "b", 5: ".", 8: "b", 11: "n", 14: "p"}

    def on_frame(info):
        shown.append((info["model"], info["image"]))
        if info["index"] in plan:
            keys.put(plan[info["index"]])

    # A ready stylizer (a name would bring the installed models into n/p as well).
    stylizer = create_stylizer(str(zoo_file), backend="torch", device="cpu", threads=1, tile=None)
    stats = run_live(LiveOptions(camera=StillCamera(picture), models=[stylizer], style="udnie", display=False,
                                 frames=17, keys=keys, on_frame=on_frame))
    labels = [label for label, _ in shown]
    # Each key takes effect on the very next frame: no reload, no frame in between.
    assert labels == (["tiny-zoo: udnie"] * 3 + ["tiny-zoo: udnie=0.5,candy=0.5"] * 3
                      + ["tiny-zoo: udnie=0.4,candy=0.6"] * 3 + ["tiny-zoo: udnie"] * 3 + ["tiny-zoo: candy"] * 3
                      + ["tiny-zoo: udnie"] * 2)
    assert stats.frames_missed <= 1  # nothing loaded after the first model
    reference = create_stylizer(str(zoo_file), backend="torch", device="cpu", threads=1, tile=None)
    mixes = {"udnie": "udnie", "udnie=0.5,candy=0.5": "udnie=0.5,candy=0.5", "udnie=0.4,candy=0.6": "udnie=0.4,candy=0.6",
             "candy": "candy"}
    for label, image in shown:
        reference.set_style(mixes[label.split(": ")[1]])
        assert np.abs(image.astype(int) - reference.stylize(picture)).max() <= 1, label
