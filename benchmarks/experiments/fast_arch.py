"""Time transform-network candidates at 640×480 on 2 threads: OpenVINO (from ONNX, fp32 and bf16) and torch eager.

This is the measurement that chose the ``fast`` architecture (see FAST_ARCH_NOTES.md beside it). The machine is
shared, so the candidates are timed interleaved (one inference of each in turn, repeated) and compared by ratio.
The candidates are ``build_network("fast", ...)`` options; this script records how the choice was made.

    .venv/bin/python benchmarks/experiments/fast_arch.py [--runs 25] [--torch] [--width 1280 --height 720] [--only "shuffle PF"]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings

import torch

from vidstyle.models.networks import build_network, count_parameters

# The candidates the package still builds. The others this measurement compared (batch norm, no norm, a second
# bilinear stage instead of the pixel shuffle) were removed from FastNet once no shipped model used them; their
# figures are in FAST_ARCH_NOTES.md.
CANDIDATES = {
    # The first upsampling stage projecting 48 -> 16 channels before interpolating (the shipped choice).
    "fast c48 b4 shuffle PF": ("fast", dict(channels=48, blocks=4, project_first=True)),
    "fast c48 b4 shuffle": ("fast", dict(channels=48, blocks=4, project_first=False)),
    "fast c48 b4 full-res head PF": ("fast", dict(channels=48, blocks=4, residual_output=False, deblock=False,
                                                  head_channels=8, head_blur=True)),
    "fast c32 b4 shuffle": ("fast", dict(channels=32, blocks=4, project_first=False)),
    "fast c64 b5 shuffle": ("fast", dict(channels=64, blocks=5, project_first=False)),
    "quality (Johnson)": ("quality", {}),
}


def main() -> None:
    warnings.filterwarnings("ignore")  # the ONNX exporter's deprecation chatter
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=25)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--torch", action="store_true", help="also time torch eager fp32 (slow)")
    ap.add_argument("--only", default="", help="comma-separated substrings: time only the candidates whose label has one")
    args = ap.parse_args()
    if args.only:
        keep = [k for k in CANDIDATES if any(s in k for s in args.only.split(","))]
        for k in [k for k in CANDIDATES if k not in keep]:
            del CANDIDATES[k]
    torch.set_num_threads(2)
    import openvino as ov

    core = ov.Core()
    x = torch.rand(1, 3, args.height, args.width)
    xn = x.numpy()
    calls, params, nets = {}, {}, {}
    for label, (arch, kw) in CANDIDATES.items():
        torch.manual_seed(0)
        net = build_network(arch, **kw).eval()
        nets[label], params[label] = net, count_parameters(net)
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/net.onnx"
            torch.onnx.export(net, (x,), path, opset_version=17, dynamo=False)
            model = core.read_model(path)
            for precision in ("f32", "bf16"):
                compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 2,
                                                             "INFERENCE_PRECISION_HINT": precision,
                                                             "PERFORMANCE_HINT": "LATENCY"})
                request = compiled.create_infer_request()
                calls[(label, precision)] = (lambda r=request: r.infer({0: xn}))
    if args.torch:
        for label, net in nets.items():
            calls[(label, "torch")] = (lambda n=net: n(x))
    times = {k: [] for k in calls}
    with torch.inference_mode():
        for k, fn in calls.items():  # warm-up
            fn()
        for i in range(args.runs):
            for k, fn in calls.items():
                if k[1] == "torch" and "quality" in k[0] and i % 5:
                    continue  # the Johnson net in eager mode takes seconds: time it on every 5th round
                t = time.perf_counter()
                fn()
                times[k].append((time.perf_counter() - t) * 1000)
    print(f"{args.width}x{args.height}, 2 threads, interleaved, median of {args.runs} runs (ms)")
    head = f"{'candidate':26s} {'params':>9s} {'OV fp32':>9s} {'OV bf16':>9s}" + (f" {'torch fp32':>11s}" if args.torch else "")
    print(head)
    for label in CANDIDATES:
        row = f"{label:26s} {params[label]:9d} {statistics.median(times[(label, 'f32')]):9.1f} " \
              f"{statistics.median(times[(label, 'bf16')]):9.1f}"
        if args.torch:
            row += f" {statistics.median(times[(label, 'torch')]):11.1f}"
        print(row)


if __name__ == "__main__":
    main()
