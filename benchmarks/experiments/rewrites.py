"""An exact rewrite tried for GPU inference and not adopted: the quality net's 3-channel 9×9 convolutions
run on ``factor``×``factor``-packed pixels (space-to-depth), so their channel counts suit tensor cores.

Used by ``gpu_variants.py`` (variants ``fold+s2d``, ``fold+s2d4``), which compares each variant's output with
the original network's; ``python benchmarks/experiments/rewrites.py`` checks the rewrite's exactness on the CPU.
"""
from __future__ import annotations

import copy
import sys

import torch
import torch.nn.functional as F
from torch import nn


class SpaceToDepthConv(nn.Module):
    """An unpadded stride-1 k×k convolution run on ``factor``×``factor``-packed pixels (exact).

    The input is packed with ``pixel_unshuffle`` (Cin → Cin·f² channels at 1/f resolution), convolved with a
    k'×k' kernel (k' = ceil((k + f - 1) / f)) into Cout·f² channels, and unpacked with ``pixel_shuffle``.
    For the quality net's 9×9 convolutions with 3 input or output channels this turns tensor-core-hostile
    shapes (3 channels) into wide ones (12 → 128 or 128 → 12 at factor 2). Needs (H - k + 1) and (W - k + 1)
    divisible by ``factor``; other sizes fall back to the original convolution.
    forward: (B, Cin, H, W) -> (B, Cout, H - k + 1, W - k + 1).
    """

    def __init__(self, conv: nn.Conv2d, factor: int = 2) -> None:
        super().__init__()
        k = conv.kernel_size[0]
        if conv.kernel_size != (k, k) or conv.stride != (1, 1) or conv.groups != 1 or conv.padding != (0, 0) or conv.dilation != (1, 1):
            raise ValueError("only an unpadded, undilated stride-1 square convolution can be packed")
        f = factor
        kp = -(-(k + f - 1) // f)
        w = conv.weight.detach()
        cout, cin = w.shape[:2]
        packed = w.new_zeros(cout, f, f, cin, f, f, kp, kp)  # (co, a, b, ci, r, s, P, Q)
        for a in range(f):
            for r in range(f):
                for p in range(kp):
                    u = f * p + r - a
                    if not 0 <= u < k:
                        continue
                    for b in range(f):
                        for s in range(f):
                            for q in range(kp):
                                v = f * q + s - b
                                if 0 <= v < k:
                                    packed[:, a, b, :, r, s, p, q] = w[:, :, u, v]
        self.weight = nn.Parameter(packed.reshape(cout * f * f, cin * f * f, kp, kp), requires_grad=False)
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().repeat_interleave(f * f), requires_grad=False)
        self.original = conv
        self.factor, self.kernel, self.packed_kernel = f, k, kp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f, k, kp = self.factor, self.kernel, self.packed_kernel
        h, w = x.shape[-2] - k + 1, x.shape[-1] - k + 1
        if h % f or w % f:
            return self.original(x)
        # Packed rows needed: h/f + kp - 1, i.e. f*(h/f + kp - 1) input rows (zeros past the end are never used).
        need_h, need_w = f * (h // f + kp - 1), f * (w // f + kp - 1)
        x = F.pad(x, (0, need_w - x.shape[-1], 0, need_h - x.shape[-2]))
        y = F.conv2d(F.pixel_unshuffle(x, f), self.weight, self.bias)
        return F.pixel_shuffle(y, f)


def pack_rgb_convolutions(network: nn.Module, factor: int = 2, min_kernel: int = 5) -> nn.Module:
    """A copy of ``network`` with its large-kernel 3-channel convolutions (RGB in or out) as SpaceToDepthConv."""
    network = copy.deepcopy(network)
    for module in list(network.modules()):
        for name, child in list(module.named_children()):
            if (isinstance(child, nn.Conv2d) and child.kernel_size[0] >= min_kernel and child.groups == 1
                    and child.stride == (1, 1) and child.padding == (0, 0) and 3 in (child.in_channels, child.out_channels)):
                setattr(module, name, SpaceToDepthConv(child, factor))
    return network


def check_exact() -> int:
    """The packed network computes what the original does (random weights, odd and even sizes)."""
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from vidstyle.models import build_network

    torch.manual_seed(0)
    net = build_network("quality", channels=8, residual_blocks=1).eval()
    for factor in (2, 4):
        packed = pack_rgb_convolutions(net, factor=factor)
        assert sum(isinstance(m, SpaceToDepthConv) for m in packed.modules()) == 2  # the 9×9 RGB in and out
        for shape in ((1, 3, 64, 96), (1, 3, 37, 50)):
            x = torch.rand(shape)
            with torch.no_grad():
                diff = float((net(x) - packed(x)).abs().max())
            print(f"factor {factor}, input {shape}: max |difference| {diff:.2e}")
            if diff > 1e-5:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(check_exact())
