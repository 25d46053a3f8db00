"""create_stylizer: model resolution, backend choice, option checking, resolution scaling."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.io.synthetic import synthetic_scene
from vidstyle.errors import DeviceError, InputError, ModelError
from vidstyle.runtime import available_backends, create_stylizer
from vidstyle.runtime.scaling import scaled_size
from vidstyle.runtime.threads import available_cores, inference_threads


def test_auto_picks_fastest_installed_cpu_backend(fast_net):
    stylizer = create_stylizer(fast_net, backend="auto", device="cpu")
    assert stylizer.backend == available_backends("cpu")[0]
    assert available_backends("cpu")[-1] == "torch"


def test_unknown_backend_is_input_error(fast_net):
    with pytest.raises(InputError, match="unknown backend"):
        create_stylizer(fast_net, backend="tensorrt", device="cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_gpu_is_device_error(fast_net):
    with pytest.raises(DeviceError, match="CUDA is not available"):
        create_stylizer(fast_net, device="cuda")


def test_fp16_on_cpu_is_device_error(fast_net):
    with pytest.raises(DeviceError, match="fp16"):
        create_stylizer(fast_net, backend="torch", device="cpu", precision="fp16")


@pytest.mark.parametrize("strength", [-0.1, 1.5])
def test_strength_out_of_range(fast_net, strength):
    with pytest.raises(InputError, match="strength"):
        create_stylizer(fast_net, device="cpu", strength=strength)


def test_not_a_model_is_model_error():
    with pytest.raises(ModelError, match="not a model"):
        create_stylizer(42, device="cpu")


def test_missing_model_file_is_model_error(tmp_path):
    with pytest.raises(ModelError):
        create_stylizer(tmp_path / "nothing-here.safetensors", device="cpu")


def test_loaded_model_object_is_accepted(fast_net):
    class Loaded:
        network = fast_net
        metadata = {"style_name": "test"}
        name = "test-fast"

    stylizer = create_stylizer(Loaded(), backend="torch", device="cpu")
    assert stylizer.model_name == "test-fast" and stylizer.metadata["style_name"] == "test"


def test_long_side_runs_smaller_and_returns_full_size(fast_net):
    image = synthetic_scene(120, 160, seed=4)
    full = create_stylizer(fast_net, backend="torch", device="cpu").stylize(image)
    small = create_stylizer(fast_net, backend="torch", device="cpu", long_side=80).stylize(image)
    assert small.shape == image.shape
    # Same style, lower resolution: close on average, but not identical.
    diff = np.abs(small.astype(int) - full.astype(int))
    assert 0 < diff.mean() < 40


def test_scaled_size_keeps_aspect_and_never_upscales():
    assert scaled_size(1920, 1080, 640) == (640, 360)
    assert scaled_size(1080, 1920, 640) == (360, 640)
    assert scaled_size(320, 240, 640) == (320, 240)


def test_thread_counts():
    assert inference_threads(None) == available_cores() >= 1
    assert inference_threads(3) == 3
    with pytest.raises(InputError):
        inference_threads(0)


@pytest.mark.skipif("openvino" not in available_backends("cpu"), reason="OpenVINO not installed")
def test_auto_precision_records_its_bf16_check(fast_net):
    from vidstyle.runtime.precision import BF16_MIN_PSNR_DB
    from vidstyle.utils.device import cpu_supports_bf16

    stylizer = create_stylizer(fast_net, backend="openvino", device="cpu")
    if not cpu_supports_bf16():
        assert stylizer.precision == "fp32"
        return
    check = stylizer.precision_check
    assert stylizer.precision == ("bf16" if check["bf16_psnr_db"] >= BF16_MIN_PSNR_DB else "fp32")
