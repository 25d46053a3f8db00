"""Time vidstyle's Gatys render against the `pastiche` command-line tool, in the same run.

Both render the same content/style pair at the same size, step count and VGG19 layers
(content relu4_2 = pastiche block4_relu2; style relu1_1..relu5_1 = block1_relu1..block5_relu1)
with L-BFGS, one loss evaluation per step, on the CPU with the same number of threads.
Runs alternate (ours, pastiche, ours, pastiche, ...) so both see the same machine load.

Per-step time: the median of the individual step durations (ours: between progress callbacks;
pastiche: from its `--info-step 1` elapsed column), which leaves out start-up (weights, targets).

    python benchmarks/bench_image.py --size 512 --steps 20 --repeats 2
    python benchmarks/bench_image.py --size 512 --steps 300 --repeats 1        # the full render
    python benchmarks/bench_image.py --variants float32,float32-cl,bfloat16-cl  # where the speed comes from
    python benchmarks/bench_image.py --interleaved 4   # one process, steps alternate: least load-sensitive

Inputs: ../shared/media/content/tubingen.jpg and styles/starry_night.jpg (or $VIDSTYLE_MEDIA);
when they are absent, a synthetic pair is drawn and the output says so.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from shared_media import media_root

REPO = Path(__file__).resolve().parents[1]
MEDIA = media_root()
CONTENT_LAYERS = ("relu4_2",)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

# Our variants: precision and memory layout of the VGG19 pass.
VARIANTS = {
    "float32": {"precision": "float32", "channels_last": False},
    "float32-cl": {"precision": "float32", "channels_last": True},
    "bfloat16-cl": {"precision": "bfloat16", "channels_last": True},
    "auto": {"precision": "auto", "channels_last": True},  # what `vidstyle image` uses by default
}


def pastiche_layer(name: str) -> str:
    """relu4_2 -> block4_relu2 (pastiche's names for the same VGG19 layers)."""
    kind, idx = name[:-3], name[-3:]
    return f"block{idx[0]}_{kind}{idx[2]}"


def inputs(workdir: Path) -> tuple[Path, Path, str]:
    content, style = MEDIA / "content" / "tubingen.jpg", MEDIA / "styles" / "starry_night.jpg"
    if content.is_file() and style.is_file():
        return content, style, f"{content.name} + {style.name} from {MEDIA}"
    sys.path.insert(0, str(REPO))
    from vidstyle.io.synthetic import synthetic_scene, synthetic_style

    content, style = workdir / "content.png", workdir / "style.png"
    Image.fromarray(synthetic_scene(384, 512)).save(content)
    Image.fromarray(synthetic_style(384, 512)).save(style)
    return content, style, f"synthetic pair (shared media not found at {MEDIA})"


def run_ours(content: Path, style: Path, size: int, steps: int, threads: int, variant: str, out: Path) -> dict:
    import torch

    from vidstyle.gatys import GatysEngine, GatysOptions, stylize_image

    torch.set_num_threads(threads)
    options = GatysOptions(
        size=size, steps=steps, optimizer="lbfgs", device="cpu", content_layers=CONTENT_LAYERS,
        style_layers=STYLE_LAYERS, **VARIANTS[variant],
    )
    stamps: list[float] = []
    start = time.perf_counter()
    engine = GatysEngine(options)
    stylize_image(content, style, engine=engine, output=out,
                  progress=lambda step, total, side, terms: stamps.append(time.perf_counter()))
    wall = time.perf_counter() - start
    durations = np.diff([start, *stamps])[1:]  # the first step includes weights and targets
    return {"per_step_s": float(np.median(durations)), "wall_s": wall, "steps": steps}


def run_pastiche(content: Path, style: Path, size: int, steps: int, threads: int, out: Path) -> dict:
    exe = shutil.which("pastiche") or str(Path(sys.executable).with_name("pastiche"))
    cmd = [
        exe, "--device", "cpu", "--optimizer", "lbfgs", "--num-steps", str(steps), "--size", str(size),
        "--content-layers", *map(pastiche_layer, CONTENT_LAYERS), "--style-layers", *map(pastiche_layer, STYLE_LAYERS),
        "--info-step", "1", "--seed", "0", "--content", str(content), "--styles", str(style), "--output", str(out),
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"pastiche failed: {proc.stderr.strip()[-500:]}")
    elapsed = [float(m.group(1)) for m in re.finditer(r"^\d+\s+([\d.]+)\s+[-\d.e+]+\s*$", proc.stdout, re.M)]
    if len(elapsed) != steps + 1:
        raise RuntimeError(f"could not read pastiche's per-step log ({len(elapsed)} rows for {steps} steps)")
    durations = np.diff(elapsed)[1:] if steps > 1 else np.diff(elapsed)
    return {"per_step_s": float(np.median(durations)), "wall_s": wall, "steps": steps, "command": " ".join(cmd)}


def evaluate_outputs(content: Path, style: Path, size: int, workdir: Path, variants: list[str], repeats: int) -> dict:
    """Median float32 loss of our renders: checks that bfloat16 arithmetic does not cost quality."""
    from vidstyle.gatys import GatysEngine, GatysOptions, total_loss
    from vidstyle.utils.image import as_uint8_image
    from vidstyle.utils.image import load_image, to_tensor

    engine = GatysEngine(GatysOptions(device="cpu", precision="float32", channels_last=False,
                                      content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS))
    targets = engine.targets(to_tensor(load_image(content, size)), [to_tensor(load_image(style, size))])
    out = {}
    for v in variants:
        losses = [total_loss(engine, to_tensor(as_uint8_image(workdir / f"ours-{v}-{rep}.png")), targets)
                  for rep in range(repeats) if (workdir / f"ours-{v}-{rep}.png").is_file()]
        if losses:
            out[v] = float(np.median(losses))
    return out


def run_interleaved(content: Path, style: Path, size: int, steps: int, threads: int) -> dict:
    """Both renderers in this process, alternating single steps: each step of ours is followed by one of
    pastiche's (its PasticheArtist class, as its CLI builds it), so both see the same moment's load.

    Returns {name: {"wall_s": median, "cpu_s": median process CPU time}} per step.
    """
    import torch
    from pastiche.pastiche import PasticheArtist

    from vidstyle.gatys import GatysEngine, GatysOptions
    from vidstyle.utils.image import load_image, to_tensor

    torch.set_num_threads(threads)
    artist = PasticheArtist(
        str(content), [str(style)], device="cpu", size=size, optimizer="lbfgs",
        content_layers=[pastiche_layer(n) for n in CONTENT_LAYERS], style_layers=[pastiche_layer(n) for n in STYLE_LAYERS],
    )
    options = GatysOptions(size=size, device="cpu", content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS)
    engine = GatysEngine(options)
    targets = engine.targets(to_tensor(load_image(content, size)), [to_tensor(load_image(style, size))])
    ours = engine.stepper(to_tensor(load_image(content, size)), targets)
    timings: dict[str, list[tuple[float, float]]] = {"vidstyle auto": [], "pastiche": []}
    artist.draw()  # warm-up steps, not timed
    ours()
    for _ in range(steps):
        for name, step in (("vidstyle auto", ours), ("pastiche", artist.draw)):
            wall, cpu = time.perf_counter(), time.process_time()
            step()
            timings[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {name: {"wall_s": float(np.median([t[0] for t in ts])), "cpu_s": float(np.median([t[1] for t in ts]))}
            for name, ts in timings.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--variants", default="auto", help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--no-pastiche", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the rendered images in")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--interleaved", type=int, default=0, metavar="N",
                        help="instead: N alternating single steps of both renderers in this process")
    args = parser.parse_args(argv)
    if args.interleaved:
        with tempfile.TemporaryDirectory() as tmp:
            content, style, source = inputs(Path(tmp))
            print(f"inputs: {source}; {args.size}px, threads={args.threads}, load average {os.getloadavg()[0]:.1f}")
            result = run_interleaved(content, style, args.size, args.interleaved, args.threads)
        for name, r in result.items():
            print(f"  {name:<14} wall {r['wall_s']:.2f} s/step  process CPU {r['cpu_s']:.2f} s/step")
        base = result["pastiche"]
        ours = result["vidstyle auto"]
        print(f"  ratio: {base['wall_s'] / ours['wall_s']:.2f}x (wall), {base['cpu_s'] / ours['cpu_s']:.2f}x (CPU)")
        return 0
    variants = [v for v in args.variants.split(",") if v]
    for v in variants:
        if v not in VARIANTS:
            parser.error(f"unknown variant {v!r}")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        content, style, source = inputs(Path(tmp))
        load = os.getloadavg()
        print(f"inputs: {source}")
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"threads={args.threads}, load average at start {load[0]:.1f}")
        print(f"render: {args.size}px long side, {args.steps} L-BFGS steps, content {','.join(CONTENT_LAYERS)}, "
              f"style {','.join(STYLE_LAYERS)}; {args.repeats} repeat(s), alternating")
        results: dict[str, list[dict]] = {v: [] for v in variants}
        if not args.no_pastiche:
            results["pastiche"] = []
        for rep in range(args.repeats):
            for v in variants:
                r = run_ours(content, style, args.size, args.steps, args.threads, v, workdir / f"ours-{v}-{rep}.png")
                results[v].append(r)
                print(f"  [{rep}] vidstyle {v:<12} {r['per_step_s']:.3f} s/step  wall {r['wall_s']:.1f} s", flush=True)
            if not args.no_pastiche:
                r = run_pastiche(content, style, args.size, args.steps, args.threads, workdir / f"pastiche-{rep}.png")
                results["pastiche"].append(r)
                print(f"  [{rep}] pastiche {'':<12} {r['per_step_s']:.3f} s/step  wall {r['wall_s']:.1f} s", flush=True)

        print("\nmedian over repeats (s/step):")
        summary = {name: statistics.median(r["per_step_s"] for r in rs) for name, rs in results.items()}
        for name, value in summary.items():
            ratio = f"  {summary['pastiche'] / value:.2f}x pastiche's speed" if "pastiche" in summary and name != "pastiche" else ""
            print(f"  {name:<12} {value:.3f}{ratio}")
        quality = evaluate_outputs(content, style, args.size, workdir, variants, args.repeats)
        if quality:
            print("\nfinal loss of each render, evaluated in float32 (same weights; lower is better):")
            for name, value in quality.items():
                print(f"  {name:<12} {value:.4f}")
        if args.json:
            args.json.write_text(json.dumps({"summary_s_per_step": summary, "runs": results, "inputs": source,
                                             "size": args.size, "steps": args.steps, "threads": args.threads,
                                             "load_at_start": load, "final_loss_float32": quality}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
