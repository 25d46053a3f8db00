"""Feed-forward transform networks: ``quality`` (Johnson et al. 2016) and ``fast`` (our real-time CPU design).

Both map (B, 3, H, W) float RGB in [0, 1] to (B, 3, H, W) float RGB, nominally in [0, 1] (callers clamp).
Any H and W work, odd ones too: the input is reflection-padded up to a multiple of the network's stride
and the output is cropped back, so no zero border ever enters the network (zero padding is what draws the
bright lines along the borders of tiny nets).
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from vidstyle.errors import ModelError


def _norm(kind: Union[str, Callable[[int], nn.Module]], channels: int) -> nn.Module:
    if callable(kind):  # a factory, e.g. conditional instance norm bound to a style count
        return kind(channels)
    if kind == "instance":
        # affine=True as in pytorch/examples; no running stats, so train and eval behave the same.
        return nn.InstanceNorm2d(channels, affine=True)
    raise ValueError(f"unknown normalisation {kind!r}: instance, or a factory of normalisation modules")


class ReflectConv(nn.Sequential):
    """Reflection padding followed by a convolution (keeps H/stride × W/stride)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, bias: bool = True) -> None:
        super().__init__(
            nn.ReflectionPad2d(kernel // 2),
            nn.Conv2d(cin, cout, kernel, stride=stride, groups=groups, bias=bias),
        )


class StrideMultiplePad(nn.Module):
    """Base class: reflection-pads the input to a multiple of ``stride`` and crops the output back."""

    stride: int = 1

    def body(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, H, W) RGB in [0, 1] -> (B, 3, H, W) RGB, nominally [0, 1]."""
        h, w = x.shape[-2:]
        pad_h = (-h) % self.stride
        pad_w = (-w) % self.stride
        if pad_h or pad_w:
            # Reflection needs pad < size; replicate covers the rare tiny input where it does not.
            mode = "reflect" if pad_h < h and pad_w < w else "replicate"
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        y = self.body(x)
        if pad_h or pad_w:
            y = y[..., :h, :w]
        return y


# ---------------------------------------------------------------------------------------------------------
# quality: Johnson et al. 2016, as pytorch/examples fast_neural_style (instance norm, upsample-then-conv)
# ---------------------------------------------------------------------------------------------------------


class ResidualBlock(nn.Module):
    """Two 3×3 convolutions with instance norm and an identity shortcut (He et al. 2016)."""

    def __init__(self, channels: int, norm: str = "instance") -> None:
        super().__init__()
        self.conv1 = ReflectConv(channels, channels, 3)
        self.in1 = _norm(norm, channels)
        self.conv2 = ReflectConv(channels, channels, 3)
        self.in2 = _norm(norm, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.in1(self.conv1(x)))
        return x + self.in2(self.conv2(y))


class UpsampleConv(nn.Module):
    """Nearest-neighbour ×2 upsampling then a convolution: no transposed-conv checkerboard (Odena et al. 2016)."""

    def __init__(self, cin: int, cout: int, kernel: int) -> None:
        super().__init__()
        self.conv = ReflectConv(cin, cout, kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class QualityNet(StrideMultiplePad):
    """Johnson et al. 2016 transform network with instance normalisation (Ulyanov et al. 2016).

    Same layers as pytorch/examples ``TransformerNet``: 9×9 conv (32), two stride-2 3×3 convs (64, 128),
    five residual blocks (128), two upsample-then-conv stages (64, 32) and a 9×9 output conv.
    About 1.68 M parameters. Inputs/outputs are RGB in [0, 1] (the pytorch example uses [0, 255]).
    """

    stride = 4

    def __init__(self, channels: int = 32, residual_blocks: int = 5) -> None:
        super().__init__()
        norm = "instance"
        c1, c2, c3 = channels, channels * 2, channels * 4
        self.encoder = nn.Sequential(
            ReflectConv(3, c1, 9), _norm(norm, c1), nn.ReLU(),
            ReflectConv(c1, c2, 3, stride=2), _norm(norm, c2), nn.ReLU(),
            ReflectConv(c2, c3, 3, stride=2), _norm(norm, c3), nn.ReLU(),
        )
        self.residuals = nn.Sequential(*[ResidualBlock(c3, norm) for _ in range(residual_blocks)])
        self.decoder = nn.Sequential(
            UpsampleConv(c3, c2, 3), _norm(norm, c2), nn.ReLU(),
            UpsampleConv(c2, c1, 3), _norm(norm, c1), nn.ReLU(),
            ReflectConv(c1, 3, 9),
        )

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.residuals(self.encoder(x)))


# ---------------------------------------------------------------------------------------------------------
# fast: our real-time CPU design
# ---------------------------------------------------------------------------------------------------------


class SeparableConv(nn.Sequential):
    """Depthwise 3×3 (reflection padded) then pointwise 1×1: ~9× fewer multiply-adds than a full 3×3."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(
            nn.ReflectionPad2d(1),
            nn.Conv2d(cin, cin, 3, groups=cin, bias=False),
            nn.Conv2d(cin, cout, 1),
        )


