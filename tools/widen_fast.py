"""Widen a `fast` model (more channels) without changing what it computes, as a start for fine-tuning.

Net2Wider with zero-initialised fan-in (Chen et al. 2016): every old weight keeps its place; the new
channels get fresh random filters, and every layer that reads a new channel gets a zero weight for it, so
the widened net's output equals the old one's exactly while gradients reach all the new weights.

    .venv/bin/python tools/widen_fast.py models/mosaic-fast.safetensors runs/s4/mosaic-w64-init.safetensors --channels 64
"""
from __future__ import annotations

import argparse

import torch

from vidstyle.models import build_network, load_model, save_model, stored_arch_params


def widen_state(old: dict[str, torch.Tensor], new: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for name, fresh in new.items():
        tensor = fresh.clone()
        before = old[name]
        if tensor.dim() == 4 and tensor.shape[1] > before.shape[1]:
            tensor[:, before.shape[1]:] = 0.0  # nothing reads the new channels yet
        index = tuple(slice(0, n) for n in before.shape)
        tensor[index] = before
        out[name] = tensor
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--channels", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    old = load_model(args.source)
    meta = dict(old.metadata)
    if meta["architecture"] != "fast":
        raise SystemExit(f"{args.source}: not a fast model")
    params = stored_arch_params("fast", meta["arch_params"])
    if args.channels <= params["channels"]:
        raise SystemExit(f"{args.source} already has {params['channels']} channels")
    params["channels"] = args.channels
    torch.manual_seed(args.seed)
    new = build_network("fast", **params)
    new.load_state_dict(widen_state(old.network.state_dict(), new.state_dict()))
    x = torch.rand(1, 3, 96, 128)
    with torch.no_grad():
        diff = (new.eval()(x) - old.network(x)).abs().max().item()
    if diff > 1e-4:
        raise SystemExit(f"widening changed the output by {diff}")
    meta["arch_params"] = params
    meta["converted_from"] = old.name
    save_model(args.out, new, meta)
    print(f"{args.out}: {old.name} widened to {args.channels} channels (max output change {diff:.1e})")


if __name__ == "__main__":
    main()
