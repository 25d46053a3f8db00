"""GPU throughput of the transform networks, and of `vidstyle video` in GPU file mode.

Run on a CUDA machine (it refuses without one unless --device cpu is given, which is only for
checking the script itself on tiny sizes):

    python benchmarks/bench_gpu.py --json gpu.json

Per model and precision it measures, at --width x --height:
- ``device``: frames already on the GPU as uint8 (B, H, W, 3), the whole uint8-to-uint8 graph
  (the network plus colour scaling and rounding), timed with CUDA events: what the GPU sustains.
- ``graph``: the same replayed as a CUDA graph (no Python or launch overhead).
- ``host``: numpy frames in and out through ``TorchStylizer.stylize_stream`` (pinned memory,
  upload of batch i+1 overlapping inference on batch i): what a program feeding frames gets.
- ``compiled``: ``torch.compile`` of the graph (last, since compiling takes a while).
Then ``vidstyle video`` end to end on a generated clip (decode, batch, stylize, encode, audio copy).
Every row is the median of --repeats timed runs of --iters batches each.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vidstyle.io.synthetic import synthetic_scene  # noqa: E402
from vidstyle.runtime.factory import resolve_network  # noqa: E402
from vidstyle.runtime.graph import Uint8Graph  # noqa: E402
from vidstyle.runtime.torch_backend import TorchStylizer  # noqa: E402

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device, iters: int, repeats: int) -> list[float]:
    """Seconds per call of ``fn``: ``repeats`` samples, each the mean over ``iters`` calls."""
    samples = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        sync(device)
        samples.append((time.perf_counter() - start) / iters)
    return samples


def make_graph(network: torch.nn.Module, device: torch.device, precision: str) -> Uint8Graph:
    import copy

    net = copy.deepcopy(network).float().eval().to(device)
    dtype = DTYPES[precision]
    net = net.to(dtype).to(memory_format=torch.channels_last)
    for p in net.parameters():
        p.requires_grad_(False)
    return Uint8Graph(net, compute_dtype=dtype).eval()


def row(results: list, **fields) -> None:
    results.append(fields)
    extra = f"  ({fields['note']})" if fields.get("note") else ""
    print(f"{fields['model']:>22} {fields['precision']:>5} {fields['mode']:>9} batch {fields['batch']:>3}: "
          f"{fields['ms_per_frame']:7.3f} ms/frame  {fields['fps']:8.1f} fps{extra}", flush=True)


def bench_model(name: str, device: torch.device, args, results: list) -> None:
    network, _meta, _ = resolve_network(name)
    image = synthetic_scene(args.height, args.width)
    for precision in args.precisions:
        graph = make_graph(network, device, precision)
        for batch in args.batches:
            frames = torch.from_numpy(np.stack([image] * batch)).to(device)
            with torch.inference_mode():
                for _ in range(3):  # warm-up; cuDNN picks its algorithms here (benchmark mode)
                    graph(frames)
                sec = timed(lambda: graph(frames), device, args.iters, args.repeats)
            med = statistics.median(sec) / batch
            row(results, model=name, precision=precision, mode="device", batch=batch,
                ms_per_frame=med * 1e3, fps=1.0 / med, samples_ms=[s * 1e3 / batch for s in sec])
        if device.type == "cuda" and args.cuda_graph:
            batch = args.graph_batch
            static_in = torch.from_numpy(np.stack([image] * batch)).to(device)
            with torch.inference_mode():
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    for _ in range(3):
                        graph(static_in)
                torch.cuda.current_stream().wait_stream(side)
                cuda_graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(cuda_graph):
                    static_out = graph(static_in)
                sec = timed(cuda_graph.replay, device, args.iters, args.repeats)
            med = statistics.median(sec) / batch
            row(results, model=name, precision=precision, mode="graph", batch=batch,
                ms_per_frame=med * 1e3, fps=1.0 / med, samples_ms=[s * 1e3 / batch for s in sec])
            del static_out, cuda_graph
        # Host to host through the backend the CLI uses.
        if precision in ("fp16", "fp32") and (device.type == "cuda" or precision == "fp32"):
            batch = args.graph_batch
            stylizer = TorchStylizer(network, device, precision=precision, batch_size=batch)
            frames_np = [image] * (batch * args.iters)
            for _ in stylizer.stylize_stream([image] * (batch * 2)):
                pass
            sec = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                count = sum(1 for _ in stylizer.stylize_stream(frames_np))
                sec.append((time.perf_counter() - start) / count)
            stylizer.close()
            med = statistics.median(sec)
            row(results, model=name, precision=precision, mode="host", batch=batch,
                ms_per_frame=med * 1e3, fps=1.0 / med, samples_ms=[s * 1e3 for s in sec])
        del graph
        if device.type == "cuda":
            torch.cuda.empty_cache()


def bench_compiled(name: str, device: torch.device, args, results: list) -> None:
    network, _meta, _ = resolve_network(name)
    image = synthetic_scene(args.height, args.width)
    precision = args.precisions[0]
    graph = make_graph(network, device, precision)
    batch = args.graph_batch
    frames = torch.from_numpy(np.stack([image] * batch)).to(device)
    compiled = torch.compile(graph, dynamic=False)
    start = time.perf_counter()
    with torch.inference_mode():
        for _ in range(3):
            compiled(frames)
        sync(device)
        compile_s = time.perf_counter() - start
        sec = timed(lambda: compiled(frames), device, args.iters, args.repeats)
        # Agreement with eager in the same precision (compilation must not change the picture).
        diff = (compiled(frames[:1]).int() - graph(frames[:1]).int()).abs()
    med = statistics.median(sec) / batch
    row(results, model=name, precision=precision, mode="compiled", batch=batch, ms_per_frame=med * 1e3,
        fps=1.0 / med, samples_ms=[s * 1e3 / batch for s in sec],
        note=f"compiled in {compile_s:.0f} s; max |compiled - eager| {int(diff.max())}/255")


def agreement(name: str, device: torch.device, args) -> dict:
    """fp16/bf16 on the device against fp32 on the CPU, on a 640x480 frame: the 2/255 rule."""
    network, _meta, _ = resolve_network(name)
    image = synthetic_scene(480, 640, seed=3)
    ref = TorchStylizer(network, torch.device("cpu"), precision="fp32").stylize(image).astype(np.int16)
    out = {}
    for precision in args.precisions:
        if device.type == "cpu" and precision == "fp16":
            continue
        got = TorchStylizer(network, device, precision=precision).stylize(image).astype(np.int16)
        d = np.abs(got - ref)
        out[precision] = {"max": int(d.max()), "mean": float(d.mean()), "p999": float(np.percentile(d, 99.9)),
                          "share_over_2": float((d > 2).mean())}
        print(f"{name:>22} {precision:>5} vs CPU fp32 at 640x480: max {d.max()}/255, mean {d.mean():.3f}, "
              f"99.9th percentile {np.percentile(d, 99.9):.0f}, pixels over 2/255: {100 * (d > 2).mean():.3f}%", flush=True)
    return out


def bench_video(name: str, device: torch.device, args) -> dict:
    from vidstyle.io.synthetic import write_test_clip
    from vidstyle.pipeline.video import stylize_video

    with tempfile.TemporaryDirectory(prefix="vidstyle-gpu-") as tmp:
        clip = Path(tmp) / "in.mp4"
        start = time.perf_counter()
        write_test_clip(clip, width=args.width, height=args.height, fps=args.video_fps,
                        seconds=args.video_frames / args.video_fps, audio=True)
        made = time.perf_counter() - start
        # Decode alone, for context: the file mode cannot beat its decoder.
        from vidstyle.io.file import FileSource

        start = time.perf_counter()
        with FileSource(clip, threads=8) as src:
            decoded = sum(1 for _ in src)
        decode_fps = decoded / (time.perf_counter() - start)
        out = Path(tmp) / "out.mp4"
        result = stylize_video(clip, out, name, device=str(device), progress=False, preset=args.preset)
        import av

        with av.open(str(out)) as c:
            has_audio = bool(c.streams.audio)
            frames = sum(1 for _ in c.decode(video=0))
        info = {"model": name, "frames": result.frames_out, "frames_decoded_back": frames, "audio": has_audio,
                "seconds": result.seconds, "fps": result.fps, "model_fps": result.model_fps,
                "decode_only_fps": decode_fps, "clip_written_s": made, "preset": args.preset or "default"}
        print(f"{name:>22} vidstyle video {args.width}x{args.height}: {result.frames_out} frames in {result.seconds:.1f} s "
              f"= {result.fps:.1f} fps end to end (network {result.model_fps:.1f} fps; decoding alone {decode_fps:.0f} fps); "
              f"read back {frames} frames, audio {has_audio}", flush=True)
        return info


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="starry_night-quality,starry_night-fast-painted")
    p.add_argument("--device", default="cuda")
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--precisions", default="fp16,bf16,fp32")
    p.add_argument("--batches", default="1,4,8,16")
    p.add_argument("--graph-batch", type=int, default=8, help="batch of the CUDA-graph, host and compiled rows")
    p.add_argument("--iters", type=int, default=10, help="batches per timed run")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per row (median reported)")
    p.add_argument("--no-cuda-graph", dest="cuda_graph", action="store_false")
    p.add_argument("--compile", default="", help="comma-separated models to also time under torch.compile")
    p.add_argument("--video-models", default="starry_night-quality,starry_night-fast-painted")
    p.add_argument("--video-frames", type=int, default=240)
    p.add_argument("--video-fps", type=float, default=24.0)
    p.add_argument("--preset", default=None, help="x264 preset for the end-to-end rows (default: vidstyle's)")
    p.add_argument("--json", default=None)
    args = p.parse_args()
    args.precisions = [s for s in args.precisions.split(",") if s]
    args.batches = [int(s) for s in args.batches.split(",") if s]
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: this benchmark is for GPU machines", file=sys.stderr)
        return 2
    machine = {"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
               "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
               "cpu_cores": os.cpu_count()}
    print(json.dumps(machine), flush=True)
    torch.backends.cudnn.benchmark = True
    report = {"machine": machine, "size": [args.width, args.height], "rows": [], "agreement": {}, "video": [], "errors": []}

    def save() -> None:
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1))

    models = [m for m in args.models.split(",") if m]
    for name in models:
        try:
            report["agreement"][name] = agreement(name, device, args)
            bench_model(name, device, args, report["rows"])
        except Exception as exc:  # keep what the other models give
            report["errors"].append(f"{name}: {type(exc).__name__}: {exc}")
            print(f"error: {name}: {exc}", flush=True)
        save()
    for name in [m for m in args.video_models.split(",") if m]:
        try:
            report["video"].append(bench_video(name, device, args))
        except Exception as exc:
            report["errors"].append(f"video {name}: {type(exc).__name__}: {exc}")
            print(f"error: video {name}: {exc}", flush=True)
        save()
    for name in [m for m in args.compile.split(",") if m]:
        try:
            bench_compiled(name, device, args, report["rows"])
        except Exception as exc:
            report["errors"].append(f"compile {name}: {type(exc).__name__}: {exc}")
            print(f"error: compile {name}: {exc}", flush=True)
        save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
