"""Numeric precision: one set of names for every command, the autocast dtype they mean, and the bf16 check.

Names: ``auto``, ``fp32``, ``bf16``, ``fp16``. The spellings ``float32``, ``bfloat16`` and ``float16``
are accepted as the same thing. What ``auto`` picks depends on the job: inference (see
``vidstyle.runtime.factory``), training (fp16 on CUDA) and the Gatys optimisation (bf16 on CUDA where
the GPU has it); on the CPU each uses bf16 only where the CPU runs it natively.
"""
from __future__ import annotations

import numpy as np
import torch

from vidstyle.errors import InputError
from vidstyle.io.synthetic import synthetic_scene
from vidstyle.utils.device import cpu_supports_bf16

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# Older spellings (the `image` command's), mapped onto the names above.
PRECISION_ALIASES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
AUTOCAST_DTYPES: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
# bf16 is used by inference precision "auto" only when its output stays this close to fp32 on a check image
# (40 dB PSNR is an RMS difference of 2.5/255: invisible, and below the frame-to-frame noise of a camera).
BF16_MIN_PSNR_DB = 40.0


def parse_precision(name: str) -> str:
    """A precision name or alias -> one of PRECISIONS; InputError for anything else."""
    key = str(name).strip().lower()
    key = PRECISION_ALIASES.get(key, key)
    if key not in PRECISIONS:
        raise InputError(f"unknown precision {name!r}: use one of {', '.join(PRECISIONS)}")
    return key


def resolve_precision(precision: str, device: torch.device, cuda_auto: str = "fp16") -> str:
    """The precision ``precision`` means on ``device``: fp32, bf16 or fp16 (never auto).

    auto: ``cuda_auto`` on CUDA ("bf16" falls back to fp32 on GPUs without it), bf16 on a CPU with
    AVX512-BF16/AMX, else fp32.
    """
    chosen = parse_precision(precision)
    if chosen != "auto":
        return chosen
    if device.type == "cuda":
        if cuda_auto == "bf16" and not torch.cuda.is_bf16_supported():
            return "fp32"
        return parse_precision(cuda_auto)
    if device.type == "cpu" and cpu_supports_bf16():
        return "bf16"
    return "fp32"


def autocast_dtype(precision: str, device: torch.device, cuda_auto: str = "fp16") -> torch.dtype | None:
    """The ``torch.autocast`` dtype for :func:`resolve_precision`'s choice, None for plain float32."""
    return AUTOCAST_DTYPES[resolve_precision(precision, device, cuda_auto)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 images of one shape (inf when identical)."""
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return float("inf") if mse == 0 else 10.0 * float(np.log10(255.0**2 / mse))


def bf16_check_image() -> np.ndarray:
    """A (192, 256, 3) uint8 scene with smooth gradients, edges and texture, for the bf16 check."""
    image = synthetic_scene(192, 256, seed=1)
    image[48:144, 64:160] = (230, 60, 40)  # a flat saturated patch: where low precision shows first
    image[:, 200:] //= 4  # a dark band
    return image
