"""OpenVINO backend: the uint8 graph converted from ONNX and compiled per frame size."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from vidstyle.errors import DeviceError
from vidstyle.models.styles import network_styles
from vidstyle.runtime.base import BatchGraphStylizer
from vidstyle.runtime.export import onnx_bytes

# Compiled models kept for different frame sizes (a video has one; tiles add one or two).
_MAX_COMPILED_SHAPES = 4


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def cpu_config(threads: int, precision: str) -> dict:
    """OpenVINO CPU plugin settings: latency mode, one stream, no core pinning, precision hint."""
    return {
        "INFERENCE_NUM_THREADS": int(threads),
        "NUM_STREAMS": 1,
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
        "ENABLE_CPU_PINNING": False,  # pinning to cores fights the decode/display threads
    }


class CompiledByShape:
    """An OpenVINO model from ONNX bytes, compiled with static shapes for each new shape of input 0.

    Static shapes let the CPU plugin pick the best convolution kernels; a video has one frame size
    (tiling adds one or two), and the least recently used compilations are dropped.
    """

    def __init__(self, onnx: bytes, config: dict, max_shapes: int = _MAX_COMPILED_SHAPES) -> None:
        import openvino as ov

        self.core = ov.Core()
        self.model = self.core.read_model(onnx, b"")
        self.config = config
        self.max_shapes = max_shapes
        self._compiled: OrderedDict[tuple, object] = OrderedDict()

    def request(self, shape: tuple):
        """An infer request compiled for input 0 of ``shape``."""
        request = self._compiled.get(shape)
        if request is None:
            model = self.model.clone()
            model.reshape({0: list(shape)})
            request = self.core.compile_model(model, "CPU", self.config).create_infer_request()
            self._compiled[shape] = request
            while len(self._compiled) > self.max_shapes:
                self._compiled.popitem(last=False)
        else:
            self._compiled.move_to_end(shape)
        return request

    def infer(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run with ``inputs`` (input 0 decides the compiled shape); copies of every output."""
        request = self.request(inputs[0].shape)
        request.infer({i: x for i, x in enumerate(inputs)}, share_inputs=True)
        return [request.get_output_tensor(i).data.copy() for i in range(len(request.model_outputs))]

    def clear(self) -> None:
        self._compiled.clear()


class OpenVINOStylizer(BatchGraphStylizer):
    """Runs the network's uint8 graph with OpenVINO on the CPU.

    precision: "fp32" or "bf16" (the ``INFERENCE_PRECISION_HINT``; bf16 only where the CPU has
    native bf16). The model is compiled for each new frame size with static shapes, which lets
    the CPU plugin pick the best convolution kernels, and kept for reuse. A multi-style network's graph
    takes the style weights as a second input: ``set_style`` changes the array passed, not the compiled model.
    onnx: the network's uint8 graph when already exported (``onnx_bytes(network, uint8_io=True, ...)``
    with the same strength and style input); kept as :attr:`onnx`.
    """

    def __init__(
        self,
        network: nn.Module,
        device: torch.device,
        strength: float = 1.0,
        threads: int = 1,
        precision: str = "fp32",
        onnx: bytes | None = None,
    ) -> None:
        if device.type != "cpu":
            raise DeviceError("the OpenVINO backend runs on the CPU here; use --backend torch for CUDA")
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"OpenVINO precision must be fp32 or bf16, got {precision!r}")
        self.hold_styles(network_styles(network))
        if onnx is None:
            onnx = onnx_bytes(network, uint8_io=True, strength=strength, style_input=bool(self.styles))
        self.onnx = onnx
        self.compiled = CompiledByShape(onnx, cpu_config(threads, precision))
        self.device = device
        self.precision = precision
        self.name = f"openvino-cpu-{precision}"

    def _run(self, batch: np.ndarray) -> np.ndarray:
        if self.style_input is None:
            return self.compiled.infer([batch])[0]
        return self.compiled.infer([batch, self.style_input.vector])[0]

    def close(self) -> None:
        self.compiled.clear()
