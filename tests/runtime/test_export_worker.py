"""The export helper process: the same graph as an export here, errors as ModelError, and a clean end."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from vidstyle.errors import ModelError
from vidstyle.models import full_arch_params, save_model
from vidstyle.runtime import create_stylizer
from vidstyle.runtime.export_worker import ExportWorker
from vidstyle.runtime.factory import resolve_network
from vidstyle.runtime.openvino_backend import OpenVINOStylizer, openvino_available

from .conftest import seeded_network

pytestmark = pytest.mark.skipif(not openvino_available(), reason="needs OpenVINO")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    params = full_arch_params("fast", channels=16, blocks=1)
    path = tmp_path_factory.mktemp("models") / "tiny-fast.safetensors"
    return save_model(path, seeded_network("fast", **params), {"architecture": "fast", "arch_params": params})


@pytest.fixture(scope="module")
def worker():
    with ExportWorker() as helper:
        deadline = time.monotonic() + 120
        while not helper.ready and time.monotonic() < deadline and helper.failed is None:
            time.sleep(0.05)
        assert helper.ready, helper.failed
        yield helper


def test_the_helpers_graph_runs_like_one_exported_here(worker, model_path, scene):
    network = resolve_network(str(model_path))[0].float().eval()
    here = OpenVINOStylizer(network, torch.device("cpu"), strength=0.8, precision="fp32")
    there = OpenVINOStylizer(network, torch.device("cpu"), strength=0.8, precision="fp32",
                             onnx=worker.export(str(model_path), 0.8, False))
    out_here, out_there = here.stylize(scene), there.stylize(scene)
    assert np.abs(out_here.astype(int) - scene).mean() > 5  # the network does change the picture
    assert np.array_equal(out_here, out_there)


def test_create_stylizer_takes_the_graph_from_the_exporter_and_exports_itself_when_it_fails(worker, model_path, scene):
    asked = []

    def exporter(model: str, strength: float, style_input: bool) -> bytes:
        asked.append((model, strength, style_input))
        return worker.export(model, strength, style_input)

    def broken(model: str, strength: float, style_input: bool) -> bytes:
        raise ModelError("helper gone")

    reference = create_stylizer(str(model_path), backend="openvino", precision="fp32", tile=None).stylize(scene)
    served = create_stylizer(str(model_path), backend="openvino", precision="fp32", tile=None, graph_exporter=exporter)
    assert asked == [(str(model_path), 1.0, False)]
    assert np.array_equal(served.stylize(scene), reference)
    fallback = create_stylizer(str(model_path), backend="openvino", precision="fp32", tile=None, graph_exporter=broken)
    assert np.array_equal(fallback.stylize(scene), reference)


def test_a_model_the_helper_cannot_read_is_a_model_error_and_the_helper_goes_on(worker, model_path, tmp_path):
    with pytest.raises(ModelError, match="nope"):
        worker.export(str(tmp_path / "nope.safetensors"))
    assert len(worker.export(str(model_path))) > 1000


def test_a_closed_helper_refuses_and_its_process_has_ended(model_path):
    helper = ExportWorker()
    helper.close()
    assert helper._proc.poll() is not None
    assert not helper.ready
    with pytest.raises(ModelError):
        helper.export(str(model_path))
