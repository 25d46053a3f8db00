"""Blend the styles of a multi-style model: one network, many paintings, any mix of them, switched per frame.

    python samples/blend_styles.py [--model NAME] [--photo PHOTO.jpg]

``stylizer.styles`` lists the paintings a multi-style model holds; ``stylizer.set_style(...)`` takes one
of them (``"mosaic"``) or a mix (``{"mosaic": 0.6, "candy": 0.4}``) and applies from the next frame on,
without reloading anything. Writes blend_strip.png: the photo from the first style to the second.

Without --model it uses an installed multi-style model (``vidstyle models list``), else it first trains
a tiny one on two generated paintings (seconds; its looks are crude, the API is the point).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from vidstyle.io.synthetic import synthetic_scene, synthetic_style
from vidstyle.models import list_models
from vidstyle.runtime import create_stylizer
from vidstyle.train import TrainConfig, train
from vidstyle.utils.image import load_image, save_image


def installed_multistyle_model() -> str | None:
    """The name of an installed multi-style model, if there is one."""
    for info in list_models():
        if info.metadata and info.metadata.get("architecture") == "multistyle":
            return info.name
    return None


def tiny_multistyle_model(folder: Path) -> Path:
    """Train a small two-style network on generated paintings and photos (a demonstration, not a look)."""
    paintings, photos = folder / "paintings", folder / "photos"
    paintings.mkdir(parents=True)
    photos.mkdir()
    for seed, name in ((3, "stripes"), (8, "waves")):
        Image.fromarray(synthetic_style(128, 128, seed=seed)).save(paintings / f"{name}.png")
    for seed in range(6):
        Image.fromarray(synthetic_scene(96, 128, seed=seed)).save(photos / f"photo{seed}.png")
    result = train(TrainConfig(
        style=paintings, data=photos, out=folder / "two_styles.safetensors",
        arch="multistyle", arch_params={"channels": 16, "blocks": 1, "mid": 8},
        steps=20, size=64, batch=2, style_size=128,
        checkpoint_every=20, preview_every=20, log_every=10, run_dir=folder / "run", progress=False,
    ))
    return result.path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a multi-style model (name or .safetensors path)")
    parser.add_argument("--photo", type=Path, default=None, help="the photo to stylize (default: a generated scene)")
    args = parser.parse_args()

    model = args.model or installed_multistyle_model() or tiny_multistyle_model(Path(tempfile.mkdtemp()))
    photo = load_image(args.photo, long_side=256) if args.photo else synthetic_scene(192, 256, seed=1)

    stylizer = create_stylizer(model)
    try:
        print(f"{model} holds {len(stylizer.styles)} styles: {', '.join(stylizer.styles)}")
        first, second = stylizer.styles[:2]
        panels = []
        for weight in (1.0, 0.75, 0.5, 0.25, 0.0):
            stylizer.set_style({first: weight, second: 1.0 - weight})  # a name alone works too: set_style(first)
            panels.append(stylizer.stylize(photo))
            print(f"  {first}={weight:g},{second}={1.0 - weight:g}  mix in use: {stylizer.style_mix}")
    finally:
        stylizer.close()
    path = save_image(np.concatenate(panels, axis=1), "blend_strip.png")
    print(f"wrote {path}: {first} to {second}, left to right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
