"""Network surgery on trained nets: a new architecture that starts from the old weights, for fine-tuning.

Each operation takes a trained network and its constructor parameters and returns a new network and its
parameters; nothing is read from or written to disk here (recipes run them as ``kind = "tool"`` stages).

- :func:`widen`: more channels, the same function (Net2Wider with zero-initialised fan-in, Chen et al. 2016).
- :func:`project_first`: the project-first decoder (``project_first=True``), nearly the same function.
- :func:`drop_blocks`: fewer residual blocks, a perturbation of the same function.
- :func:`full_res_head`: a full-resolution head in place of the deblocking blur, nearly the same function.
- :func:`head_blur`: the binomial blur inside a full-resolution head (no period-2 grid), a fine-tune's start.
- :func:`drop_head`: a multistyle net without its full-resolution head (the 720p design), a distillation's start.

All but :func:`drop_head` work on ``fast`` nets; it works on ``multistyle`` ones (``TOOL_ARCHITECTURES``).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
import torch.nn as nn

from vidstyle.errors import InputError
from vidstyle.models import build_network
from vidstyle.models.networks import ShuffleUpsample

# The probe image the output change is measured on: (1, 3, 96, 128), values in [0, 1].
_PROBE_SHAPE = (1, 3, 96, 128)
# Widening must not change the output: anything above float32 rounding means the weights were misplaced.
_WIDEN_TOLERANCE = 1e-4


def output_change(old: nn.Module, new: nn.Module, reduce: str = "max") -> float:
    """Largest (``"max"``) or mean absolute difference of the two networks' outputs on a fixed random image."""
    x = torch.rand(*_PROBE_SHAPE, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        diff = (new.eval()(x) - old.eval()(x)).abs()
    return float(diff.max() if reduce == "max" else diff.mean())


def _fast_params(params: dict[str, Any], what: str) -> dict[str, Any]:
    if "channels" not in params or "blocks" not in params:
        raise InputError(f"{what} works on fast networks (with channels and blocks), not on {sorted(params)}")
    return dict(params)


def widen(network: nn.Module, params: dict[str, Any], channels: int, seed: int = 0) -> tuple[nn.Module, dict[str, Any]]:
    """``network`` (a FastNet with ``params``) widened to ``channels``: every old weight keeps its place, the new
    channels get fresh random filters (``seed``) and every layer reading a new channel a zero weight for it, so
    the output is unchanged while gradients reach all new weights. Raises InputError for a narrower target."""
    params = _fast_params(params, "widen")
    if not isinstance(channels, int) or channels <= params["channels"]:
        raise InputError(f"widen: channels must be more than the network's {params['channels']}, got {channels!r}")
    params["channels"] = channels
    torch.manual_seed(seed)
    new = build_network("fast", **params)
    old_state = network.state_dict()
    state = {}
    for name, fresh in new.state_dict().items():
        tensor = fresh.clone()
        before = old_state[name]
        if tensor.dim() == 4 and tensor.shape[1] > before.shape[1]:
            tensor[:, before.shape[1]:] = 0.0  # nothing reads the new channels yet
        tensor[tuple(slice(0, n) for n in before.shape)] = before
        state[name] = tensor
    new.load_state_dict(state)
    change = output_change(network, new)
    if change > _WIDEN_TOLERANCE:
        raise RuntimeError(f"widening changed the output by {change:.2e}")  # a bug here, not bad input
    return new, params


def project_first(network: nn.Module, params: dict[str, Any]) -> tuple[nn.Module, dict[str, Any]]:
    """``network`` moved to the project-first decoder. Every weight keeps its place except the first upsampling
    stage: its 1×1 projection (after the wide depthwise filter) becomes the up-front projection and the new
    narrow separable convolution starts as the identity; only the dropped wide depthwise filter is lost, which a
    short fine-tune relearns. Raises InputError if the network already has that decoder."""
    params = _fast_params(params, "project_first")
    if params.get("project_first"):
        raise InputError("project_first: the network already has the project-first decoder")
    params["project_first"] = True
    new = build_network("fast", **params)
    state = network.state_dict()
    target = new.state_dict()
    with torch.no_grad():
        for name, tensor in target.items():
            if not name.startswith("decoder.0."):
                tensor.copy_(state[name])
        target["decoder.0.project.weight"].copy_(state["decoder.0.conv.2.weight"])
        target["decoder.0.project.bias"].copy_(state["decoder.0.conv.2.bias"])
        depthwise = target["decoder.0.conv.1.weight"]
        depthwise.zero_()
        depthwise[:, 0, 1, 1] = 1.0
        pointwise = target["decoder.0.conv.2.weight"]
        pointwise.copy_(torch.eye(pointwise.shape[0])[:, :, None, None])
        target["decoder.0.conv.2.bias"].zero_()
    new.load_state_dict(target)
    return new, params


def drop_blocks(network: nn.Module, params: dict[str, Any], keep: Sequence[int]) -> tuple[nn.Module, dict[str, Any]]:
    """``network`` with only the residual blocks ``keep`` (indices, in order). Each block computes x + f(x), so
    this perturbs the function rather than replacing it; a short fine-tune recovers the look (each 48-channel
    block costs about 2.7 ms per 1280×720 frame on 2 cores). Raises InputError for invalid indices."""
    params = _fast_params(params, "drop_blocks")
    keep = list(keep)
    if (not keep or len(set(keep)) != len(keep)
            or any(not isinstance(i, int) or not 0 <= i < params["blocks"] for i in keep)):
        raise InputError(f"drop_blocks: keep must name distinct blocks among 0..{params['blocks'] - 1}, got {keep}")
    params["blocks"] = len(keep)
    new = build_network("fast", **params)
    state = {}
    for name, tensor in network.state_dict().items():
        if name.startswith("residuals."):
            _, index, rest = name.split(".", 2)
            if int(index) not in keep:
                continue
            name = f"residuals.{keep.index(int(index))}.{rest}"
        state[name] = tensor
    new.load_state_dict(state)
    return new, params


# full_res_head: the old RGB is carried through the ReLU shifted by this much (outputs below -offset are clipped).
_HEAD_OFFSET = 1.0


def full_res_head(network: nn.Module, params: dict[str, Any], channels: int = 8,
                  seed: int = 0) -> tuple[nn.Module, dict[str, Any]]:
    """``network`` (a fast net ending in pixel shuffle + blur) with a full-resolution head of ``channels``
    channels (``head_channels``): the shuffle's first three channels carry the old RGB (shifted up by 1 to pass
    the ReLU) and the head's 3×3 conv starts as the old binomial blur on them (shifted back), so the output is
    unchanged wherever the old decoder drew values above -1: everywhere for a no-skip net, whose decoder draws
    the colours (a global skip's residual can fall lower; there the head starts close, not equal). The other
    channels get fresh ICNR filters (``seed``) and a zero weight in the head, so gradients reach them.
    Raises InputError for a network without the blur or with a head."""
    params = _fast_params(params, "full_res_head")
    if params.get("head_channels") or not params.get("deblock", True):
        raise InputError("full_res_head works on a fast net that ends in pixel shuffle and the deblocking blur")
    if not isinstance(channels, int) or channels < 4:
        raise InputError(f"full_res_head: channels must be an integer of at least 4, got {channels!r}")
    params.update(head_channels=channels, deblock=False)
    torch.manual_seed(seed)
    new = build_network("fast", **params)
    new.load_state_dict({k: v for k, v in network.state_dict().items() if not k.startswith("decoder.3.")},
                        strict=False)  # everything but the shuffle is the same layer in the same place
    old_shuffle, shuffle, head = network.decoder[3].conv[1], new.decoder[3].conv[1], new.decoder[-1][1]
    rgb = old_shuffle.out_channels  # 3 colours x 4 sub-pixels: the shuffle's first output channels
    with torch.no_grad():
        shuffle.weight[:rgb] = old_shuffle.weight
        shuffle.bias[:rgb] = old_shuffle.bias + _HEAD_OFFSET
        head.weight.zero_()
        for c in range(3):
            head.weight[c, c] = network.decoder[-1].kernel[c, 0]  # the blur the head replaces
        head.bias.fill_(-_HEAD_OFFSET)
    return new, params


def head_blur(network: nn.Module, params: dict[str, Any]) -> tuple[nn.Module, dict[str, Any]]:
    """``network`` (a fast net with a full-resolution head) with the binomial blur between the head's ReLU and
    its conv (``head_blur``): every weight keeps its place, so the output is the old one minus its period-2
    pattern and a little softer; a short fine-tune with the Gram loss sharpens it again. Raises InputError for
    a network without a head or with the blur already."""
    params = _fast_params(params, "head_blur")
    if not params.get("head_channels") or params.get("head_blur"):
        raise InputError("head_blur works on a fast net with a full-resolution head (head_channels) and no head blur")
    params["head_blur"] = True
    new = build_network("fast", **params)
    state = network.state_dict()
    last = f"decoder.{len(network.decoder) - 1}."  # the head's conv moves one place down, after the blur
    new.load_state_dict({k.replace(last, f"decoder.{len(new.decoder) - 1}.", 1) if k.startswith(last) else k: v
                         for k, v in state.items()})
    return new, params


def drop_head(network: nn.Module, params: dict[str, Any], seed: int = 0) -> tuple[nn.Module, dict[str, Any]]:
    """``network`` (a multistyle net with a full-resolution head) without the head: the pixel shuffle draws RGB
    and the binomial blur follows it (``head=0``). Encoder, residual blocks, the first upsampling stage and every
    style's normalisation rows keep their weights; the new shuffle starts from fresh ICNR filters (``seed``),
    so the output changes and a distillation from the headed net teaches it back. Raises InputError for a
    network without a head."""
    if not params.get("styles") or not params.get("head"):
        raise InputError("drop_head works on a multistyle net with a full-resolution head (head > 0)")
    params = {**params, "head": 0, "head_blur": True}
    torch.manual_seed(seed)
    new = build_network("multistyle", **params)
    # The head starts at the decoder's pixel shuffle: every weight before it keeps its place.
    head_at = next(i for i, m in enumerate(network.decoder) if isinstance(m, ShuffleUpsample))
    kept = {k: v for k, v in network.state_dict().items()
            if not (k.startswith("decoder.") and int(k.split(".")[1]) >= head_at)}
    missing, unexpected = new.load_state_dict(kept, strict=False)
    if unexpected or not all(k.startswith("decoder.") and int(k.split(".")[1]) >= head_at for k in missing):
        raise InputError(f"drop_head: the network's body does not match a head-less multistyle net "
                         f"(not kept: {unexpected[:3]}, not filled: {missing[:3]})")
    return new, params


# Recipe tool name -> operation; options are the keyword arguments after (network, params).
SURGERIES: dict[str, Callable[..., tuple[nn.Module, dict[str, Any]]]] = {
    "widen": widen,
    "project_first": project_first,
    "drop_blocks": drop_blocks,
    "full_res_head": full_res_head,
    "head_blur": head_blur,
    "drop_head": drop_head,
}
# The architecture each tool works on (the rest: fast).
TOOL_ARCHITECTURES: dict[str, str] = {"drop_head": "multistyle"}


def resulting_params(tool: str, params: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The constructor parameters ``tool`` produces from ``params`` without running it (for recipe plans)."""
    params = dict(params)
    if tool == "widen":
        params["channels"] = options.get("channels")
    elif tool == "project_first":
        params["project_first"] = True
    elif tool == "drop_blocks":
        params["blocks"] = len(options.get("keep") or [])
    elif tool == "full_res_head":
        params.update(head_channels=options.get("channels", 8), deblock=False)
    elif tool == "head_blur":
        params["head_blur"] = True
    elif tool == "drop_head":
        params.update(head=0, head_blur=True)
    return params
