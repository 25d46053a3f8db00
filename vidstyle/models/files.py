"""Model files: ``.safetensors`` weights with the metadata JSON in the header, plus a sibling ``.json``.

Loading never executes code: the header is parsed as JSON, the network is built from the architecture
named there, and only raw tensors are read. Pickles (PyTorch ``.pth`` checkpoints renamed to
``.safetensors``), truncated files and foreign safetensors files are refused with a ModelError.
"""
from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from vidstyle import __version__
from vidstyle.errors import ModelError
from vidstyle.models.networks import ARCHITECTURES, build_network, stored_arch_params
from vidstyle.utils.files import atomic_output, check_output_path

METADATA_KEY = "vidstyle"
REQUIRED_KEYS = ("architecture", "arch_params")
# A safetensors header is a few KiB for our nets; anything huge is not a file we wrote.
MAX_HEADER_BYTES = 16 << 20


@dataclass
class LoadedModel:
    """A network ready for inference (eval mode, on ``device``) with its metadata."""

    network: nn.Module
    metadata: dict[str, Any]
    path: Path
    name: str


def metadata_path(path: str | os.PathLike) -> Path:
    """The sibling JSON file of a model file: ``x.safetensors`` -> ``x.json``."""
    return Path(path).with_suffix(".json")


def save_model(path: str | os.PathLike, network: nn.Module, metadata: dict[str, Any], overwrite: bool = True,
               inputs: tuple = ()) -> Path:
    """Write ``network``'s weights and ``metadata`` to ``path`` (.safetensors) and its sibling .json.

    ``metadata`` must hold ``architecture`` and ``arch_params``; ``vidstyle_version`` is filled in.
    Both files are written atomically (temporary name, then rename). A low-level writer: existing files
    are replaced unless ``overwrite`` is False (``train`` checks --out before training); neither file is
    ever written over one of ``inputs``.
    """
    from safetensors.torch import save_file

    out = check_model_output(path, inputs, overwrite)
    missing = [k for k in REQUIRED_KEYS if k not in metadata]
    if missing:
        raise ValueError(f"model metadata needs {missing}")
    meta = dict(metadata)
    meta.setdefault("vidstyle_version", __version__)
    meta.setdefault("temporal", False)
    meta_json = json.dumps(meta, sort_keys=True)
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in network.state_dict().items()
               if v.is_floating_point()}
    with atomic_output(out) as tmp:
        save_file(tensors, str(tmp), metadata={METADATA_KEY: meta_json})
    with atomic_output(metadata_path(out)) as tmp:
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return out


def check_model_output(path: str | os.PathLike, inputs: tuple = (), overwrite: bool = False) -> Path:
    """Check a model output and its sibling .json (see ``check_output_path``) before any work."""
    out = Path(path)
    if out.suffix != ".safetensors":
        raise ModelError(f"model files end in .safetensors, got {out.name}")
    every_input = tuple(inputs) + tuple(metadata_path(p) for p in inputs
                                        if isinstance(p, (str, os.PathLike)) and str(p).endswith(".safetensors"))
    check_output_path(out, inputs=every_input, overwrite=overwrite)
    check_output_path(metadata_path(out), inputs=every_input, overwrite=overwrite)
    return out


