"""add-style on a painting no shipped model saw: time on this machine, then the look measures on held-out photos.

    .venv/bin/python benchmarks/add_style.py [--model zoo] [--minutes 5] [--data VIDEO|PHOTOS] [--out out/add_style]

The painting is generated (seeded): thick, overlapping brush strokes in a palette of its own on a textured
ground, an abstract no network has seen. The style is learned into a temporary user-models folder (the user's
own styles are not touched), then benchmarks/look.py's measures are taken on $VIDSTYLE_MEDIA/content photos,
which add-style never saw (it trains on --data, default a video of $VIDSTYLE_MEDIA/video).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from shared_media import media_root

ROOT = Path(__file__).resolve().parents[1]


def generated_painting(width: int = 640, height: int = 512, seed: int = 7) -> Image.Image:
    """An abstract 'painting': a textured ground and a few hundred thick strokes in a five-colour palette."""
    rng = np.random.default_rng(seed)
    palette = [(24, 38, 92), (236, 178, 44), (200, 62, 40), (240, 232, 210), (46, 120, 96)]
    ground = rng.normal(0, 18, (height, width, 1)) + np.array(palette[0])
    image = Image.fromarray(np.clip(ground, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(420):
        colour = palette[rng.integers(len(palette))]
        x, y = rng.integers(0, width), rng.integers(0, height)
        angle = rng.normal(0.6, 0.5)
        length = rng.integers(20, 90)
        shade = tuple(int(np.clip(c + rng.normal(0, 14), 0, 255)) for c in colour)
        draw.line([(x, y), (x + length * np.cos(angle), y + length * np.sin(angle))], fill=shade,
                  width=int(rng.integers(6, 18)))
    for _ in range(14):
        colour = palette[rng.integers(1, len(palette))]
        x, y, r = rng.integers(0, width), rng.integers(0, height), rng.integers(20, 70)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=colour, width=int(rng.integers(5, 12)))
    return image.filter(ImageFilter.GaussianBlur(0.8))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="zoo")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--data", type=Path, default=None, help="default: $VIDSTYLE_MEDIA/video/cockatoo.mp4")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=None, help="add-style's --size (training crop; default its own)")
    ap.add_argument("--photos", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "add_style")
    args, add_style_options = ap.parse_known_args()  # the rest (--lr, --style-weight, ...) goes to add-style
    media = media_root()
    data = args.data or media / "video" / "cockatoo.mp4"
    if not data.exists() or not (media / "content").is_dir():
        print(f"benchmarks/add_style.py: media not found ({data}); nothing measured")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    painting = args.out / "generated_abstract.png"
    generated_painting().save(painting)
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "XDG_DATA_HOME": home, "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vidstyle", "add-style", str(painting), "--name", "generated_abstract",
                        "--data", str(data), "--model", args.model, "--minutes", str(args.minutes),
                        "--threads", str(args.threads), "--no-progress",
                        *(["--size", str(args.size)] if args.size else []), *add_style_options], check=True, env=env)
        print(f"add-style wall time: {time.perf_counter() - started:.0f} s (training budget {args.minutes:g} min)")
        # look.py finds paintings by name in the media folder: give it one with the generated painting added.
        styles = Path(home) / "media"
        (styles / "styles").mkdir(parents=True)
        os.symlink(painting.resolve(), styles / "styles" / "generated_abstract.png")
        for sub in ("content",):
            os.symlink(media / sub, styles / sub)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "look.py"), "--models", args.model,
                        "--styles", "generated_abstract", "--photos", str(args.photos), "--no-peer",
                        "--out", str(args.out)], check=True, env={**env, "VIDSTYLE_MEDIA": str(styles)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
