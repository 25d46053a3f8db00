"""Export transform networks to ONNX and TorchScript files for other runtimes.

Both exports take the plain network (float RGB [0, 1] in, float RGB out) or, with
``uint8_io=True``, the :class:`~vidstyle.runtime.graph.Uint8Graph` form that the vidstyle
backends run (uint8 NHWC in and out, scaling folded into the graph).
"""
from __future__ import annotations

import io
import logging
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from vidstyle.errors import ModelError
from vidstyle.models.styles import network_styles
from vidstyle.runtime.graph import Uint8Graph
from vidstyle.utils.files import atomic_output, check_output_path

# Size used to trace; odd on purpose so padding logic is exercised with a symbolic size.
_EXAMPLE_HW = (67, 93)


def _example_input(uint8_io: bool) -> torch.Tensor:
    h, w = _EXAMPLE_HW
    if uint8_io:
        return torch.randint(0, 256, (1, h, w, 3), dtype=torch.uint8)
    return torch.rand(1, 3, h, w)


def _prepared(network: nn.Module, uint8_io: bool, strength: float) -> nn.Module:
    network = network.float().eval().cpu()
    return Uint8Graph(network, strength).eval() if uint8_io else network


def onnx_bytes(network: nn.Module, opset: int = 17, uint8_io: bool = False, strength: float = 1.0,
               style_input: bool = False) -> bytes:
    """Serialize ``network`` as an ONNX model with dynamic batch, height and width.

    Input "input": (B, 3, H, W) float32 in [0, 1], or (B, H, W, 3) uint8 with ``uint8_io``.
    With ``style_input`` (a multi-style network, uint8_io): a second input "style", (1, S) float32 style
    weights summing to 1, so one graph runs every style and blend. Without it a multi-style network runs
    the mix set by its ``set_mix``, baked in.
    Output "output": the same layout as the input.
    Tries the TorchScript-tracer exporter first (it keeps H and W symbolic through the padding
    arithmetic) and falls back to the torch.export-based one.
    """
    module = _prepared(network, uint8_io, strength)
    example = _example_input(uint8_io)
    args: tuple = (example,)
    names = ["input"]
    if style_input:
        styles = network_styles(network)
        if not styles or not uint8_io:
            raise ValueError("a style input needs a multi-style network and uint8_io")
        # An uneven example blend: nothing in the trace may specialise on one style.
        weights = torch.arange(1, len(styles) + 1, dtype=torch.float32)[None]
        args, names = (example, weights / weights.sum()), ["input", "style"]
    axes = {0: "batch", 1: "height", 2: "width"} if uint8_io else {0: "batch", 2: "height", 3: "width"}
    errors = []
    for dynamo in (False, True):
        try:
            buf = io.BytesIO()
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                logging.getLogger("torch.onnx").setLevel(logging.ERROR)
                kwargs = dict(
                    input_names=names,
                    output_names=["output"],
                    opset_version=opset,
                    dynamo=dynamo,
                )
                if dynamo:
                    dim = torch.export.Dim
                    spec = {"batch": dim("batch", max=64), "height": dim("height", min=8), "width": dim("width", min=8)}
                    shapes = {k: spec[v] for k, v in axes.items()}
                    dynamic = ({**shapes},) + (None,) * (len(args) - 1)
                    program = torch.onnx.export(module, args, dynamic_shapes=dynamic, **kwargs)
                    program.save(buf)
                else:
                    torch.onnx.export(module, args, buf, dynamic_axes={"input": axes, "output": axes}, **kwargs)
            return buf.getvalue()
        except Exception as exc:  # exporter failures come in many exception types
            errors.append(f"{'dynamo' if dynamo else 'torchscript'}: {exc.__class__.__name__}: {str(exc)[:200]}")
    raise ModelError("could not export the network to ONNX: " + " | ".join(errors))


def traced_onnx_bytes(
    module: nn.Module,
    args: tuple,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict,
    opset: int = 17,
) -> bytes:
    """ONNX bytes of ``module`` traced on ``args`` (TorchScript tracer), for graphs with several inputs/outputs."""
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, buf, input_names=input_names, output_names=output_names,
                              dynamic_axes=dynamic_axes, opset_version=opset, dynamo=False)
    except Exception as exc:  # exporter failures come in many exception types
        raise ModelError(f"could not export the network to ONNX: {exc.__class__.__name__}: {str(exc)[:200]}") from exc
    return buf.getvalue()


def export_onnx(
    network: nn.Module,
    path: str | os.PathLike,
    opset: int = 17,
    uint8_io: bool = False,
    strength: float = 1.0,
    overwrite: bool = False,
    inputs: tuple = (),
) -> Path:
    """Write ``network`` to ``path`` as ONNX (dynamic batch/height/width); see :func:`onnx_bytes`.

    An existing ``path`` is replaced only with ``overwrite``; one of ``inputs`` (the model file) never.
    """
    out = check_output_path(path, inputs=inputs, overwrite=overwrite)
    data = onnx_bytes(network, opset=opset, uint8_io=uint8_io, strength=strength)
    with atomic_output(out) as tmp:
        tmp.write_bytes(data)
    return out


def export_torchscript(network: nn.Module, path: str | os.PathLike, uint8_io: bool = False, strength: float = 1.0,
                       overwrite: bool = False, inputs: tuple = ()) -> Path:
    """Write ``network`` to ``path`` as a TorchScript file (scripted, else traced).

    Scripting keeps Python control flow (padding of odd sizes) exact for every input size;
    tracing is the fallback for networks that TorchScript cannot compile.
    Input/output layouts as in :func:`onnx_bytes`; ``overwrite`` and ``inputs`` as in :func:`export_onnx`.
    """
    out = check_output_path(path, inputs=inputs, overwrite=overwrite)
    module = _prepared(network, uint8_io, strength)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scripted = torch.jit.script(module)
        except Exception:
            with torch.no_grad():
                scripted = torch.jit.trace(module, (_example_input(uint8_io),), check_trace=False)
    with atomic_output(out) as tmp:
        scripted.save(str(tmp))
    return out
