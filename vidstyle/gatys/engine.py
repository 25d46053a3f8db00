"""The reusable core of Gatys et al. style transfer: optimise one image against precomputed targets.

The targets (content features, blended style Gram matrices) are computed once and reused for every
step, and across frames by the temporal mode (Ruder et al. 2016), which adds its own term through
``extra_loss(image) -> scalar``. Images are (1, 3, H, W) float32 RGB tensors in [0, 1] on the
engine's device.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from vidstyle.gatys.options import GatysOptions
from vidstyle.losses import VGG19Features, content_loss, gram_matrix, style_loss, tv_loss
from vidstyle.runtime.precision import autocast_dtype
from vidstyle.utils.device import resolve_device

ExtraLoss = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class GatysTargets:
    """What the optimised image is pulled towards.

    content: {layer: (1, C, H_l, W_l) float32 features of the content image}
    style_grams: {layer: (1, C, C) float32 Gram matrices, already blended over the style images}
    content_norm / style_norm: {layer: factor} applied to that layer's loss; :func:`normalisers` sets them
        to 1 / mean(target²) so every layer counts alike whatever its activation scale (raw VGG19 layers
        differ by four orders of magnitude), and the weights mean the same for any image size or
        VGG19 weights file. Missing layers count 1.
    """

    content: dict[str, torch.Tensor]
    style_grams: dict[str, torch.Tensor]
    content_norm: dict[str, float] = field(default_factory=dict)
    style_norm: dict[str, float] = field(default_factory=dict)


@dataclass
class LossTerms:
    """Weighted loss terms of one evaluation (plain floats, for progress bars and logs)."""

    content: float
    style: float
    tv: float
    extra: float
    total: float

    def as_dict(self) -> dict[str, float]:
        return {"content": self.content, "style": self.style, "tv": self.tv, "extra": self.extra, "total": self.total}


StepCallback = Callable[[int, torch.Tensor, LossTerms], None]
"""callback(step, image, terms): ``step`` counts from 1; ``image`` is the current (1, 3, H, W) tensor."""


class GatysEngine:
    """VGG19 loss network plus the optimiser loop, configured by :class:`GatysOptions`.

    One engine serves many renders (scales, frames): build it once, compute targets per content image,
    then call :meth:`optimize`.
    """

    def __init__(self, options: GatysOptions | None = None, vgg: VGG19Features | None = None) -> None:
        self.options = options or GatysOptions()
        self.device = resolve_device(self.options.device)
        # 'auto' on CUDA: bf16 (float32's exponent range) where the GPU has it, else fp32.
        self.autocast_dtype = autocast_dtype(self.options.precision, self.device, cuda_auto="bf16")
        self.content_layers = tuple(self.options.content_layers)
        self.style_layers = tuple(self.options.style_layers)
        self.layers = tuple(dict.fromkeys(self.content_layers + self.style_layers))
        self.vgg = (vgg or VGG19Features(self.layers)).to(self.device)
        # channels_last lets oneDNN (CPU) and cuDNN pick their fastest convolution kernels.
        self.memory_format = torch.channels_last if self.options.channels_last else torch.contiguous_format
        self.vgg = self.vgg.to(memory_format=self.memory_format)

    # -- features and targets -------------------------------------------------------------------------

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def features(self, image: torch.Tensor, layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """VGG19 activations {layer: (B, C, H_l, W_l) float32} of (B, 3, H, W) RGB in [0, 1]."""
        x = image.to(self.device).contiguous(memory_format=self.memory_format)
        with self._autocast():
            out = self.vgg(x, layers or self.layers)
        return {name: f.float() for name, f in out.items()}

    @torch.no_grad()
    def content_targets(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        """{content layer: (1, C, H_l, W_l)} features of the (1, 3, H, W) content image."""
        if not self.content_layers:
            return {}
        return self.features(content, self.content_layers)

    @torch.no_grad()
    def style_grams(
        self,
        styles: Sequence[torch.Tensor],
        weights: Sequence[float] | None = None,
        mask: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Blended Gram targets {style layer: (1, C, C)} of style images, each (1, 3, H_i, W_i) in [0, 1].

        Blending the Gram matrices with weights that sum to 1 gives the same gradients as the weighted
        sum of one style loss per image (they differ by a constant), at the cost of one loss.
        """
        if not styles:
            raise ValueError("at least one style image is needed")
        weights = list(weights) if weights is not None else [1.0 / len(styles)] * len(styles)
        blended: dict[str, torch.Tensor] = {}
        for style, w in zip(styles, weights):
            feats = self.features(style, self.style_layers)
            for name in self.style_layers:
                g = gram_matrix(feats[name], mask) * w
                blended[name] = g if name not in blended else blended[name] + g
        return blended

    def targets(
        self, content: torch.Tensor, styles: Sequence[torch.Tensor], weights: Sequence[float] | None = None
    ) -> GatysTargets:
        """Content features and blended style Grams (normalised when options.normalize_layers), computed once."""
        targets = GatysTargets(self.content_targets(content), self.style_grams(styles, weights))
        if self.options.normalize_layers:
            targets.content_norm = normalisers(targets.content)
            targets.style_norm = normalisers(targets.style_grams)
        return targets

    def retarget(self, targets: GatysTargets, content: torch.Tensor) -> GatysTargets:
        """Targets for a new content image (e.g. the next video frame) that keep the style Grams.

        Only the content features (and their normalisers) are recomputed: one VGG19 pass.
        """
        features = self.content_targets(content)
        norm = normalisers(features) if self.options.normalize_layers else {}
        return GatysTargets(features, targets.style_grams, norm, targets.style_norm)

    # -- loss and optimisation ------------------------------------------------------------------------

    def loss(
        self,
        image: torch.Tensor,
        targets: GatysTargets,
        extra_loss: ExtraLoss | None = None,
        content_mask: torch.Tensor | None = None,
        style_mask: torch.Tensor | None = None,
        tv_mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, LossTerms]:
        """Total weighted loss (scalar tensor, differentiable w.r.t. ``image``) and its terms as floats.

        Masks are (1, 1, H, W) in [0, 1]; each restricts its own term (see :mod:`vidstyle.losses`).
        """
        opts = self.options
        feats = self.features(image)
        zero = image.new_zeros(())
        c_loss = zero
        for name, target in targets.content.items():
            c_loss = c_loss + content_loss(feats[name], target, content_mask) * targets.content_norm.get(name, 1.0)
        c_loss = c_loss * opts.content_weight
        layer_weights = {name: w * targets.style_norm.get(name, 1.0) for name, w in opts.layer_weights.items()}
        s_loss = style_loss(feats, targets.style_grams, layer_weights, style_mask) * opts.style_weight
        t_loss = tv_loss(image, tv_mask) * opts.tv_weight if opts.tv_weight > 0 else zero
        e_loss = extra_loss(image) if extra_loss is not None else zero
        total = c_loss + s_loss + t_loss + e_loss
        terms = LossTerms(
            float(c_loss.detach()), float(s_loss.detach()), float(t_loss.detach()), float(e_loss.detach()),
            float(total.detach()),
        )
        return total, terms

    def stepper(self, init: torch.Tensor, targets: GatysTargets) -> Callable[[], float]:
        """A function that advances an L-BFGS/Adam optimisation of ``init`` by one step and returns the loss.

        For benchmarks that interleave steps; :meth:`optimize` is the normal entry point.
        """
        image, optimizer = self._start(init)

        def step() -> float:
            def closure() -> torch.Tensor:
                optimizer.zero_grad(set_to_none=True)
                total, _ = self.loss(image, targets)
                total.backward()
                image.grad = image.grad.contiguous()
                return total

            return float(optimizer.step(closure).detach())

        return step

    def _start(self, init: torch.Tensor) -> tuple[torch.Tensor, torch.optim.Optimizer]:
        """The pixel tensor being optimised (a float32 copy of ``init``) and its optimiser."""
        opts = self.options
        image = init.detach().to(self.device, torch.float32).clone().requires_grad_(True)
        if opts.optimizer == "lbfgs":
            # max_iter=1 per step() keeps one evaluation per step; the curvature history persists across calls.
            lr = 1.0 if opts.learning_rate is None else opts.learning_rate
            optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
                [image], lr=lr, max_iter=1, history_size=opts.lbfgs_history,
                tolerance_grad=0.0, tolerance_change=0.0,
            )
        else:
            lr = 0.02 if opts.learning_rate is None else opts.learning_rate
            optimizer = torch.optim.Adam([image], lr=lr)
        return image, optimizer

    def optimize(
        self,
        init: torch.Tensor,
        targets: GatysTargets,
        steps: int | None = None,
        extra_loss: ExtraLoss | None = None,
        content_mask: torch.Tensor | None = None,
        style_mask: torch.Tensor | None = None,
        tv_mask: torch.Tensor | None = None,
        callback: StepCallback | None = None,
    ) -> torch.Tensor:
        """Optimise a copy of ``init`` (1, 3, H, W) in [0, 1]; returns the result clamped to [0, 1].

        One step is one loss evaluation (forward and backward through VGG19), for L-BFGS and Adam alike,
        so step counts and per-step timings compare across optimisers and with other tools.
        """
        opts = self.options
        steps = opts.steps if steps is None else steps
        image, optimizer = self._start(init)

        last_terms: list[LossTerms] = []

        def closure() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=True)
            total, terms = self.loss(image, targets, extra_loss, content_mask, style_mask, tv_mask)
            total.backward()
            # The channels_last copy inside features() hands back a channels_last gradient; L-BFGS flattens
            # gradients with view(-1), which needs the plain layout of the parameter.
            image.grad = image.grad.contiguous()
            last_terms.append(terms)
            return total

        for step in range(1, steps + 1):
            optimizer.step(closure)
            if opts.optimizer == "adam":
                # Adam has no curvature model to keep pixels in range; L-BFGS is left unclamped so its
                # history stays consistent (the result is clamped once at the end).
                with torch.no_grad():
                    image.clamp_(0.0, 1.0)
            if callback is not None:
                callback(step, image.detach(), last_terms[-1])
            del last_terms[:-1]
        return image.detach().clamp(0.0, 1.0)


def normalisers(targets: dict[str, torch.Tensor]) -> dict[str, float]:
    """{layer: 1 / mean(target²)} (1 for an all-zero target)."""
    out = {}
    for name, t in targets.items():
        power = float(t.detach().float().pow(2).mean())
        out[name] = 1.0 / power if power > 0 else 1.0
    return out


def total_loss(engine: GatysEngine, image: torch.Tensor, targets: GatysTargets) -> float:
    """The weighted total loss of ``image`` (no gradient): handy for tests and benchmarks."""
    with torch.no_grad():
        return engine.loss(image, targets)[1].total


__all__ = [
    "GatysEngine",
    "GatysTargets",
    "LossTerms",
    "StepCallback",
    "ExtraLoss",
    "total_loss",
    "normalisers",
]
