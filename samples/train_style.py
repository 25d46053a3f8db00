"""Train a style network of your own, then use it like a shipped one.

    python samples/train_style.py [--style PAINTING.jpg] [--photos FOLDER] [--steps 20]

A tiny run so it finishes in seconds: 64-pixel crops, twenty steps. A real model wants
``--steps 2000 --size 256`` or more (minutes to hours; see `vidstyle train --help`). Without
--style/--photos it uses $VIDSTYLE_MEDIA (or ../shared/media) when present, else generated images.
Writes my_style-fast.safetensors (+ .json) and my_style.png, a photo stylized with it.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from PIL import Image

from vidstyle.io.synthetic import synthetic_scene, synthetic_style
from vidstyle.runtime import create_stylizer
from vidstyle.train import TrainConfig, train
from vidstyle.utils.image import load_image, save_image


def media_folder() -> Path:
    return Path(os.environ.get("VIDSTYLE_MEDIA") or Path(__file__).resolve().parents[2] / "shared" / "media")


def generated_inputs(folder: Path) -> tuple[Path, Path]:
    """A painting-like texture and eight photo-like scenes, written under ``folder``."""
    photos = folder / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    for seed in range(8):
        Image.fromarray(synthetic_scene(96, 128, seed=seed)).save(photos / f"photo{seed}.png")
    style = folder / "painting.png"
    Image.fromarray(synthetic_style(128, 128, seed=3)).save(style)
    return style, photos


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", type=Path, default=None, help="the painting")
    parser.add_argument("--photos", type=Path, default=None, help="a folder of training photos")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vidstyle-sample-"))
    media = media_folder()
    style = args.style or (media / "styles" / "starry_night.jpg")
    photos = args.photos or (media / "train")
    if not style.is_file() or not photos.is_dir():
        style, photos = generated_inputs(work)

    out = Path("my_style-fast.safetensors")
    result = train(TrainConfig(
        style=style, data=photos, out=out,
        arch="fast",
        steps=args.steps, size=64, batch=2, style_size=128,  # tiny: seconds, not hours
        checkpoint_every=args.steps, preview_every=args.steps, log_every=10,
        run_dir=work / "run",                                   # logs, previews, checkpoints
        progress=False, overwrite=True,
    ))
    print(f"trained {result.path} in {result.steps} steps ({result.wall_time_s:.1f} s)")

    photo = load_image(next(p for p in sorted(photos.iterdir()) if p.suffix.lower() in (".jpg", ".png")), long_side=256)
    stylizer = create_stylizer(result.path)  # a trained file works wherever a registry name does
    try:
        save_image(stylizer.stylize(photo), "my_style.png")
    finally:
        stylizer.close()
    print("wrote my_style.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