def _sniff_foreign(head: bytes, path: Path) -> None:
    """Name the common wrong formats before trying to parse a header (nothing is unpickled)."""
    if head[:1] == b"\x80" or head[:2] == b"PK":
        raise ModelError(
            f"{path} is a pickle or PyTorch checkpoint, not a safetensors file; refusing to load it "
            "(unpickling can run arbitrary code). Convert it to .safetensors first."
        )
    if head[:4] == b"\x08\x07\x12\x07" or head[:2] == b"\x08\x03" or head[:2] == b"\x08\x08":
        raise ModelError(f"{path} looks like an ONNX model; vidstyle model files are .safetensors")


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """Parse and validate the safetensors header of ``path``; returns the header dict.

    Raises ModelError for a missing, truncated, corrupt or non-safetensors file.
    """
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"model file not found: {p}")
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(9)
        if len(head) < 9:
            raise ModelError(f"{p} is truncated or empty ({size} bytes); not a model file")
        (header_len,) = struct.unpack("<Q", head[:8])
        # A safetensors header length can begin with any byte (0x80 too, like a pickle), so only a file
        # whose JSON header does not start right after the length is checked against foreign formats.
        if head[8:9] != b"{":
            _sniff_foreign(head, p)
        f.seek(8)
        if header_len == 0 or header_len > MAX_HEADER_BYTES or header_len + 8 > size:
            raise ModelError(f"{p} is not a safetensors model file (bad header length), or it is truncated")
        raw = f.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{p} has a corrupt safetensors header ({exc.__class__.__name__})") from exc
    if not isinstance(header, dict):
        raise ModelError(f"{p} has a corrupt safetensors header")
    data_len = size - 8 - header_len
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not offsets or len(offsets) != 2 or offsets[1] > data_len:
            raise ModelError(f"{p} is truncated or corrupt (tensor {name!r} lies beyond the end of the file)")
    return header


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The vidstyle metadata of a model file (header first, sibling .json as a fallback)."""
    p = Path(path)
    header = read_header(p)
    raw = (header.get("__metadata__") or {}).get(METADATA_KEY)
    if raw is None and metadata_path(p).is_file():
        raw = metadata_path(p).read_text()
    if raw is None:
        checkpoint = (header.get("__metadata__") or {}).get("vidstyle_checkpoint")
        if checkpoint is not None:
            raise ModelError(f"{p} is a training checkpoint, not a model: continue the run with `vidstyle train "
                             f"--resume {p}`; a stopped run saves its model at its --out")
        raise ModelError(f"{p} is a safetensors file without vidstyle metadata (a foreign model?)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelError(f"{p}: vidstyle metadata is not valid JSON") from exc
    if not isinstance(meta, dict) or any(k not in meta for k in REQUIRED_KEYS):
        raise ModelError(f"{p}: vidstyle metadata lacks {list(REQUIRED_KEYS)}")
    if not isinstance(meta["architecture"], str):
        raise ModelError(f"{p}: the architecture must be a name such as 'fast', got {meta['architecture']!r}")
    if not isinstance(meta["arch_params"], dict):
        raise ModelError(f"{p}: arch_params must be a JSON object, got {type(meta['arch_params']).__name__}")
    if meta["architecture"] not in ARCHITECTURES:
        raise ModelError(
            f"{p}: unknown architecture {meta['architecture']!r} (this vidstyle knows {sorted(ARCHITECTURES)}); "
            "a newer vidstyle may be needed"
        )
    return meta


def _tensor_shapes(header: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {name: tuple(entry.get("shape") or ()) for name, entry in header.items()
            if name != "__metadata__" and isinstance(entry, dict)}


def build_checked_network(path: str | os.PathLike, meta: dict[str, Any], header: dict[str, Any]) -> nn.Module:
    """The untrained network the metadata describes, once it is known to match the tensors the header lists
    (ModelError otherwise), before any weight is read.

    First a check that costs nothing: an integer parameter larger than both the number of tensors and their
    largest dimension (``blocks=100000`` in a file of 50 small tensors) cannot be right, so nothing that size
    is ever built. Then the network's tensor names and shapes are compared with the header's.
    """
    arch, params = meta["architecture"], meta["arch_params"]
    shapes = _tensor_shapes(header)
    largest = max((d for shape in shapes.values() for d in shape), default=0)
    bound = max(len(shapes), largest)
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not 0 <= value <= bound:
            raise ModelError(f"{path}: arch_params {key}={value} cannot describe the {len(shapes)} tensors in the "
                             f"file (none larger than {largest}); the metadata is damaged")
    try:
        network = build_network(arch, **stored_arch_params(arch, params))
    except Exception as exc:  # noqa: BLE001 - any constructor failure means metadata this vidstyle cannot build
        reason = " ".join(str(exc).split())[:200]
        raise ModelError(f"{path}: cannot build {arch} with {params}: {reason}") from None
    expected = {name: tuple(t.shape) for name, t in network.state_dict().items()}
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    if missing or unexpected:
        raise ModelError(f"{path}: weights do not match a {arch} network "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    for name, shape in shapes.items():
        if shape != expected[name]:
            raise ModelError(f"{path}: tensor {name} has shape {shape}, expected {expected[name]}")
    return network


def load_model_file(path: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedModel:
    """Load the model file at ``path``; the network is in eval mode on ``device``.

    Names are resolved by the registry (:func:`vidstyle.models.registry.load_model`).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    meta = read_metadata(path)
    network = build_checked_network(path, meta, read_header(path))
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{path} is corrupt: {exc}") from exc
    for k, v in state.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise ModelError(f"{path}: tensor {k} holds NaN or infinite values (a diverged or damaged model); "
                             "it would draw a black picture")
    network.load_state_dict(state)
    network.eval().requires_grad_(False)
    return LoadedModel(network=network.to(device), metadata=meta, path=path, name=path.stem)
