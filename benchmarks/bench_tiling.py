"""Tiled vs untiled inference at 3840×2160: peak memory, time, and whether tile borders show.

Stylizes one 3840×2160 frame (a real photo from ../shared/media/content scaled up when present, else a
generated scene) with the quality network twice through OpenVINO: whole (tile=None) and in tiles
(the default create_stylizer policy), each in its own subprocess so peak RSS is its own. Reports the
difference between the two, separately inside the tile-overlap bands and elsewhere: a seam would
make the band difference larger than the rest.

    .venv/bin/python benchmarks/bench_tiling.py [--model quality] [--precision fp32] [--save-crops DIR]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from shared_media import media_root

MEDIA = media_root()
WIDTH, HEIGHT = 3840, 2160


def test_image() -> tuple[np.ndarray, str]:
    import cv2

    photo = MEDIA / "content" / "tubingen.jpg"
    if photo.exists():
        from vidstyle.utils.image import load_image

        image = load_image(photo)
        return cv2.resize(image, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC), str(photo)
    from vidstyle.io.synthetic import synthetic_scene

    return synthetic_scene(HEIGHT, WIDTH), "generated scene (shared media not found)"


def child(args: argparse.Namespace) -> int:
    """Stylize the .npy in args.input to args.output; print peak RSS and seconds as JSON."""
    import torch

    from vidstyle.runtime import create_stylizer
    from vidstyle.pipeline.bench import resolve_bench_model

    torch.manual_seed(0)
    model = resolve_bench_model(args.model)
    image = np.load(args.input)
    stylizer = create_stylizer(model, backend=args.backend, device="cpu", precision=args.precision,
                               tile="auto" if args.tiled else None)
    start = time.perf_counter()
    out = stylizer.stylize(image)
    seconds = time.perf_counter() - start
    np.save(args.output, out)
    print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "stylizer": stylizer.name}))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="quality", help="registry name/path, or fast/quality (untrained, seed 0)")
    ap.add_argument("--backend", default="openvino")
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--save-crops", default=None, help="write 512x512 crops around a tile corner (tiled/whole) here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tiled", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--output", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)

    from vidstyle.runtime.tiling import tile_starts

    image, source = test_image()
    print(f"image: {source} scaled to {WIDTH}x{HEIGHT}; model {args.model}; {args.backend} {args.precision}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="vidstyle-tiling-") as tmp:
        src = Path(tmp) / "in.npy"
        np.save(src, image)
        for tiled in (True, False):
            out = Path(tmp) / f"out-{tiled}.npy"
            cmd = [sys.executable, __file__, "--child", "--input", str(src), "--output", str(out), "--model", args.model,
                   "--backend", args.backend, "--precision", args.precision] + (["--tiled"] if tiled else [])
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
                return 1
            info = json.loads(proc.stdout.strip().splitlines()[-1])
            info["image"] = np.load(out)
            results["tiled" if tiled else "whole"] = info
            print(f"  {'tiled' if tiled else 'whole':>5}: {info['stylizer']}, peak RSS {info['peak_rss_mb']:.0f} MB, "
                  f"{info['seconds']:.1f} s", flush=True)
    tiled, whole = results["tiled"]["image"].astype(np.int16), results["whole"]["image"].astype(np.int16)
    diff = np.abs(tiled - whole).max(axis=-1)
    band = np.zeros((HEIGHT, WIDTH), bool)
    for s in tile_starts(HEIGHT, 768, 128)[1:]:
        band[s:s + 128] = True
    for s in tile_starts(WIDTH, 768, 128)[1:]:
        band[:, s:s + 128] = True
    print(f"  tiled vs whole: mean |diff| {diff.mean():.2f}/255, 99th percentile {np.percentile(diff, 99):.0f}/255; "
          f"in overlap bands {diff[band].mean():.2f}, elsewhere {diff[~band].mean():.2f}")
    if args.save_crops:
        from vidstyle.utils.image import save_image

        folder = Path(args.save_crops)
        folder.mkdir(parents=True, exist_ok=True)
        y, x = tile_starts(HEIGHT, 768, 128)[1], tile_starts(WIDTH, 768, 128)[1]
        for name in ("tiled", "whole"):
            crop = results[name]["image"][y - 192:y + 320, x - 192:x + 320]
            save_image(np.ascontiguousarray(crop), folder / f"tiling-{name}-crop.jpg", quality=85)
    return 0


if __name__ == "__main__":
    sys.exit(main())
