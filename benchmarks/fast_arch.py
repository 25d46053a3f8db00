"""Time transform-network candidates at 640×480 on 2 threads: torch eager (fp32) and OpenVINO (from ONNX).

This is the measurement that chose the ``fast`` architecture (see models/README.md).

    .venv/bin/python benchmarks/fast_arch.py [--runs 30]
"""
from __future__ import annotations

import warnings

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from vidstyle.models.networks import build_network, count_parameters

CANDIDATES = {
    "fast c48 b4 IN shuffle": ("fast", dict(channels=48, blocks=4, norm="instance", last_upsample="shuffle")),
    "fast c48 b4 IN bilinear": ("fast", dict(channels=48, blocks=4, norm="instance", last_upsample="bilinear")),
    "fast c48 b4 none shuffle": ("fast", dict(channels=48, blocks=4, norm="none", last_upsample="shuffle")),
    "fast c48 b4 BN shuffle": ("fast", dict(channels=48, blocks=4, norm="batch", last_upsample="shuffle")),
    "fast c32 b4 IN shuffle": ("fast", dict(channels=32, blocks=4, norm="instance")),
    "fast c64 b5 IN shuffle": ("fast", dict(channels=64, blocks=5, norm="instance")),
    "quality (Johnson)": ("quality", {}),
}


def median_ms(fn, runs: int) -> float:
    fn()
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    warnings.filterwarnings("ignore")  # the ONNX exporter's deprecation chatter
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--only", default=None, help="substring of candidate names to time")
    args = ap.parse_args()
    torch.set_num_threads(2)
    import openvino as ov

    core = ov.Core()
    x = torch.rand(1, 3, args.height, args.width)
    print(f"{args.width}x{args.height}, 2 threads, median of {args.runs} runs")
    print(f"{'candidate':24s} {'params':>9s} {'torch fp32 ms':>14s} {'OV fp32 ms':>11s} {'OV bf16 ms':>11s}")
    for label, (arch, params) in CANDIDATES.items():
        if args.only and args.only not in label:
            continue
        net = build_network(arch, **params).eval()
        with torch.inference_mode():
            t_torch = median_ms(lambda: net(x), max(3, args.runs // 5) if arch == "quality" else args.runs)
        with tempfile.TemporaryDirectory() as tmp:
            onnx_path = Path(tmp) / "net.onnx"
            torch.onnx.export(net, (x,), str(onnx_path), input_names=["image"], output_names=["stylized"],
                              opset_version=17, dynamo=False)
            model = core.read_model(str(onnx_path))
            results = []
            for precision in ("f32", "bf16"):
                compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 2,
                                                             "INFERENCE_PRECISION_HINT": precision,
                                                             "PERFORMANCE_HINT": "LATENCY"})
                request = compiled.create_infer_request()
                xn = x.numpy()
                results.append(median_ms(lambda: request.infer({0: xn}), args.runs))
        print(f"{label:24s} {count_parameters(net):9d} {t_torch:14.1f} {results[0]:11.1f} {results[1]:11.1f}", flush=True)


if __name__ == "__main__":
    main()
