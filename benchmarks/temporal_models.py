"""Stability of the zoo's networks under small synthetic camera motion (the training-time temporal loss).

    .venv/bin/python benchmarks/temporal_models.py [NAME ...]

8 random 256-px crops of ../shared/media/train (seed 7), a random affine + elastic motion (vidstyle.train.motion,
seed 3) plus noise of std 0.02; prints mean((net(move(x) + noise) − move(net(x)))²) over visible pixels, in
[0, 1] RGB. The identity row is the floor that the added noise alone gives.
"""
from __future__ import annotations

import argparse
import sys

import torch

from shared_media import media_root

from vidstyle.losses import temporal_loss
from vidstyle.models import load_model
from vidstyle.train.data import PhotoCrops
from vidstyle.train.motion import inside, move, random_flow

MEDIA = media_root()
DEFAULT = [
    "starry_night-fast-painted", "starry_night-fast-painted-temporal", "starry_night-quality", "starry_night-quality-temporal",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=DEFAULT, help="zoo names or .safetensors paths")
    args = parser.parse_args()
    if not (MEDIA / "train").is_dir():
        print(f"training photos not found under {MEDIA}; set VIDSTYLE_MEDIA; nothing measured")
        return 0
    torch.set_num_threads(2)
    x = PhotoCrops(MEDIA / "train", 256, seed=7).batch(8)
    g = torch.Generator().manual_seed(3)
    flow = random_flow(8, 256, 256, g)
    moved = (move(x, flow) + 0.02 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    visible = inside(flow)
    for name in args.models:
        net = load_model(name).network
        with torch.no_grad():
            err = temporal_loss(net(moved).clamp(0, 1), move(net(x).clamp(0, 1), flow), visible)
        print(f"{name:32s} temporal error {float(err):.5f}")
    with torch.no_grad():
        print(f"{'identity (noise only)':32s} temporal error {float(temporal_loss(moved, move(x, flow), visible)):.5f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
