"""Settings of the Gatys et al. optimisation, in one dataclass shared by the API, the CLI and the temporal mode."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from vidstyle.errors import InputError
from vidstyle.losses import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS, check_layers
from vidstyle.runtime.precision import parse_precision
from vidstyle.utils import validate

OPTIMIZERS = ("lbfgs", "adam")
# The shortest side VGG19 can take through its four pooling stages to relu5_1 (16 -> 1 pixel).
MIN_SIDE = 16


@dataclass
class GatysOptions:
    """Everything that shapes one Gatys render.

    Weights multiply the loss terms of :mod:`vidstyle.losses` as they are defined there (content: feature
    MSE; style: MSE of Gram matrices normalised by C·H·W, summed over layers; tv: mean squared neighbour
    difference of the RGB image in [0, 1]). The defaults were chosen by eye on the photos and paintings of
    the shared media set (see README): content stays recognisable, the style is strong.
    """

    size: int = 512
    """Long side of the output in pixels (ignored when ``scales`` is given: the last scale is the output size)."""
    scales: tuple[int, ...] = ()
    """Coarse-to-fine long sides, e.g. (256, 512): each scale starts from the upsampled previous result."""
    steps: int = 300
    """Optimiser steps per scale (one step = one forward and backward pass through VGG19)."""
    optimizer: str = "lbfgs"
    learning_rate: float | None = None
    """None: 1.0 for L-BFGS, 0.02 for Adam (pixels are in [0, 1])."""
    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 1.0
    content_layers: tuple[str, ...] = GATYS_CONTENT_LAYERS
    style_layers: tuple[str, ...] = GATYS_STYLE_LAYERS
    style_layer_weights: tuple[float, ...] | None = None
    """One weight per style layer; None weighs each layer by 1/len(style_layers)."""
    normalize_layers: bool = True
    """Divide each layer's loss by the mean square of its target (see GatysTargets), so layers count alike."""
    style_blend: tuple[float, ...] | None = None
    """One weight per style image (normalised to sum 1); None: equal weights."""
    style_scale: float = 1.0
    """Style images are resized to style_scale × the current content long side."""
    init: str = "content"
    """'content', 'noise' or the path of an image to start from."""
    preserve_color: bool = False
    """Luminance-only transfer (Gatys et al. 2016): the output keeps the content's colours."""
    device: str = "auto"
    precision: str = "auto"
    """auto | fp32 | bf16 | fp16 (float32/bfloat16 accepted). 'auto' uses bf16 autocast for VGG19 where the
    hardware runs it natively (CUDA, AVX512-BF16/AMX CPUs), see :mod:`vidstyle.runtime.precision`."""
    channels_last: bool = True
    seed: int | None = 0
    save_every: int = 0
    """Write the intermediate image every N steps (0: never); the API passes it to a callback."""
    lbfgs_history: int = 50

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InputError for settings that cannot work (the CLI shows the message as one line)."""
        self.size = validate.side("--size", self.size, MIN_SIDE)
        self.scales = tuple(validate.side("--scales", s, MIN_SIDE) for s in self.scales)
        if list(self.scales) != sorted(self.scales):
            raise InputError("--scales must go from coarse to fine, e.g. 256,512")
        self.steps = validate.integer("--steps", self.steps, 0)
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {self.optimizer!r}; use one of {', '.join(OPTIMIZERS)}")
        self.precision = parse_precision(self.precision)
        for name in ("content_weight", "style_weight", "tv_weight"):
            setattr(self, name, validate.finite(f"--{name.replace('_', '-')}", getattr(self, name), 0.0))
        if self.learning_rate is not None:
            self.learning_rate = validate.finite("--lr", self.learning_rate, 0.0, low_open=True)
        self.content_layers = tuple(self.content_layers)
        self.style_layers = tuple(self.style_layers)
        if not self.style_layers:
            raise InputError("at least one style layer is needed")
        for kind, layers in (("content", self.content_layers), ("style", self.style_layers)):
            try:
                check_layers(layers)
            except ValueError as exc:
                raise InputError(f"--{kind}-layers: {exc}") from exc
        if self.style_layer_weights is not None:
            self.style_layer_weights = tuple(validate.finite("--style-layer-weights", w, 0.0)
                                             for w in self.style_layer_weights)
            if len(self.style_layer_weights) != len(self.style_layers):
                raise InputError(
                    f"{len(self.style_layer_weights)} style layer weights given for {len(self.style_layers)} style layers"
                )
        if self.style_blend is not None:
            self.style_blend = tuple(validate.finite("--style-blend", w, 0.0) for w in self.style_blend)
            if sum(self.style_blend) <= 0:
                raise InputError("--style-blend weights must be 0 or more and not all 0")
        self.style_scale = validate.finite("--style-scale", self.style_scale, 0.0, low_open=True)
        style_side = max(self.sizes) * self.style_scale
        if not MIN_SIDE <= style_side <= validate.MAX_SIDE:
            raise InputError(f"--style-scale {self.style_scale:g} makes the style images {style_side:.0f} px long at "
                             f"{max(self.sizes)} px; it must give between {MIN_SIDE} and {validate.MAX_SIDE} px")
        self.save_every = validate.integer("--save-every", self.save_every, 0)
        self.lbfgs_history = validate.integer("lbfgs_history", self.lbfgs_history, 1, 1000)

    @property
    def sizes(self) -> tuple[int, ...]:
        """The long sides rendered in turn; the last one is the output size."""
        return self.scales or (self.size,)

    @property
    def layer_weights(self) -> dict[str, float]:
        """Per-style-layer weights as the dict :func:`vidstyle.losses.style_loss` takes."""
        if self.style_layer_weights is None:
            return {name: 1.0 / len(self.style_layers) for name in self.style_layers}
        return dict(zip(self.style_layers, self.style_layer_weights))

    def blend_weights(self, count: int) -> list[float]:
        """Normalised weights for ``count`` style images."""
        if self.style_blend is None:
            return [1.0 / count] * count
        if len(self.style_blend) != count:
            raise InputError(f"--style-blend has {len(self.style_blend)} weights for {count} style images")
        total = sum(self.style_blend)
        return [w / total for w in self.style_blend]

    def updated(self, **changes: Any) -> "GatysOptions":
        """A validated copy with some fields changed; unknown names raise InputError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InputError(f"unknown option {unknown[0]!r} for stylize_image; known: {', '.join(sorted(known))}")
        return replace(self, **changes)


def options_from(options: GatysOptions | None = None, **changes: Any) -> GatysOptions:
    """GatysOptions from an optional base plus keyword overrides (the keyword form of the public API)."""
    return (options or GatysOptions()).updated(**changes)


__all__ = ["GatysOptions", "options_from", "OPTIMIZERS"]
