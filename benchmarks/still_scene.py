"""The webcam-on-a-desk check with a real zoo model: a still photo plus fresh sensor noise in every frame,
and a patch of another photo sliding across it.

For --temporal none (the model frame by frame), smooth (then the FlowStabilizer) and trained (the temporally
fine-tuned model) it reports:
- E_warp (as ``vidstyle eval-temporal``) on the still scene: the flicker that sensor noise causes;
- on the moving scene, E_warp, and for smooth its mean absolute difference from ``none`` (0-255) in the last
  frame: where the patch was in the 4 frames before (a ghost left behind would show there, up to the patch's
  own contrast against the background), inside the patch now (it must move with the input, not lag), and on
  background the patch never touched (the stabiliser's ordinary effect, the level the other two should match).

    .venv/bin/python benchmarks/still_scene.py [--photo tubingen.jpg] [--size 640x480] [--frames 48] [--noise 4]

Media: $VIDSTYLE_MEDIA or ../shared/media (content photos); without it the scene is drawn from noise.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from shared_media import media_root

from vidstyle.flow import FlowStabilizer
from vidstyle.flow.synthetic import noisy_static_frames, textured_image
from vidstyle.runtime import create_stylizer
from vidstyle.temporal.evaluate import evaluate_frames

MEDIA = media_root()


def load_photo(name: str, width: int, height: int, seed: int) -> np.ndarray:
    path = MEDIA / "content" / name
    if path.is_file():
        bgr = cv2.imread(str(path))
        return cv2.cvtColor(cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    print(f"(no {path}: drawing a textured scene instead)")
    return textured_image(height, width, seed=seed)


def moving_patch_frames(background, patch, count, step, noise, seed):
    """Frames of ``patch`` sliding by ``step`` px per frame over ``background``, with sensor noise."""
    frames, positions = [], []
    h, w = patch.shape[:2]
    x, y = 16, (background.shape[0] - h) // 2
    rng = np.random.default_rng(seed)
    for _ in range(count):
        frame = background.copy()
        frame[y : y + h, x : x + w] = patch
        noisy = frame.astype(np.float32) + rng.normal(0.0, noise, frame.shape).astype(np.float32)
        frames.append(np.clip(noisy + 0.5, 0, 255).astype(np.uint8))
        positions.append((x, y))
        x = min(x + step, background.shape[1] - w)
    return frames, positions


def warping_error(originals, stylized) -> float:
    return evaluate_frames(originals, stylized, losses=False)["warping_error"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photo", default="tubingen.jpg")
    ap.add_argument("--patch-photo", default="sailboat.jpg")
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--noise", type=float, default=4.0, help="sensor noise std in 0-255 units")
    ap.add_argument("--step", type=int, default=8, help="patch motion in px per frame")
    ap.add_argument("--model", default="starry_night-fast-painted")
    ap.add_argument("--temporal-model", default="starry_night-fast-painted-temporal")
    ap.add_argument("--blend", type=float, default=0.8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    photo = load_photo(args.photo, width, height, seed=1)
    patch = load_photo(args.patch_photo, width // 4, height // 3, seed=2)
    still = noisy_static_frames(photo, args.frames, noise_std=args.noise, seed=0)
    moving, positions = moving_patch_frames(photo, patch, args.frames, args.step, args.noise, seed=1)

    base = create_stylizer(args.model, threads=args.threads)
    trained = create_stylizer(args.temporal_model, threads=args.threads)
    results = {}
    for scene, frames in (("still", still), ("moving", moving)):
        none = [base.stylize(f) for f in frames]
        stabilizer = FlowStabilizer(blend=args.blend)
        smooth, cost = [], []
        for o, s in zip(frames, none):
            t0 = time.thread_time()
            smooth.append(stabilizer(o, s))
            cost.append(time.thread_time() - t0)
        outputs = {"none": none, "smooth": smooth, "trained": [trained.stylize(f) for f in frames]}
        results[scene] = {mode: warping_error(frames, out) for mode, out in outputs.items()}
        results[scene]["smooth_ms"] = 1000 * float(np.median(cost[1:]))
        if scene == "moving":
            last = len(frames) - 1
            x, y = positions[last]
            h, w = patch.shape[:2]
            now = np.zeros((height, width), bool)
            now[y + 4 : y + h - 4, x + 4 : x + w - 4] = True
            trail = np.zeros((height, width), bool)
            for px, py in positions[last - 4 : last]:
                trail[py : py + h, px : px + w] = True
            trail[y : y + h, x : x + w] = False
            away = np.ones((height, width), bool)  # background the patch never touched
            for px, py in positions:
                away[max(0, py - 8) : py + h + 8, max(0, px - 8) : px + w + 8] = False
            ref, out = none[last].astype(np.int16), smooth[last].astype(np.int16)
            results[scene]["patch_contrast"] = float(np.abs(ref[now] - none[0].astype(np.int16)[now]).mean())
            results[scene]["trail"] = float(np.abs(out[trail] - ref[trail]).mean())
            results[scene]["lag"] = float(np.abs(out[now] - ref[now]).mean())
            results[scene]["background"] = float(np.abs(out[away] - ref[away]).mean())

    print(f"{args.photo} at {width}x{height}, {args.frames} frames, sensor noise std {args.noise}; "
          f"{args.model} (none, smooth blend {args.blend}) and {args.temporal_model} (trained)")
    print("| scene | E_warp none | smooth (x none) | trained (x none) | smooth ms/frame (CPU) |")
    print("|---|---|---|---|---|")
    for scene, r in results.items():
        print(f"| {scene} | {r['none']:.5f} | {r['smooth']:.5f} ({r['smooth'] / r['none']:.2f}) | "
              f"{r['trained']:.5f} ({r['trained'] / r['none']:.2f}) | {r['smooth_ms']:.2f} |")
    m = results["moving"]
    print(f"moving patch, last frame, smooth against none (mean |difference|, 0-255): where the patch was in the "
          f"4 frames before {m['trail']:.1f}, inside the patch now {m['lag']:.1f}, on background it never touched "
          f"{m['background']:.1f}; the patch's own contrast {m['patch_contrast']:.1f}")

if __name__ == "__main__":
    main()
