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
from vidstyle.utils import validate
from vidstyle.utils.files import check_output_path
from vidstyle.utils.image import IMAGE_EXTENSIONS, blend, image_size, load_image, save_image, to_tensor, to_uint8


@dataclass
class StylizeOptions:
    """How images are stylized.

    strength: 1.0 full style … 0.0 the original (a linear blend of the two).
    preserve_color: keep the photo's colours, take only the stylized luminance (YIQ, Gatys et al. 2016).
    long_side: resize each input so its longer side has this many pixels first (the output has that size).
    device, backend, threads, precision: how the network runs (see ``vidstyle.runtime.create_stylizer``).
    style: a multi-style model's style or blend (``"a"`` or ``"a=0.6,b=0.4"``; None: its first style).
    batch: images per network call for folders (same-size images are batched together by the backend).
    overwrite: replace existing output files (never an input); without it they are refused before any work.
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
    overwrite: bool = False
    style: Optional[str] = None

    def __post_init__(self) -> None:
        self.strength = validate.finite("--strength", self.strength, 0.0, 1.0)
        self.long_side = validate.optional_integer("--long-side", self.long_side, low=1, high=validate.MAX_SIDE)
        self.threads = validate.threads(self.threads)
        self.batch = validate.integer("--batch", self.batch, 1, 256)
        self.quality = validate.integer("quality", self.quality, 1, 100)


def preserve_colors(stylized: np.ndarray, original: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 stylized + original -> the stylized luminance with the original's chroma, uint8."""
    from vidstyle.utils.color import recolor

    return to_uint8(recolor(to_tensor(stylized), to_tensor(original)))


def _plan(src: Path, dst: Path, overwrite: bool = False) -> list[tuple[Path, Path]]:
    """Input/output pairs: one image to one file, or a folder (recursive) to a folder with the same layout.

    Every output is checked before any work (see ``check_output_path``): none is an input, none exists
    unless ``overwrite``, and a folder output is not inside the input folder.
    """
    if not src.exists():
        raise InputError(f"input not found: {src}")
    if src.is_file():
        if dst.is_dir():
            pairs = [(src, dst / src.name)]
        elif dst.suffix.lower() not in IMAGE_EXTENSIONS:
            raise OutputError(f"output {dst} needs an image extension ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        else:
            pairs = [(src, dst)]
        check_output_path(pairs[0][1], inputs=(src,), overwrite=overwrite)
        return pairs
    if dst.exists() and not dst.is_dir():
        raise OutputError(f"input {src} is a folder, so the output must be a folder too, not {dst}")
    check_output_path(dst, inputs=(src,), folder=True, merge=True, create_parents=True)
    images = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not images:
        raise InputError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) under {src}")
    pairs = [(p, dst / p.relative_to(src)) for p in images]
    # Inodes of the inputs: an output that is one of them (a hard link, a symlinked subfolder) is refused.
    inodes = {(st.st_dev, st.st_ino) for st in (p.stat() for p in images)}
    existing = []
    for _, out in pairs:
        try:
            st = out.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in inodes:
            raise OutputError(f"refusing to overwrite the input {out}; choose another output folder")
        check_output_path(out, overwrite=True, create_parents=True)  # a regular file, in a writable folder
        existing.append(out)
    if existing and not overwrite:
        raise OutputError(f"{len(existing)} of the outputs already exist (e.g. {existing[0]}); "
                          "pass --overwrite to replace them")
    return pairs


# Bytes per pixel beyond the network's own: --preserve-color's float YIQ copies, the strength blend's floats.
PRESERVE_COLOR_BYTES_PER_PIXEL = 96
BLEND_BYTES_PER_PIXEL = 32


def _image_bytes(path: Path, opts: StylizeOptions, stylizer: Any) -> float:
    """Estimated memory to stylize one image (from its header; 0 when unreadable: loading reports that)."""
    try:
        width, height = image_size(path)
    except InputError:
        return 0.0
    if opts.long_side is not None:
        scale = opts.long_side / max(width, height)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
    extra = (PRESERVE_COLOR_BYTES_PER_PIXEL if opts.preserve_color else 0) + (
        BLEND_BYTES_PER_PIXEL if opts.strength < 1.0 else 0)
    needed = stylizer.peak_bytes(height, width) + width * height * extra
    validate.check_memory(needed, f"stylizing {path.name} at {width}x{height}",
                          "use --long-side to stylize it smaller")
    return needed


def _chunks(pairs: list[tuple[Path, Path]], opts: StylizeOptions, stylizer: Any, single: bool):
    """Up to ``batch`` pairs at a time whose estimated memory together stays within the limit; an image that
    alone exceeds it is refused (skipped with a warning in a folder) before it is decoded."""
    limit = validate.memory_limit()
    chunk: list[tuple[Path, Path]] = []
    total = 0.0
    for inp, out in pairs:
        try:
            needed = _image_bytes(inp, opts, stylizer)
        except InputError as exc:
            if single:
                raise
            print(f"vidstyle: warning: skipping {inp}: {exc}", file=sys.stderr)
            continue
        if chunk and (len(chunk) >= opts.batch or total + needed > limit):
            yield chunk
            chunk, total = [], 0.0
        chunk.append((inp, out))
        total += needed
    if chunk:
        yield chunk


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
    pairs = _plan(Path(src), Path(dst), opts.overwrite)
    single = Path(src).is_file()
    stylizer = create_stylizer(model, backend=opts.backend, device=opts.device, threads=opts.threads,
                               precision=opts.precision, strength=1.0, style=opts.style)
    written: list[Path] = []
    try:
        for chunk in _chunks(pairs, opts, stylizer, single):
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
                written.append(save_image(styled, out, quality=opts.quality, inputs=(inp,)))
                if on_image:
                    on_image(inp, out)
    finally:
        stylizer.close()
    return written
