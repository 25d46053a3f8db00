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
