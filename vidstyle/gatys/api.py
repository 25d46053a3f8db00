"""`stylize_image`: the public Gatys et al. API (paths, PIL images or arrays in; PIL image or array out)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from vidstyle.errors import InputError, OutputError
from vidstyle.gatys.color import gray_rgb, match_luminance
from vidstyle.gatys.engine import GatysEngine, LossTerms
from vidstyle.gatys.options import MIN_SIDE, GatysOptions, options_from
from vidstyle.utils.color import luminance, recolor
from vidstyle.utils import validate
from vidstyle.utils.device import resolve_device
from vidstyle.utils.files import check_output_path
from vidstyle.utils.image import (
    IMAGE_EXTENSIONS,
    ImageInput,
    as_uint8_image,
    load_image,
    resize_long_side,
    save_image,
    to_tensor,
    to_uint8,
)

ProgressCallback = Callable[[int, int, int, LossTerms], None]
"""progress(step, total_steps, scale_long_side, terms), called after every step."""


def _resized(image: np.ndarray, long_side: int) -> np.ndarray:
    return np.array(resize_long_side(Image.fromarray(image), long_side))  # writable, for torch.from_numpy


def _check_short_side(image: np.ndarray, long_side: int, what: str) -> None:
    """InputError when ``image`` resized to ``long_side`` would be narrower than VGG19 can take (MIN_SIDE)."""
    h, w = image.shape[:2]
    short = round(min(h, w) * long_side / max(h, w))
    if short < MIN_SIDE:
        raise InputError(f"{what} ({w}x{h}) would be {short} px on its short side at {long_side} px; VGG19 needs at "
                         f"least {MIN_SIDE}: use a larger --size or a less elongated image")


# Working memory of the optimisation: VGG19's weights, and per content pixel its activations kept for the
# backward pass and their gradients, plus the optimiser's state (L-BFGS: 2 x 12 bytes per remembered step);
# per style pixel one forward pass without gradients. Measured: 2.8 KB per content pixel with L-BFGS's
# 50-step history and the style at the same size (RSS at 512 and 768 px, CPU, fp32).
VGG19_WEIGHT_BYTES = 450 << 20
GATYS_BYTES_PER_PIXEL = 1600
STYLE_BYTES_PER_PIXEL = 640


def _scaled_pixels(image: np.ndarray, long_side: int) -> int:
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    return max(1, round(h * scale)) * max(1, round(w * scale))


def _check_memory(content: np.ndarray, styles: Sequence[np.ndarray], opts: GatysOptions) -> None:
    """InputError naming the limit when the largest scale's render would need more memory than allowed."""
    long_side = opts.sizes[-1]
    optimizer = 24 * opts.lbfgs_history if opts.optimizer == "lbfgs" else 36
    style_side = max(1, round(long_side * opts.style_scale))
    needed = (VGG19_WEIGHT_BYTES + _scaled_pixels(content, long_side) * (GATYS_BYTES_PER_PIXEL + optimizer)
              + sum(_scaled_pixels(s, style_side) for s in styles) * STYLE_BYTES_PER_PIXEL)
    validate.check_memory(needed, f"a {long_side} px render" + (
        f" with style images at {style_side} px" if opts.style_scale != 1 else ""), "use a smaller --size")


def _check_output(output: str | os.PathLike, inputs: Sequence[Any], overwrite: bool = False) -> Path:
    paths = tuple(p for p in inputs if isinstance(p, (str, os.PathLike)))
    out = check_output_path(output, inputs=paths, overwrite=overwrite)
    if out.suffix.lower() not in IMAGE_EXTENSIONS:
        raise OutputError(
            f"unsupported image format {out.suffix or '(none)'!r} for {out}; use one of {', '.join(sorted(IMAGE_EXTENSIONS))}"
        )
    return out


def intermediate_path(output: str | os.PathLike, step: int) -> Path:
    """Where ``save_every`` writes the image after ``step``: OUT.stem + '.step0100' + OUT.suffix."""
    out = Path(output)
    return out.with_name(f"{out.stem}.step{step:04d}{out.suffix}")


def _initial_image(
    init: str, content: torch.Tensor, seed: int | None, preserve_color: bool
) -> torch.Tensor:
    """(1, 3, H, W) start image in [0, 1] matching ``content``'s size."""
    _, _, h, w = content.shape
    if init == "content":
        return content.clone()
    if init == "noise":
        gen = torch.Generator().manual_seed(0 if seed is None else seed)
        noise = torch.rand(1, 3, h, w, generator=gen).to(content.device)
        return gray_rgb(luminance(noise)) if preserve_color else noise
    array = np.array(Image.fromarray(load_image(init)).resize((w, h), Image.LANCZOS))
    start = to_tensor(array, content.device)
    return gray_rgb(luminance(start)) if preserve_color else start


