"""A multi-style network on every backend: styles and blends switch instantly and match the network itself."""
from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
import torch

from vidstyle.errors import InputError
from vidstyle.io.synthetic import synthetic_scene
from vidstyle.models import build_network, full_arch_params, save_model
from vidstyle.models.styles import mix_vector
from vidstyle.runtime import create_stylizer
from vidstyle.runtime.export import onnx_bytes
from vidstyle.runtime.factory import available_backends

STYLES = ["candy", "mosaic", "udnie"]
BACKENDS = available_backends("cpu")
MIXES = [{"mosaic": 1.0}, {"candy": 0.3, "udnie": 0.7}]


def seeded_multistyle(seed: int = 0) -> torch.nn.Module:
    """An untrained multi-style network whose styles differ (fresh conditional norms are all the identity)."""
    torch.manual_seed(seed)
    net = build_network("multistyle", styles=STYLES, channels=8, blocks=1, mid=8).eval()
    with torch.no_grad():
        for layer in net.conditional_norms:
            layer.weight.uniform_(0.3, 2.0)
            layer.bias.uniform_(-0.5, 0.5)
    return net


@pytest.fixture(scope="module")
def network() -> torch.nn.Module:
    return seeded_multistyle()


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return synthetic_scene(45, 66, seed=3)  # odd sizes: the network pads to its stride


def reference(network: torch.nn.Module, image: np.ndarray, mix: dict) -> np.ndarray:
    """The network itself, in float, with the mix as its argument, rounded as the uint8 graphs round."""
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        y = network(x, torch.from_numpy(mix_vector(STYLES, mix))).clamp(0, 1)
    return (y * 255.0 + 0.5).to(torch.uint8)[0].permute(1, 2, 0).numpy()


def max_diff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(int) - b.astype(int)).max())


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_matches_the_network_for_each_style_and_blend_and_switches_in_milliseconds(
        backend, network, image, capsys):
    stylizer = create_stylizer(network, backend=backend, device="cpu", threads=1, precision="fp32", tile=None)
    assert stylizer.styles == STYLES and stylizer.style_mix == {"candy": 1.0}
    assert max_diff(stylizer.stylize(image), reference(network, image, {"candy": 1.0})) <= 1
    graph = getattr(stylizer, "session", None) or getattr(stylizer, "compiled", None) or stylizer.graph
    switch_ms = []
    outputs = []
    for mix in MIXES:
        started = time.perf_counter()
        stylizer.set_style(mix)
        switch_ms.append((time.perf_counter() - started) * 1000)
        assert stylizer.style_mix == pytest.approx(mix)
        outputs.append(stylizer.stylize(image))
        assert max_diff(outputs[-1], reference(network, image, mix)) <= 1  # float rounding only
    assert max_diff(outputs[0], outputs[1]) > 40, "the two mixes should look different"
    # Same graph object, and for OpenVINO still one compiled shape: switching recompiled nothing.
    assert (getattr(stylizer, "session", None) or getattr(stylizer, "compiled", None) or stylizer.graph) is graph
    if backend == "openvino":
        assert len(stylizer.compiled._compiled) == 1
    with capsys.disabled():
        print(f"\n{backend}: set_style took {', '.join(f'{ms:.3f}' for ms in switch_ms)} ms")


def test_a_string_mix_and_create_stylizers_style_option(network, image):
    stylizer = create_stylizer(network, backend="torch", device="cpu", threads=1, tile=None, style="udnie=1,candy=3")
    assert stylizer.style_mix == {"udnie": 0.25, "candy": 0.75}
    assert max_diff(stylizer.stylize(image), reference(network, image, {"candy": 0.75, "udnie": 0.25})) <= 1
    with pytest.raises(InputError, match="unknown style 'vangogh'"):
        stylizer.set_style("vangogh")
    assert stylizer.style_mix == {"udnie": 0.25, "candy": 0.75}  # a refused mix changes nothing


@pytest.fixture(scope="module")
def big() -> np.ndarray:
    return synthetic_scene(150, 200, seed=5)


