"""Styles a user added to a multistyle model (``vidstyle add-style``), stored beside the user's models.

A learned style is only its rows of the conditional-normalisation tables (a few KB): the file
``<user models>/styles/<model>/<style>.safetensors`` holds one (1, C) row per scale and shift table and,
in its header, the style's name and the sha256 of the model file it was learned for. Loading that model
appends every matching style, so ``--model zoo --style grandma`` works in every command at the same speed.
A style learned for another version of the model file is skipped with a warning (its rows would not fit).
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vidstyle.errors import ModelError
from vidstyle.models.folders import user_models_dir
from vidstyle.utils.files import atomic_output
from vidstyle.utils.hashing import file_sha256

STYLE_KEY = "vidstyle_style"


def styles_dir(model_name: str, root: Path | None = None) -> Path:
    """Where styles added to ``model_name`` live (``root``: the user models folder by default)."""
    return (root or user_models_dir()) / "styles" / model_name


def _conditional_tables(network: nn.Module) -> dict[str, torch.Tensor]:
    """{state-dict key: (S, C) table} of every conditional normalisation scale and shift."""
    from vidstyle.models.networks import ConditionalInstanceNorm

    tables = {}
    for name, module in network.named_modules():
        if isinstance(module, ConditionalInstanceNorm):
            tables[f"{name}.weight"] = module.weight
            tables[f"{name}.bias"] = module.bias
    return tables


def save_style(path: str | os.PathLike, network: nn.Module, style: str, base_model: str | os.PathLike,
               metadata: dict[str, Any]) -> Path:
    """Write ``style``'s rows of ``network`` (a multistyle network holding it) to ``path`` (.safetensors)."""
    from safetensors.torch import save_file

    row = network.styles.index(style)
    tensors = {k: v.detach()[row:row + 1].float().cpu().contiguous() for k, v in _conditional_tables(network).items()}
    header = {**metadata, "name": style, "base_model": Path(base_model).stem, "base_sha256": file_sha256(base_model)}
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as tmp:
        save_file(tensors, str(tmp), metadata={STYLE_KEY: json.dumps(header, sort_keys=True)})
    return out


def read_style(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(header, rows) of an added-style file; ModelError if it is not one."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), "pt") as f:
            header = json.loads((f.metadata() or {})[STYLE_KEY])
            rows = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # noqa: BLE001 - any failure means an unusable style file
        raise ModelError(f"{path} is not a vidstyle style file ({exc.__class__.__name__})") from exc
    if not isinstance(header, dict) or not isinstance(header.get("name"), str):
        raise ModelError(f"{path} is not a vidstyle style file (no style name)")
    return header, rows


def attach_user_styles(network: nn.Module, model_path: str | os.PathLike, root: Path | None = None) -> nn.Module:
    """``network`` (multistyle, loaded from ``model_path``) with the styles added to that model file appended.

    Returns the same network when there are none, else a grown copy (eval mode, no gradients).
    """
    folder = styles_dir(Path(model_path).stem, root)
    files = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    if not files:
        return network
    sha = file_sha256(model_path)
    tables = _conditional_tables(network)
    found: dict[str, dict[str, torch.Tensor]] = {}
    for file in files:
        try:
            header, rows = read_style(file)
        except ModelError as exc:
            warnings.warn(f"skipping added style: {exc}", stacklevel=2)
            continue
        if header.get("base_sha256") != sha:
            warnings.warn(f"skipping added style {file.name}: it was learned for another version of "
                          f"{Path(model_path).name}; add it again with vidstyle add-style", stacklevel=2)
            continue
        if set(rows) != set(tables) or any(rows[k].shape != (1, tables[k].shape[1]) for k in tables):
            warnings.warn(f"skipping added style {file.name}: its tables do not fit {Path(model_path).name}",
                          stacklevel=2)
            continue
        if header["name"] not in network.styles:
            found[header["name"]] = rows
    if not found:
        return network
    grown, indices = network.with_styles(list(found))
    with torch.no_grad():
        grown_tables = _conditional_tables(grown)
        for name, index in zip(found, indices):
            for key, table in grown_tables.items():
                table[index] = found[name][key][0]
    return grown.eval().requires_grad_(False)
