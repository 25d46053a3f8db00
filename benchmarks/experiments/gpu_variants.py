"""Where the quality network's GPU time goes, and what exact rewrites buy (CUDA machines only).

    python benchmarks/experiments/gpu_variants.py --json variants.json

For each variant of the network (``base``; ``fold``: nearest-upsample + 3×3 conv folded into four 2×2
phase convolutions, vidstyle.runtime.rewrite, which the torch backend uses; ``fold+pad``: also the 3-channel
first and last convolutions padded to 8 channels for the tensor cores; ``fold+s2d``/``fold+s2d4``: those
convolutions run on 2×2/4×4-packed pixels, rewrites.SpaceToDepthConv beside this script) it times the uint8
graph eager and under torch.compile at --width x --height, batch --batch, and prints the top kernels of the
compiled graph.
Every variant's output is compared with the base network's (max |difference| in /255).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from vidstyle.io.synthetic import synthetic_scene  # noqa: E402
from vidstyle.runtime.factory import resolve_network  # noqa: E402
from vidstyle.runtime.graph import Uint8Graph  # noqa: E402
from vidstyle.runtime.rewrite import fold_upsampling  # noqa: E402

from rewrites import pack_rgb_convolutions  # noqa: E402  (beside this script)


class PadInputChannels(nn.Module):
    """A convolution on 3 channels run as one on ``to`` channels (zeros added to input and weights)."""

    def __init__(self, conv: nn.Conv2d, to: int = 8) -> None:
        super().__init__()
        w = conv.weight.detach()
        self.weight = nn.Parameter(torch.cat([w, w.new_zeros(w.shape[0], to - w.shape[1], *w.shape[2:])], 1), requires_grad=False)
        self.bias = conv.bias
        self.to_channels = to

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([x, x.new_zeros(x.shape[0], self.to_channels - x.shape[1], *x.shape[2:])], 1)
        return F.conv2d(x, self.weight, self.bias)


class PadOutputChannels(nn.Module):
    def __init__(self, conv: nn.Conv2d, to: int = 8) -> None:
        super().__init__()
        w = conv.weight.detach()
        self.weight = nn.Parameter(torch.cat([w, w.new_zeros(to - w.shape[0], *w.shape[1:])], 0), requires_grad=False)
        b = conv.bias.detach()
        self.bias = nn.Parameter(torch.cat([b, b.new_zeros(to - b.shape[0])]), requires_grad=False)
        self.channels = conv.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight, self.bias)[:, : self.channels]


def pad_rgb_convs(network: nn.Module) -> nn.Module:
    for module in list(network.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.Conv2d) and child.groups == 1 and child.stride == (1, 1) and child.padding == (0, 0):
                if child.in_channels == 3:
                    setattr(module, name, PadInputChannels(child))
                elif child.out_channels == 3:
                    setattr(module, name, PadOutputChannels(child))
    return network


def graph_of(network: nn.Module, device, dtype) -> Uint8Graph:
    net = network.float().eval().to(device).to(dtype).to(memory_format=torch.channels_last)
    for p in net.parameters():
        p.requires_grad_(False)
    return Uint8Graph(net, compute_dtype=dtype).eval()


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn, iters: int, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        sync()
        out.append((time.perf_counter() - start) / iters)
    return out


def top_kernels(fn, rows: int) -> str:
    from torch.profiler import ProfilerActivity, profile

    activity = ProfilerActivity.CUDA if torch.cuda.is_available() else ProfilerActivity.CPU
    with profile(activities=[activity]) as prof:
        for _ in range(3):
            fn()
        sync()
    averages = prof.key_averages()
    for key in ("self_device_time_total", "self_cuda_time_total"):
        try:
            return averages.table(sort_by=key, row_limit=rows, max_name_column_width=70)
        except (AttributeError, KeyError, ValueError):
            continue
    return averages.table(row_limit=rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="starry_night-quality")
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--precision", default="fp16", choices=["fp16", "bf16"])
    p.add_argument("--variants", default="base,fold,fold+s2d,fold+s2d4")
    p.add_argument("--autotune", default="fold", help="variants to also compile with max-autotune-no-cudagraphs ('' for none)")
    p.add_argument("--profile-rows", type=int, default=14)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", default=None)
    p.add_argument("--device", default="cuda", help="cuda (cpu only checks the script, in bf16)")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 2
    torch.backends.cudnn.benchmark = True
    device = torch.device(args.device)
    dtype = torch.float16 if args.precision == "fp16" and device.type == "cuda" else torch.bfloat16
    network = resolve_network(args.model)[0].float().eval()
    image = synthetic_scene(args.height, args.width)
    frames = torch.from_numpy(np.stack([image] * args.batch)).to(device)
    builders = {
        "base": lambda: resolve_network(args.model)[0],
        "fold": lambda: fold_upsampling(network),
        "fold+pad": lambda: pad_rgb_convs(fold_upsampling(network)),
        "pad": lambda: pad_rgb_convs(resolve_network(args.model)[0]),
        "fold+s2d": lambda: pack_rgb_convolutions(fold_upsampling(network), factor=2),
        "fold+s2d4": lambda: pack_rgb_convolutions(fold_upsampling(network), factor=4),
    }
    report = {"gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None, "torch": torch.__version__, "rows": []}

    def record(variant: str, mode: str, sec: list[float], note: str = "") -> None:
        ms = statistics.median(sec) * 1e3 / args.batch
        report["rows"].append({"variant": variant, "mode": mode, "ms_per_frame": ms, "fps": 1e3 / ms, "note": note})
        print(f"{variant:>9} {mode:>10}: {ms:6.3f} ms/frame {1e3 / ms:7.1f} fps {note}", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1))

    with torch.inference_mode():
        reference = graph_of(builders["base"](), device, dtype)(frames[:1]).int()
    wanted = [v for v in args.variants.split(",") if v]
    autotune = [v for v in args.autotune.split(",") if v]
    for variant in wanted + [f"{v}@autotune" for v in autotune]:
        name, _, mode = variant.partition("@")
        graph = graph_of(builders[name](), device, dtype)
        with torch.inference_mode():
            if not mode:
                for _ in range(3):
                    out = graph(frames)
                diff = int((out[:1].int() - reference).abs().max())
                record(name, "eager", timed(lambda: graph(frames), args.iters, args.repeats), f"max diff vs base {diff}/255")
            compiled = torch.compile(graph, dynamic=False, mode="max-autotune-no-cudagraphs" if mode else None)
            start = time.perf_counter()
            for _ in range(3):
                out = compiled(frames)
            sync()
            took = time.perf_counter() - start
            diff = int((out[:1].int() - reference).abs().max())
            record(name, "autotuned" if mode else "compiled", timed(lambda: compiled(frames), args.iters, args.repeats),
                   f"compiled in {took:.0f} s; max diff vs base {diff}/255")
            if not mode and args.profile_rows:
                print(top_kernels(lambda: compiled(frames), args.profile_rows), flush=True)
        del graph, compiled
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
