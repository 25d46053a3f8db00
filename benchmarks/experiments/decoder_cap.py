"""Does the fast decoder's resolution cap explain a distilled student's high style ratio?

    .venv/bin/python benchmarks/experiments/decoder_cap.py [--teacher starry_night-quality]
                                                         [--student starry_night-fast-painted]

Scores the teacher's output on held-out photos (512 px) as is, after the fast decoder's fixed binomial blur,
after a ×2 down/up (what a half-resolution decoder can draw), and both, beside the student. If the degraded
teacher scores like the student, the decoder is the cap, not the body's capacity.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from shared_media import media_root  # noqa: E402
from look import run_model, tensor  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", default="starry_night-quality")
    ap.add_argument("--student", default="starry_night-fast-painted")
    ap.add_argument("--style", default="starry_night")
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from vidstyle.losses import GATYS_STYLE_LAYERS, VGG19Features, gram_matrix, style_loss
    from vidstyle.losses.look import palette_ratio
    from vidstyle.models import load_model
    from vidstyle.utils.image import load_image

    media = media_root()
    photos = {p.stem: load_image(p, long_side=args.size) for p in sorted((media / "content").glob("*.jpg"))[:3]}
    painting = load_image(media / "styles" / f"{args.style}.jpg", long_side=args.size)
    vgg = VGG19Features(GATYS_STYLE_LAYERS)
    with torch.no_grad():
        grams = {k: gram_matrix(v) for k, v in vgg(tensor(painting), GATYS_STYLE_LAYERS).items()}

    def score(image: np.ndarray) -> float:
        with torch.no_grad():
            return float(style_loss(vgg(tensor(image), GATYS_STYLE_LAYERS), grams))

    teacher, student = load_model(args.teacher).network, load_model(args.student).network
    binomial = np.outer([1, 2, 1], [1, 2, 1]).astype(np.float32) / 16

    def blur(im: np.ndarray) -> np.ndarray:
        return cv2.filter2D(im, -1, binomial, borderType=cv2.BORDER_REFLECT)

    def half(im: np.ndarray) -> np.ndarray:
        h, w = im.shape[:2]
        small = cv2.resize(im, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)

    variants = {"teacher": lambda t: t, "teacher+blur": blur, "teacher+half": half,
                "teacher+half+blur": lambda t: blur(half(t))}
    rows: dict[str, list[tuple[float, float]]] = {k: [] for k in [*variants, "student"]}
    for stem, photo in photos.items():
        base = score(photo)
        out_t = run_model(teacher, photo, args.style)
        for name, fn in variants.items():
            im = fn(out_t)
            rows[name].append((score(im) / base, palette_ratio(im, photo, painting)))
        out_s = run_model(student, photo, args.style)
        rows["student"].append((score(out_s) / base, palette_ratio(out_s, photo, painting)))
    print("| column | style ratio | palette ratio |\n|---|---|---|")
    for name, vals in rows.items():
        print(f"| {name} | {np.mean([v[0] for v in vals]):.2f} | {np.mean([v[1] for v in vals]):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