class SeparableResidual(nn.Module):
    """Residual block of two depthwise-separable convolutions."""

    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.conv1 = SeparableConv(channels, channels)
        self.norm1 = _norm(norm, channels)
        self.conv2 = SeparableConv(channels, channels)
        self.norm2 = _norm(norm, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        return x + self.norm2(self.conv2(y))


class SmoothUpsample(nn.Module):
    """Bilinear ×2 upsampling then a separable convolution.

    Bilinear interpolation has no period-2 structure of its own (nearest-neighbour and pixel shuffle
    without ICNR do), so the decoder cannot paint a stride-periodic grid from the start of training.
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = SeparableConv(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))


class ProjectUpsample(nn.Module):
    """1×1 projection cin → cout at the low resolution, bilinear ×2, then a separable convolution.

    The same function class as :class:`SmoothUpsample` followed by a projection, minus the wide depthwise
    stage: the 1×1 convolution commutes with bilinear interpolation, so doing it first means only ``cout``
    channels (not ``cin``) are interpolated and filtered at the doubled resolution. In the fast net
    (48 → 16 channels) that is 0.86–0.91× the time at 720p under OpenVINO bf16 on 2 cores (models/README.md).
    """

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.project = nn.Conv2d(cin, cout, 1)
        self.conv = SeparableConv(cout, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(self.project(x), scale_factor=2, mode="bilinear", align_corners=False))


class BinomialBlur(nn.Module):
    """Fixed 3×3 binomial filter ([1, 2, 1] ⊗ [1, 2, 1] / 16) per channel, reflection padded.

    Its frequency response is exactly zero at 0.5 cycles/pixel, so it removes any period-2 checkerboard that a
    pixel-shuffle layer learns during training (ICNR only prevents one at initialisation), at the cost of a
    slight softening. Not a parameter: nothing of it is stored in model files.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        k = torch.tensor([1.0, 2.0, 1.0])
        kernel = (k[:, None] * k[None, :]) / 16
        self.channels = channels
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).clone(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), self.kernel.to(x.dtype), groups=self.channels)