def stylize_image(
    content: ImageInput,
    style: ImageInput | Sequence[ImageInput],
    *,
    options: GatysOptions | None = None,
    output: str | os.PathLike | None = None,
    progress: bool | ProgressCallback = False,
    engine: GatysEngine | None = None,
    overwrite: bool = False,
    **overrides: Any,
) -> Image.Image | np.ndarray:
    """Render ``content`` in the style of ``style`` by Gatys et al. optimisation.

    content: a path, PIL image or array (see :func:`as_uint8_image`).
    style: one such image or a list of them (blended with ``style_blend``).
    options / overrides: :class:`GatysOptions` fields, e.g. ``size=512, steps=300, preserve_color=True``.
    output: also write the result there (atomically; the format follows the extension). With
        ``save_every=N`` the image after every N steps is written beside it (see :func:`intermediate_path`).
    progress: True for a tqdm bar on stderr, or a callback ``progress(step, total, scale, terms)``.
    engine: a ready :class:`GatysEngine` to reuse (its options are used; overrides are ignored).
    overwrite: replace an existing ``output`` (and intermediate images); without it they are refused
        before any work. An input image is never written over.

    Returns an (H, W, 3) uint8 array when ``content`` was an array, else a PIL image; the long side is
    ``options.sizes[-1]``.
    """
    opts = engine.options if engine is not None else options_from(options, **overrides)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise InputError("at least one style image is needed")
    blend = opts.blend_weights(len(styles))
    if opts.init not in ("content", "noise") and not Path(opts.init).is_file():
        raise InputError(f"--init must be 'content', 'noise' or an image file; file not found: {opts.init}")
    inputs = [content, *styles] + ([opts.init] if opts.init not in ("content", "noise") else [])
    out_path = _check_output(output, inputs, overwrite) if output is not None else None
    if out_path is not None and opts.save_every:
        for step in range(opts.save_every, opts.steps * len(opts.sizes) + 1, opts.save_every):
            _check_output(intermediate_path(out_path, step), inputs, overwrite)

    content_full = as_uint8_image(content, "content")
    styles_full = [as_uint8_image(s, "style") for s in styles]
    for long_side in opts.sizes:
        _check_short_side(content_full, long_side, "the content image")
        for image in styles_full:
            _check_short_side(image, max(1, round(long_side * opts.style_scale)), "a style image")
    if (engine.device if engine is not None else resolve_device(opts.device)).type == "cpu":
        _check_memory(content_full, styles_full, opts)  # on a GPU the activations live in its own memory
    if opts.init not in ("content", "noise"):
        load_image(opts.init)  # fail early on an unreadable init image
    if opts.seed is not None:
        torch.manual_seed(opts.seed)

    engine = engine or GatysEngine(opts)
    device = engine.device
    total_steps = opts.steps * len(opts.sizes)
    report = _ProgressReporter(progress, total_steps)
    done = 0
    result: torch.Tensor | None = None
    content_rgb: torch.Tensor | None = None
    try:
        for long_side in opts.sizes:
            content_rgb = to_tensor(_resized(content_full, long_side), device)
            style_long = max(1, round(long_side * opts.style_scale))
            style_rgbs = [to_tensor(_resized(s, style_long), device) for s in styles_full]
            if opts.preserve_color:
                content_y = luminance(content_rgb)
                target_content = gray_rgb(content_y)
                style_rgbs = [gray_rgb(match_luminance(luminance(s), content_y)) for s in style_rgbs]
            else:
                target_content = content_rgb
            if result is None:
                start = _initial_image(opts.init, target_content, opts.seed, opts.preserve_color)
            else:  # coarse-to-fine: the previous scale's result, upsampled
                start = F.interpolate(result, size=target_content.shape[-2:], mode="bicubic", align_corners=False)
                start = start.clamp(0.0, 1.0)
            targets = engine.targets(target_content, style_rgbs, blend)

            def on_step(step: int, image: torch.Tensor, terms: LossTerms, _base: int = done, _side: int = long_side,
                        _content: torch.Tensor = content_rgb) -> None:
                overall = _base + step
                report(overall, _side, terms)
                if out_path is not None and opts.save_every and overall % opts.save_every == 0:
                    snapshot = recolor(image.clamp(0, 1), _content) if opts.preserve_color else image
                    save_image(to_uint8(snapshot), intermediate_path(out_path, overall))

            result = engine.optimize(start, targets, callback=on_step)
            done += opts.steps
    finally:
        report.close()

    assert result is not None and content_rgb is not None
    if opts.preserve_color:
        result = recolor(result, content_rgb)
    array = to_uint8(result)
    if out_path is not None:
        save_image(array, out_path)
    return array if isinstance(content, np.ndarray) else Image.fromarray(array)


class _ProgressReporter:
    """Adapts ``progress`` (bool or callback) to one call per step; owns the tqdm bar when asked for."""

    def __init__(self, progress: bool | ProgressCallback, total: int) -> None:
        self.callback = progress if callable(progress) else None
        self.bar = None
        self.total = total
        if progress is True:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=sys.stderr, unit="step", dynamic_ncols=True, leave=True)

    def __call__(self, step: int, long_side: int, terms: LossTerms) -> None:
        if self.callback is not None:
            self.callback(step, self.total, long_side, terms)
        if self.bar is not None:
            self.bar.set_description(f"{long_side}px", refresh=False)
            self.bar.set_postfix(
                total=f"{terms.total:.3g}", content=f"{terms.content:.3g}", style=f"{terms.style:.3g}",
                tv=f"{terms.tv:.3g}", refresh=False,
            )
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
