"""How much of a live style switch's frame gaps is the graph export holding the GIL?

Runs ``benchmarks/bench_switch.py``'s session twice in one process: as shipped, then with every model's
ONNX graph exported beforehand (a memo keyed by the network's weights), so a load only compiles and warms up.

    .venv/bin/python benchmarks/experiments/switch_export_cost.py [--threads 1] [--repeats 2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_switch  # noqa: E402

import vidstyle.runtime.openvino_backend as ov_backend  # noqa: E402
from vidstyle.runtime.factory import resolve_network  # noqa: E402


def weights_key(network: torch.nn.Module) -> tuple:
    return tuple(round(float(p.detach().double().sum()), 6) for p in network.parameters())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=bench_switch.DEFAULT_MODELS)
    parser.add_argument("--every", type=int, default=180)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    models = args.models.split(",")
    exported = ov_backend.onnx_bytes
    memo: dict = {}

    def memo_bytes(network, **kwargs):
        key = (weights_key(network), tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = exported(network, **kwargs)
        return memo[key]

    for mode in ("export in the load", "exported before"):
        if mode == "exported before":
            ov_backend.onnx_bytes = memo_bytes
            for name in models:
                network = resolve_network(name)[0].float().eval()
                memo_bytes(network, uint8_io=True, strength=1.0, style_input=False)
        rows = []
        for _ in range(args.repeats):
            rows += bench_switch.one_session(models, 640, 480, 30.0, args.every, args.threads)
        gaps = [r["max_gap_ms"] for r in rows]
        loads = [r["load_ms"] for r in rows]
        print(f"{mode}: {len(rows)} switches; load median {statistics.median(loads):.0f} ms; longest gap "
              f"median {statistics.median(gaps):.0f} ms, max {max(gaps):.0f} ms")


if __name__ == "__main__":
    main()
