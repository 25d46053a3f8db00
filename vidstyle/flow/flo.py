"""Middlebury .flo files: float32 magic 202021.25, int32 width, int32 height, then (u, v) float32 per pixel."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vidstyle.errors import InputError
from vidstyle.utils.files import atomic_output, check_output_path

FLO_MAGIC = 202021.25


def read_flo(path: str | os.PathLike) -> np.ndarray:
    """Read a .flo file as an (H, W, 2) float32 array of (u, v) in pixels."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"flow file not found: {p}")
    data = p.read_bytes()
    if len(data) < 12 or np.frombuffer(data, "<f4", 1)[0] != np.float32(FLO_MAGIC):
        raise InputError(f"not a Middlebury .flo file (bad magic number): {p}")
    width, height = (int(v) for v in np.frombuffer(data, "<i4", 2, offset=4))
    expected = 12 + width * height * 8
    if width <= 0 or height <= 0 or len(data) < expected:
        raise InputError(f"truncated or corrupt .flo file ({width}x{height}, {len(data)} bytes): {p}")
    return np.frombuffer(data, "<f4", width * height * 2, offset=12).reshape(height, width, 2).copy()


def write_flo(flow: np.ndarray, path: str | os.PathLike) -> Path:
    """Write an (H, W, 2) flow atomically as a .flo file."""
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"expected an (H, W, 2) flow, got shape {flow.shape}")
    out = check_output_path(path, overwrite=True)
    h, w = flow.shape[:2]
    with atomic_output(out) as tmp:
        with open(tmp, "wb") as f:
            f.write(np.array([FLO_MAGIC], "<f4").tobytes())
            f.write(np.array([w, h], "<i4").tobytes())
            f.write(np.ascontiguousarray(flow, dtype="<f4").tobytes())
    return out


def endpoint_error(flow: np.ndarray, truth: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Mean end-point error |flow − truth| in pixels over the ``valid`` (H, W) bool pixels (all if None)."""
    epe = np.linalg.norm(flow.astype(np.float64) - truth, axis=-1)
    return float(epe[valid].mean() if valid is not None else epe.mean())