@pytest.fixture(scope="module")
def whole(network) -> object:
    return create_stylizer(network, backend="torch", device="cpu", threads=1, tile=None)


@pytest.mark.parametrize("engine", ["torch"] + (["openvino"] if "openvino" in BACKENDS else []))
def test_tiles_follow_the_style(network, engine, big, whole):
    tiled = create_stylizer(network, backend=engine, device="cpu", threads=1, precision="fp32", tile=96, tile_overlap=32,
                            tile_above_pixels=100 * 100, style="udnie")
    assert tiled.styles == STYLES and tiled.style_mix == {"udnie": 1.0}
    for mix in MIXES:
        whole.set_style(mix)
        tiled.set_style(mix)
        assert tiled.style_mix == pytest.approx(mix)
        # Tiles share the frame's normalisation statistics: within rounding of the untiled frame.
        assert np.abs(tiled.stylize(big).astype(int) - whole.stylize(big)).mean() < 1.0


def test_a_reduced_size_follows_the_style(network, big, whole):
    scaled = create_stylizer(network, backend="torch", device="cpu", threads=1, long_side=100, style="udnie")
    assert scaled.styles == STYLES and scaled.style_mix == {"udnie": 1.0}
    for mix in MIXES:
        whole.set_style(mix)
        scaled.set_style(mix)
        assert scaled.style_mix == pytest.approx(mix)
        # The network at 100x75, scaled back (as ScaledStylizer does it, by hand).
        small = whole.stylize(cv2.resize(big, (100, 75), interpolation=cv2.INTER_AREA))
        back = cv2.resize(small, (200, 150), interpolation=cv2.INTER_LINEAR)
        assert max_diff(scaled.stylize(big), back) <= 1


def test_a_one_style_model_has_no_styles_and_says_so(fast_net):
    stylizer = create_stylizer(fast_net, backend="torch", device="cpu", threads=1, tile=None)
    assert stylizer.styles == [] and stylizer.style_mix == {}
    with pytest.raises(InputError, match="holds one style"):
        stylizer.set_style("candy")
    with pytest.raises(InputError, match="one-style holds one style"):
        create_stylizer(_named(fast_net, "one-style"), backend="torch", device="cpu", style="candy")


def _named(network: torch.nn.Module, name: str):
    from vidstyle.models.files import LoadedModel

    return LoadedModel(network=network, metadata={}, path=None, name=name)  # type: ignore[arg-type]


def test_a_model_file_keeps_its_styles(tmp_path, network, image):
    params = full_arch_params("multistyle", styles=STYLES, channels=8, blocks=1, mid=8)
    path = save_model(tmp_path / "tiny-zoo.safetensors", network, {"architecture": "multistyle", "arch_params": params})
    stylizer = create_stylizer(str(path), backend=BACKENDS[0], device="cpu", threads=1, precision="fp32", tile=None,
                               style="mosaic")
    assert stylizer.model_name == "tiny-zoo" and stylizer.styles == STYLES
    assert max_diff(stylizer.stylize(image), reference(network, image, {"mosaic": 1.0})) <= 1
    with pytest.raises(InputError, match="tiny-zoo holds candy, mosaic, udnie"):
        stylizer.set_style("vangogh=1")


@pytest.mark.skipif("onnxruntime" not in BACKENDS, reason="needs onnxruntime")
def test_a_graph_without_a_style_input_bakes_the_networks_mix(network, image):
    import copy

    import onnxruntime as ort

    baked = copy.deepcopy(network)
    baked.set_mix(torch.from_numpy(mix_vector(STYLES, MIXES[1])))
    session = ort.InferenceSession(onnx_bytes(baked, uint8_io=True), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    out = session.run(["output"], {"input": image[None]})[0][0]
    assert max_diff(out, reference(network, image, MIXES[1])) <= 1
    two = ort.InferenceSession(onnx_bytes(network, uint8_io=True, style_input=True), providers=["CPUExecutionProvider"])
    assert [i.name for i in two.get_inputs()] == ["input", "style"] and two.get_inputs()[1].shape == [1, 3]
