"""Inference backends behind one interface (:class:`Stylizer`).

``create_stylizer(model, backend="auto", device="auto", ...)`` is the entry point; backends are
torch (eager or compiled; fp32, bf16, fp16), ONNX Runtime and OpenVINO, all uint8 in and out.
"""
from vidstyle.runtime.base import FunctionStylizer, Stylizer
from vidstyle.runtime.factory import BACKENDS, RuntimeOptions, available_backends, create_stylizer

__all__ = ["Stylizer", "FunctionStylizer", "create_stylizer", "available_backends", "RuntimeOptions", "BACKENDS"]
