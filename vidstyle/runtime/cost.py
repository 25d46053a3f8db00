"""A model's compute cost, read from its file without loading weights: multiply-adds per pixel.

Inference time on one machine and backend grows roughly with this number, so one model timed at a
frame size predicts the others' time at that size (``estimated_ms``): how ``vidstyle live`` decides
which models can keep up with the camera without loading each one.
"""
from __future__ import annotations

import os
from typing import Optional

import torch
from torch import nn

from vidstyle.errors import ModelError

# The probe is a multiple of every network's stride, so padding adds nothing to the count; small, so
# counting takes milliseconds on the CPU.
_PROBE = 32
_cache: dict[str, float] = {}


def multiply_adds_per_pixel(network: nn.Module, probe: int = _PROBE) -> float:
    """Multiply-adds of the network's convolutions per input pixel (a probe-sized forward pass).

    Convolutions dominate these networks; norms, activations and resampling are left out.
    """
    total = 0

    def count(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        kernel = module.kernel_size[0] * module.kernel_size[1]
        if isinstance(module, nn.ConvTranspose2d):
            total += inputs[0].numel() * (module.out_channels // module.groups) * kernel
        else:
            total += output.numel() * (module.in_channels // module.groups) * kernel

    hooks = [m.register_forward_hook(count) for m in network.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    try:
        parameter = next(network.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
        with torch.no_grad():
            network(torch.zeros(1, 3, probe, probe, device=device))
    finally:
        for hook in hooks:
            hook.remove()
    return total / float(probe * probe)


def model_multiply_adds(model: str | os.PathLike) -> Optional[float]:
    """Multiply-adds per pixel of a registry name or model file, from its header alone; None when unknown
    (an unreadable file, an architecture this version does not know)."""
    from vidstyle.models.files import read_metadata
    from vidstyle.models.networks import build_network, stored_arch_params
    from vidstyle.models.registry import find_model

    try:
        metadata = read_metadata(find_model(model))
        arch, params = metadata["architecture"], stored_arch_params(metadata["architecture"], metadata["arch_params"])
    except (ModelError, KeyError, TypeError):
        return None
    key = repr((arch, sorted(params.items(), key=lambda kv: kv[0])))
    if key not in _cache:
        try:
            _cache[key] = multiply_adds_per_pixel(build_network(arch, **params).eval())
        except (ValueError, TypeError, RuntimeError, NotImplementedError):
            return None
    return _cache[key]


def estimated_ms(reference_ms: float, reference_cost: float, cost: float) -> float:
    """Time per frame of a model costing ``cost`` multiply-adds per pixel, from a reference model timed
    at ``reference_ms`` per frame (same size, machine and backend) costing ``reference_cost``."""
    return reference_ms * cost / max(reference_cost, 1e-9)
