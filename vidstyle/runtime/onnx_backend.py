"""ONNX Runtime backend: the uint8 graph exported to ONNX, run by an ORT session."""
from __future__ import annotations


import numpy as np
import torch
from torch import nn

from vidstyle.errors import DeviceError
from vidstyle.models.styles import network_styles
from vidstyle.runtime.base import BatchGraphStylizer
from vidstyle.runtime.export import onnx_bytes


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class OnnxRuntimeStylizer(BatchGraphStylizer):
    """Runs the network's uint8 graph (see :class:`~vidstyle.runtime.graph.Uint8Graph`) in ONNX Runtime.

    device "cpu" uses the CPU execution provider with ``threads`` intra-op threads, one inter-op
    thread and spin-waiting off (spinning threads would take the cores that decoding needs);
    "cuda" uses the CUDA provider when this onnxruntime build has it. A multi-style network's graph takes
    the style weights as a second input, so ``set_style`` only changes the array passed with each call.
    """

    def __init__(self, network: nn.Module, device: torch.device, strength: float = 1.0, threads: int = 1) -> None:
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if device.type == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise DeviceError("this onnxruntime build has no CUDA support; use --backend torch on CUDA")
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.hold_styles(network_styles(network))
        onnx = onnx_bytes(network, uint8_io=True, strength=strength, style_input=bool(self.styles))
        self.session = ort.InferenceSession(onnx, options, providers=providers)
        self.device = device
        self.name = f"onnxruntime-{device.type}"

    def _run(self, batch: np.ndarray) -> np.ndarray:
        feed = {"input": batch} if self.style_input is None else {"input": batch, "style": self.style_input.vector}
        return self.session.run(["output"], feed)[0]

    def close(self) -> None:
        self.session = None
