"""Exact rewrites of a trained transform network that make inference cheaper.

``fold_upsampling``: nearest-neighbour ×2 upsampling followed by a reflection-padded 3×3 convolution
(the quality network's decoder) equals four 2×2 convolutions on the low-resolution input, one per output
phase, interleaved. The upsampled tensor is never built and the convolutions do 4/9 of the work.
Reflection padding of the upsampled tensor by one pixel is replication padding of the input (the border
row is doubled by the upsampling), so borders match too. Outputs agree to float rounding.
"""
from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from vidstyle.models.networks import UpsampleConv


class PhaseUpsampleConv(nn.Module):
    """``conv3x3(reflect_pad(upsample_nearest_x2(x)))`` as four 2×2 convolutions on ``x``.

    forward: (B, Cin, H, W) -> (B, Cout, 2H, 2W).
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        if conv.kernel_size != (3, 3) or conv.stride != (1, 1) or conv.groups != 1 or conv.padding != (0, 0):
            raise ValueError("only an unpadded 3×3 stride-1 convolution folds into phase convolutions")
        w = conv.weight.detach()  # (Cout, Cin, 3, 3)
        # Along one axis, phase 0 reads input offsets (-1, 0) with taps (w0, w1 + w2);
        # phase 1 reads (0, +1) with taps (w0 + w1, w2).
        rows = [torch.stack([w[:, :, 0], w[:, :, 1] + w[:, :, 2]], 2), torch.stack([w[:, :, 0] + w[:, :, 1], w[:, :, 2]], 2)]
        kernels = []
        for a in range(2):
            for b in range(2):
                r = rows[a]  # (Cout, Cin, 2, 3): rows combined, columns still the 3 taps
                kernels.append(
                    torch.stack([r[..., 0], r[..., 1] + r[..., 2]], 3) if b == 0 else torch.stack([r[..., 0] + r[..., 1], r[..., 2]], 3)
                )
        self.weight = nn.Parameter(torch.cat(kernels, 0), requires_grad=False)  # (4*Cout, Cin, 2, 2)
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().repeat(4), requires_grad=False)
        self.out_channels = conv.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        c = self.out_channels
        padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
        phases = []
        for i, (a, bb) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            weight = self.weight[i * c:(i + 1) * c]
            bias = None if self.bias is None else self.bias[i * c:(i + 1) * c]
            phases.append(F.conv2d(padded[:, :, a:a + h + 1, bb:bb + w + 1], weight, bias))
        # (4, B, C, H, W) -> (B, C, H, 2, W, 2) -> (B, C, 2H, 2W): output pixel (2i+a, 2j+b) is phase (a, b).
        y = torch.stack(phases, 0).view(2, 2, b, c, h, w).permute(2, 3, 4, 0, 5, 1)
        return y.reshape(b, c, 2 * h, 2 * w)


def fold_upsampling(network: nn.Module) -> nn.Module:
    """A copy of ``network`` with every UpsampleConv (3×3) replaced by :class:`PhaseUpsampleConv`."""
    network = copy.deepcopy(network)
    for module in list(network.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, UpsampleConv):
                pad, conv = child.conv[0], child.conv[1]
                if getattr(pad, "padding", None) == (1, 1, 1, 1) and conv.kernel_size == (3, 3):
                    setattr(module, child_name, PhaseUpsampleConv(conv))
    return network


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
