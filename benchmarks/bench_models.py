"""Model-only speed at 640×480 on this machine's CPU cores, against the CPU speed targets below.

1. quality model: the eager float32 PyTorch baseline, run the way pytorch/examples runs it
   (NCHW float tensor, torch.no_grad, default threads), against vidstyle's best CPU backend
   (create_stylizer backend="auto", plus OpenVINO bf16), timed interleaved in the same run so machine
   noise hits both alike. Target: >= 3x.
2. fast model: every backend and precision. Target: >= 60 fps (<= 16.7 ms).

Uses the zoo models (starry_night-quality / starry_night-fast-painted or --quality/--fast names) when present, else
untrained networks of the same architecture (speed does not depend on weight values; the output
differences reported then are for random weights).

    .venv/bin/python benchmarks/bench_models.py [--runs 9] [--threads 2] [--skip-quality] [--compile] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

from vidstyle.runtime import create_stylizer
from vidstyle.io.synthetic import synthetic_scene  # noqa: E402
from vidstyle.pipeline.bench import machine_description  # noqa: E402


def pick_model(name: str | None, arch: str):
    """(model, label): the named/zoo model when it loads, else an untrained network of ``arch``."""
    from vidstyle.errors import ModelError
    from vidstyle.models import build_network, load_model

    zoo = {"fast": ["starry_night-fast-painted"], "quality": ["starry_night-quality", "mosaic-quality"]}
    candidates = [name] if name else zoo.get(arch, [])
    for candidate in candidates:
        try:
            loaded = load_model(candidate)
            return loaded.network, loaded.name
        except ModelError:
            continue
    torch.manual_seed(0)
    return build_network(arch).eval(), f"{arch} (untrained, seed 0)"


def pytorch_examples_baseline(network: torch.nn.Module):
    """Eager float32 the pytorch/examples way: uint8 -> float NCHW tensor, forward, clamp, back to uint8."""

    def run(image: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(image).permute(2, 0, 1).float().div(255.0).unsqueeze(0).contiguous()
            y = network(x).clamp(0, 1).mul(255.0).round()
            return y[0].permute(1, 2, 0).to(torch.uint8).numpy()

    return run


def timed(fn, image) -> float:
    start = time.perf_counter()
    fn(image)
    return (time.perf_counter() - start) * 1000.0


def interleaved(cases: dict, image: np.ndarray, runs: int, warmup: int = 2) -> dict:
    """Median/min ms per case; each round times every case once, in turn."""
    for fn in cases.values():
        for _ in range(warmup):
            fn(image)
    times = {name: [] for name in cases}
    for _ in range(runs):
        for name, fn in cases.items():
            times[name].append(timed(fn, image))
    return {name: {"ms_median": statistics.median(t), "ms_min": min(t), "runs": len(t)} for name, t in times.items()}


def max_diff(a: np.ndarray, b: np.ndarray) -> dict:
    d = np.abs(a.astype(int) - b.astype(int))
    return {"max": int(d.max()), "mean": float(d.mean()), "p99.9": float(np.percentile(d, 99.9))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9, help="timed rounds for the quality model (fast: 4x as many)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--quality", default=None, help="quality model name/path (default: zoo, else untrained)")
    ap.add_argument("--fast", default=None, help="fast model name/path (default: zoo, else untrained)")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--compile", action="store_true", help="add torch.compile to the fast-model table (slow to compile)")
    ap.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    image = synthetic_scene(args.height, args.width)
    result = {"machine": machine_description(), "size": [args.width, args.height], "threads": args.threads}
    print(f"machine: {result['machine']}", flush=True)

    if not args.skip_quality:
        network, label = pick_model(args.quality, "quality")
        baseline = pytorch_examples_baseline(network)
        cases = {"pytorch/examples eager fp32": baseline}
        ours = {
            "vidstyle auto": create_stylizer(network, backend="auto", device="cpu", threads=args.threads, tile=None),
            "vidstyle openvino fp32": create_stylizer(network, backend="openvino", device="cpu", threads=args.threads,
                                                      precision="fp32", tile=None),
            "vidstyle onnxruntime fp32": create_stylizer(network, backend="onnxruntime", device="cpu",
                                                         threads=args.threads, precision="fp32", tile=None),
        }
        cases.update({f"{k} ({s.name})": s.stylize for k, s in ours.items()})
        timings = interleaved(cases, image, args.runs)
        ref = baseline(image)
        base_ms = timings["pytorch/examples eager fp32"]["ms_median"]
        print(f"\nquality model: {label}, {args.width}x{args.height}, {args.threads} threads, {args.runs} interleaved rounds")
        for name, t in timings.items():
            fn = cases[name]
            diff = max_diff(fn(image), ref)
            t.update(speedup=base_ms / t["ms_median"], diff_vs_baseline=diff)
            print(f"  {name:<52} {t['ms_median']:8.1f} ms (min {t['ms_min']:.1f})  x{t['speedup']:.2f}  "
                  f"diff vs baseline max {diff['max']}/255 mean {diff['mean']:.3f}")
        result["quality"] = {"model": label, "timings": timings}

    network, label = pick_model(args.fast, "fast")
    configs = {
        "torch fp32 (channels-last)": dict(backend="torch", precision="fp32"),
        "torch bf16": dict(backend="torch", precision="bf16"),
        "onnxruntime fp32": dict(backend="onnxruntime", precision="fp32"),
        "openvino fp32": dict(backend="openvino", precision="fp32"),
        "openvino bf16": dict(backend="openvino", precision="bf16"),
        "auto": dict(backend="auto"),
    }
    if args.compile:
        configs["torch fp32 torch.compile"] = dict(backend="torch", precision="fp32", compile=True)
    stylizers = {}
    for name, cfg in configs.items():
        try:
            stylizers[name] = create_stylizer(network, device="cpu", threads=args.threads, tile=None, **cfg)
        except Exception as exc:
            print(f"  {name}: unavailable ({exc})")
    cases = {f"{k} ({s.name})": s.stylize for k, s in stylizers.items()}
    ref = pytorch_examples_baseline(network)(image)
    for name, fn in cases.items():
        start = time.perf_counter()
        fn(image)  # first frame: torch.compile compiles here
        if "compile" in name:
            print(f"  {name}: first frame (compilation) {time.perf_counter() - start:.1f} s", flush=True)
    timings = interleaved(cases, image, args.runs * 4)
    print(f"\nfast model: {label}, {args.width}x{args.height}, {args.threads} threads, {args.runs * 4} interleaved rounds")
    for name, t in timings.items():
        diff = max_diff(cases[name](image), ref)
        t.update(fps=1000.0 / t["ms_median"], diff_vs_fp32=diff)
        print(f"  {name:<48} {t['ms_median']:7.1f} ms (min {t['ms_min']:.1f})  {t['fps']:6.1f} fps  "
              f"diff vs torch fp32 max {diff['max']}/255 mean {diff['mean']:.3f}")
    result["fast"] = {"model": label, "timings": timings}
    result["load_average_end"] = os.getloadavg()[0]
    print(f"\nload average (1 min) at the end: {result['load_average_end']:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