class ShuffleUpsample(nn.Module):
    """3×3 conv to 4·cout channels then pixel shuffle ×2, ICNR-initialised (Aitken et al. 2017):
    at initialisation each 2×2 output cell is constant, so training starts without a checkerboard."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = ReflectConv(cin, cout * 4, 3)
        conv = self.conv[1]
        with torch.no_grad():
            base = torch.empty(cout, cin, 3, 3)
            nn.init.kaiming_uniform_(base, a=5 ** 0.5)
            conv.weight.copy_(base.repeat_interleave(4, dim=0))
            conv.bias.copy_(conv.bias.view(cout, 4)[:, :1].expand(cout, 4).reshape(-1))
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(x))


class FastNet(StrideMultiplePad):
    """Real-time CPU transform network (stride 4).

    Encoder: reflection-padded 3×3 stride-2 convs 3→c/3→c (full res → 1/4 res).
    Body: ``blocks`` depthwise-separable residual blocks at 1/4 resolution with ``channels`` channels.
    Decoder: bilinear ×2 + separable conv (c → c/3), then an ICNR-initialised 3×3 conv + pixel shuffle straight
    to RGB (nothing wide ever runs at full resolution: half the OpenVINO time at 640×480 of a second bilinear
    stage, benchmarks/experiments/FAST_ARCH_NOTES.md); ``deblock`` follows the shuffle with a fixed binomial
    blur (no period-2 checkerboard). Instance normalisation throughout (batch norm or none were at most 1.2×
    faster with this decoder; docs/design.md).
    ``head_channels`` (> 0): the shuffle draws that many channels at full resolution, then a ReLU
    and a 3×3 conv to RGB replace the fixed blur. The blur alone caps fine strokes (it raises the quality
    net's style ratio from 0.32 to 0.86, docs/design.md); the full-resolution head can draw them, and the
    grid loss keeps it from drawing a checkerboard.
    ``residual_output``: return x + the decoder's output (a global skip), so an untrained net is close to the
    identity. ``project_first``: the first upsampling stage projects to c/3 channels before interpolating
    (:class:`ProjectUpsample`; about 10% faster at 720p); files from before this option load with it off.
    ``head_blur`` (with ``head_channels``): the binomial blur on the head's channels, between its ReLU and its
    conv. Trained with the Gram loss, a bare head learns a period-2 pattern from the shuffle (grid score 2–6
    on photos); the blur's zero at 0.5 cycles/pixel makes that pattern impossible, and the learned conv after
    it can still sharpen every lower frequency, so strokes stay (docs/design.md).
    With the defaults (48 channels, 4 blocks) it has about 34 k parameters.
    """

    stride = 4

    def __init__(self, channels: int = 48, blocks: int = 4, residual_output: bool = True, deblock: bool = True,
                 project_first: bool = True, head_channels: int = 0, head_blur: bool = False) -> None:
        super().__init__()
        norm = "instance"
        self.residual_output = residual_output
        mid = max(8, channels // 3)
        self.encoder = nn.Sequential(
            ReflectConv(3, mid, 3, stride=2), _norm(norm, mid), nn.ReLU(),
            ReflectConv(mid, channels, 3, stride=2), _norm(norm, channels), nn.ReLU(),
        )
        self.residuals = nn.Sequential(*[SeparableResidual(channels, norm) for _ in range(blocks)])
        if head_channels > 0:
            if deblock:
                raise ValueError("head_channels replaces the deblocking blur: pass deblock=False with it")
            last = [ShuffleUpsample(mid, head_channels), nn.ReLU(),
                    *([BinomialBlur(head_channels)] if head_blur else []), ReflectConv(head_channels, 3, 3)]
        elif head_blur:
            raise ValueError("head_blur blurs the full-resolution head: it needs head_channels")
        else:
            # A pixel-shuffle decoder trained for 86 steps drew a period-2 checkerboard (spectral peak ×74 over
            # the background on a smooth gradient, tests/models/test_artifacts.py); the binomial blur removes it.
            last = [ShuffleUpsample(mid, 3)] + ([BinomialBlur(3)] if deblock else [])
        first = ProjectUpsample(channels, mid) if project_first else SmoothUpsample(channels, mid)
        self.decoder = nn.Sequential(first, _norm(norm, mid), nn.ReLU(), *last)

        if residual_output:
            # Start as the identity: the net only has to learn the change the style makes, so content is kept
            # from step 0 and a short CPU training budget goes into the style (the last layer starts near zero).
            with torch.no_grad():
                ends_in_blur = deblock and not head_channels
                for p in self.decoder[-2 if ends_in_blur else -1].parameters():
                    p.mul_(0.1)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        y = self.decoder(self.residuals(self.encoder(x)))
        return x + y if self.residual_output else y


# ---------------------------------------------------------------------------------------------------------
# multistyle: many paintings in one real-time network (conditional instance normalisation)
# ---------------------------------------------------------------------------------------------------------


class ConditionalInstanceNorm(nn.Module):
    """Instance normalisation with a learned scale and shift per style (Dumoulin et al. 2017).

    ``weight`` and ``bias`` are (S, C): row s is style s. The owning network sets ``mix`` (B or 1, S),
    non-negative weights summing to 1, before each forward; the scale and shift are the mix of the rows,
    so blending styles is mixing their rows and a new style is one new row of each.
    """

    def __init__(self, channels: int, num_styles: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_styles, channels))
        self.bias = nn.Parameter(torch.zeros(num_styles, channels))
        self.mix: Optional[torch.Tensor] = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mix = self.mix.to(x.dtype)
        scale, shift = mix @ self.weight.to(x.dtype), mix @ self.bias.to(x.dtype)
        if mix.shape[0] == 1:  # one mix for the whole batch (inference): the fused op, 3x faster on a CPU
            return F.instance_norm(x, weight=scale[0], bias=shift[0])
        return F.instance_norm(x) * scale[:, :, None, None] + shift[:, :, None, None]


class MultiStyleNet(StrideMultiplePad):
    """The real-time network for many paintings at once (stride 4).

    The fast design (depthwise-separable residual blocks at 1/4 resolution, a pixel-shuffle decoder ending in
    the full-resolution head of :class:`FastNet`: ``head`` channels, a ReLU and a 3×3 conv to RGB, which can
    draw the paintings' 1–3-px strokes that a fixed deblocking blur removes) with every normalisation
    conditional on the style. No global skip: the output is drawn from scratch, so the painting's palette
    replaces the photo's (a residual output made keeping the photo's colours the easy way out; see
    docs/design.md). ``head_blur``: the binomial blur between the head's ReLU and its conv, so the shuffle
    cannot draw a period-2 grid (as :class:`FastNet`'s ``head_blur``).
    ``head=0``: no full-resolution head; the shuffle draws RGB and the blur follows it (with ``head_blur``),
    as :class:`FastNet`'s deblocking decoder. At 1280×720 the head is most of the time (docs/benchmarks.md),
    so this is the 720p design.

    forward(x, mix): x (B, 3, H, W) RGB in [0, 1]; mix (B or 1, S) style weights (rows sum to 1), default
    the weights set by :meth:`set_mix` (style 0 at first). Returns (B, 3, H, W) RGB, nominally [0, 1].
    """

    stride = 4

    def __init__(self, styles: list[str], channels: int = 64, blocks: int = 5, mid: int = 24, head: int = 8,
                 head_blur: bool = True) -> None:
        super().__init__()
        if not styles or len(set(styles)) != len(styles):
            raise ValueError("a multistyle network needs a list of distinct style names")
        self.styles = list(styles)
        self.channels, self.blocks, self.mid, self.head, self.head_blur = channels, blocks, mid, head, head_blur
        n = len(self.styles)

        def norm(c: int) -> nn.Module:
            return ConditionalInstanceNorm(c, n)

        self.encoder = nn.Sequential(
            ReflectConv(3, mid, 3, stride=2), norm(mid), nn.ReLU(),
            ReflectConv(mid, channels, 3, stride=2), norm(channels), nn.ReLU(),
        )
        self.residuals = nn.Sequential(*[SeparableResidual(channels, norm) for _ in range(blocks)])
        if head > 0:
            last = [ShuffleUpsample(mid, head), nn.ReLU(), *([BinomialBlur(head)] if head_blur else []),
                    ReflectConv(head, 3, 3)]
            rgb_bias = last[-1][1].bias
        else:
            last = [ShuffleUpsample(mid, 3), *([BinomialBlur(3)] if head_blur else [])]
            rgb_bias = last[0].conv[1].bias
        self.decoder = nn.Sequential(ProjectUpsample(channels, mid), norm(mid), nn.ReLU(), *last)
        with torch.no_grad():  # start at mid-grey rather than black
            rgb_bias.fill_(0.5)
        self.conditional_norms = [m for m in self.modules() if isinstance(m, ConditionalInstanceNorm)]
        initial = torch.zeros(1, n)
        initial[0, 0] = 1.0
        self.register_buffer("active_mix", initial, persistent=False)

    def with_styles(self, names: list[str]) -> tuple["MultiStyleNet", list[int]]:
        """A copy holding this network's styles plus ``names`` (new rows start as the mean of the trained ones),
        and the rows of ``names`` in it. Names it already holds are relearned in place."""
        styles = self.styles + [n for n in names if n not in self.styles]
        params = {"channels": self.channels, "blocks": self.blocks, "mid": self.mid, "head": self.head,
                  "head_blur": self.head_blur}
        grown = MultiStyleNet(styles, **params)
        state = {}
        for key, value in self.state_dict().items():
            if key.endswith((".weight", ".bias")) and value.shape[0] == len(self.styles) and any(
                    key.startswith(prefix) for prefix in self._conditional_prefixes()):
                rows = value.mean(0, keepdim=True).expand(len(styles) - len(self.styles), -1)
                value = torch.cat([value, rows])
            state[key] = value
        grown.load_state_dict(state)
        return grown, [styles.index(n) for n in names]

    def _conditional_prefixes(self) -> list[str]:
        return [name + "." for name, m in self.named_modules() if isinstance(m, ConditionalInstanceNorm)]

    def set_mix(self, mix: torch.Tensor) -> None:
        """Set the default style weights: (S,) or (1, S), non-negative, summing to 1."""
        self.active_mix = mix.reshape(1, -1).to(self.active_mix)

    def forward(self, x: torch.Tensor, mix: Optional[torch.Tensor] = None) -> torch.Tensor:
        mix = self.active_mix if mix is None else mix
        for layer in self.conditional_norms:
            layer.mix = mix
        return super().forward(x)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.residuals(self.encoder(x)))


ARCHITECTURES: dict[str, type[nn.Module]] = {"quality": QualityNet, "fast": FastNet, "multistyle": MultiStyleNet}


# Parameters added after models were first saved, with the value that reproduces those older files.
_LEGACY_DEFAULTS: dict[str, dict[str, Any]] = {"fast": {"project_first": False},
                                                "multistyle": {"head_blur": False}}


# Options that were removed once no shipped model used another value: files that record the one value left
# still load (the option is dropped); any other value names what is missing.
_RETIRED_OPTIONS: dict[str, dict[str, Any]] = {"fast": {"norm": "instance", "last_upsample": "shuffle"},
                                               "quality": {"norm": "instance"}}


def stored_arch_params(arch: str, params: dict[str, Any]) -> dict[str, Any]:
    """The constructor parameters for ``params`` read from a model file: parameters the file predates
    get the value the network had when it was written, not today's default. ModelError for a file made with
    an experimental option this version no longer builds."""
    retired = _RETIRED_OPTIONS.get(arch, {})
    for name, kept in retired.items():
        if name in params and params[name] != kept:
            raise ModelError(f"this {arch} network was made with {name}={params[name]!r}, an experimental option "
                             f"vidstyle no longer builds (only {name}={kept!r})")
    return {**_LEGACY_DEFAULTS.get(arch, {}), **{k: v for k, v in params.items() if k not in retired}}


def build_network(arch: str, **params: Any) -> nn.Module:
    """Build an untrained network by architecture name (``fast`` or ``quality``) and its parameters."""
    try:
        cls = ARCHITECTURES[arch]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}: use one of {sorted(ARCHITECTURES)}") from None
    return cls(**params)


def count_parameters(network: nn.Module) -> int:
    return sum(p.numel() for p in network.parameters())


def full_arch_params(arch: str, **overrides: Any) -> dict[str, Any]:
    """Every constructor parameter of ``arch`` with its value (defaults filled in), for model metadata,
    so a saved model rebuilds identically even if a default changes later."""
    import inspect

    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}: use one of {sorted(ARCHITECTURES)}")
    sig = inspect.signature(ARCHITECTURES[arch].__init__)
    accepted = [n for n in sig.parameters if n != "self"]
    params = {n: p.default for n, p in sig.parameters.items() if n != "self" and p.default is not inspect.Parameter.empty}
    unknown = set(overrides) - set(accepted)
    if unknown:
        raise ValueError(f"{arch} has no parameter(s) {sorted(unknown)}; it takes {sorted(accepted)}")
    params.update(overrides)
    return params
