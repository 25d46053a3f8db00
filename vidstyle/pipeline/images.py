"""Stylize still images or folders of images with a transform network (`vidstyle stylize`)."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from vidstyle.errors import InputError, OutputError
from vidstyle.runtime import create_stylizer
from vidstyle.utils.image import IMAGE_EXTENSIONS, blend, load_image, save_image, to_tensor, to_uint8


@dataclass
class StylizeOptions:
    """How images are stylized.

    strength: 1.0 full style … 0.0 the original (a linear blend of the two).
    preserve_color: keep the photo's colours, take only the stylized luminance (YIQ, Gatys et al. 2016).
    long_side: resize each input so its longer side has this many pixels first (the output has that size).
    device, backend, threads, precision: how the network runs (see ``vidstyle.runtime.create_stylizer``).
    style: a multi-style model's style or blend (``"a"`` or ``"a=0.6,b=0.4"``; None: its first style).
    batch: images per network call for folders (same-size images are batched together by the backend).
    """

    strength: float = 1.0
    preserve_color: bool = False
    long_side: Optional[int] = None
    device: str = "auto"
    backend: str = "auto"
    threads: Optional[int] = None
    precision: str = "auto"
    batch: int = 4
    quality: int = 95
    style: Optional[str] = None


def preserve_colors(stylized: np.ndarray, original: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 stylized + original -> the stylized luminance with the original's chroma, uint8."""
    from vidstyle.utils.color import recolor

    return to_uint8(recolor(to_tensor(stylized), to_tensor(original)))


def _plan(src: Path, dst: Path) -> list[tuple[Path, Path]]:
    """Input/output pairs: one image to one file, or a folder (recursive) to a folder with the same layout."""
    if not src.exists():
        raise InputError(f"input not found: {src}")
    if src.is_file():
        if dst.is_dir():
            return [(src, dst / src.name)]
        if dst.suffix.lower() not in IMAGE_EXTENSIONS:
            raise OutputError(f"output {dst} needs an image extension ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        return [(src, dst)]
    if dst.exists() and not dst.is_dir():
        raise OutputError(f"input {src} is a folder, so the output must be a folder too, not {dst}")
    if dst.resolve() == src.resolve():
        raise OutputError("refusing to write stylized images over their inputs; choose another output folder")
    images = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not images:
        raise InputError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) under {src}")
    return [(p, dst / p.relative_to(src)) for p in images]


def stylize_paths(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    model: Any,
    options: StylizeOptions | None = None,
    on_image: Callable[[Path, Path], None] | None = None,
) -> list[Path]:
    """Stylize an image file or a folder of images; returns the written paths.

    ``model``: registry name, .safetensors path or loaded model (see vidstyle.runtime.create_stylizer).
    Unreadable images in a folder are skipped with a warning on stderr; a single unreadable image is an InputError.
    """
    opts = options or StylizeOptions()
    if not 0.0 <= opts.strength <= 1.0:
        raise InputError(f"--strength must be between 0 and 1, got {opts.strength}")
    pairs = _plan(Path(src), Path(dst))
    single = Path(src).is_file()
    stylizer = create_stylizer(model, backend=opts.backend, device=opts.device, threads=opts.threads,
                               precision=opts.precision, strength=1.0, style=opts.style)
    written: list[Path] = []
    try:
        for start in range(0, len(pairs), max(1, opts.batch)):
            chunk = pairs[start:start + max(1, opts.batch)]
            loaded = []
            for inp, out in chunk:
                try:
                    loaded.append((inp, out, load_image(inp, long_side=opts.long_side)))
                except InputError as exc:
                    if single:
                        raise
                    print(f"vidstyle: warning: skipping {exc}", file=sys.stderr)
            if not loaded:
                continue
            results = stylizer.stylize_batch([im for _, _, im in loaded])
            for (inp, out, original), styled in zip(loaded, results):
                if opts.preserve_color:
                    styled = preserve_colors(styled, original)
                styled = blend(original, styled, opts.strength)
                out.parent.mkdir(parents=True, exist_ok=True)
                written.append(save_image(styled, out, quality=opts.quality))
                if on_image:
                    on_image(inp, out)
    finally:
        stylizer.close()
    return written
