"""Peak memory of ``vidstyle video``: flat over video length at 1920×1080, and 3840×2160 under 4 GB; and of
``vidstyle stylize``/``image`` at any requested size: under 4 GB, by tiling or by a refusal naming the limit.

Generates test clips (vidstyle.io.synthetic: moving pattern + sine-tone audio, H.264), runs the real
command line in a subprocess for each, and samples its resident memory (/proc/PID/status VmRSS,
VmHWM) every 0.2 s. A flat pipeline shows the same peak for every length and an RSS timeline
that stops growing after the first frames.

    .venv/bin/python benchmarks/bench_memory.py [--lengths 10,30,90] [--fps 30] [--model fast]
        [--uhd-model quality] [--uhd-frames 4] [--stylize-sizes 1024,4096,5000,8000,12000,16000]
        [--image-sizes 256,512,768,1024,4000] [--still-model quality] [--json out.json]

Stills: a 12000×12000 PNG (a few hundred KB) stylized at each ``--long-side`` of ``--stylize-sizes`` and
as it is, and a photo rendered by ``image`` (2 steps: the peak comes with the first) at each of
``--image-sizes``; each row says whether the command wrote its output or refused, and its peak RSS.

``--model``/``--uhd-model``: registry names or paths; "fast"/"quality" with no trained model of that
name writes an untrained network of that architecture to a temporary .safetensors file (memory
does not depend on the weight values). Linux only (reads /proc).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1024 * 1024


def proc_memory(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in bytes for ``pid``, or None once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def run_sampled(cmd: list[str], interval: float = 0.2) -> dict:
    """Run ``cmd``; return its exit code, wall time, peak RSS and an RSS timeline [(seconds, bytes)]."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    timeline, peak = [], 0
    while proc.poll() is None:
        mem = proc_memory(proc.pid)
        if mem is not None:
            timeline.append((time.perf_counter() - start, mem[0]))
            peak = max(peak, mem[1])
        time.sleep(interval)
    stderr = proc.stderr.read()
    return {"returncode": proc.returncode, "seconds": time.perf_counter() - start, "peak_rss": peak,
            "timeline": timeline, "stderr_tail": stderr[-500:]}


def model_path(name: str, folder: Path) -> str:
    """A model file for ``name``: the registry's, or an untrained fast/quality network saved to ``folder``."""
    from vidstyle.errors import ModelError
    from vidstyle.models import build_network, find_model, full_arch_params, save_model

    try:
        return str(find_model(name))
    except ModelError:
        if name not in ("fast", "quality"):
            raise
    import torch

    torch.manual_seed(0)
    path = folder / f"untrained-{name}.safetensors"
    save_model(path, build_network(name), {"architecture": name, "arch_params": full_arch_params(name),
                                           "style_name": "untrained"})
    return str(path)


def timeline_summary(timeline: list, parts: int = 4) -> list[float]:
    """RSS in MB at 1/parts, 2/parts ... of the run (after the model has loaded)."""
    if not timeline:
        return []
    return [round(timeline[min(len(timeline) - 1, int(len(timeline) * k / parts))][1] / MB) for k in range(1, parts + 1)]


# Peak memory every still command must stay under, whatever size it is asked for.
LIMIT_MB = 4096


def stills(args: argparse.Namespace, tmp: Path) -> list[dict]:
    """Peak RSS of ``stylize`` and ``image`` at each requested size: each one writes its output or refuses."""
    import numpy as np
    from PIL import Image

    rows = []
    big = tmp / "big-12000.png"
    if args.stylize_sizes:
        # A smooth gradient compresses to a few hundred KB: a large image that is cheap to ship.
        ramp = np.linspace(0, 255, 12000, dtype=np.float32)
        Image.fromarray(np.stack([np.add.outer(ramp, ramp) / 2] * 3, axis=-1).astype(np.uint8)).save(big)
    photo = tmp / "photo.png"
    from vidstyle.io.synthetic import synthetic_scene, synthetic_style

    Image.fromarray(synthetic_scene(768, 1024)).save(photo)
    painting = tmp / "painting.png"
    Image.fromarray(synthetic_style(512, 512)).save(painting)
    model = model_path(args.still_model, tmp) if args.stylize_sizes else None
    cases = [("stylize", size) for size in args.stylize_sizes.split(",") if size] + [("stylize", "as is")] * bool(
        args.stylize_sizes) + [("image", size) for size in args.image_sizes.split(",") if size]
    for command, size in cases:
        out = tmp / "still-out.png"
        if command == "stylize":
            cmd = [sys.executable, "-m", "vidstyle", "stylize", str(big), str(out), "--model", model, "--backend",
                   args.backend, "--quiet", "--overwrite"] + ([] if size == "as is" else ["--long-side", size])
        else:
            cmd = [sys.executable, "-m", "vidstyle", "image", str(photo), str(painting), str(out), "--size", size,
                   "--steps", "2", "--quiet", "--overwrite"]
        res = run_sampled(cmd)
        refused = res["returncode"] == 2 and "more than the limit" in res["stderr_tail"]
        row = {"command": command, "size": size, "peak_rss_mb": round(res["peak_rss"] / MB), "wall_s": round(res["seconds"], 1),
               "outcome": "wrote" if res["returncode"] == 0 else "refused" if refused else f"failed ({res['returncode']})"}
        if res["returncode"] not in (0, 2) or (res["returncode"] == 2 and not refused):
            row["stderr_tail"] = res["stderr_tail"][-300:]
        rows.append(row)
        print(f"{command} {'--long-side' if command == 'stylize' else '--size'} {size}: {row['outcome']}, peak RSS "
              f"{row['peak_rss_mb']} MB, {row['wall_s']} s", flush=True)
        out.unlink(missing_ok=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lengths", default="10,30,90", help="1920x1080 clip lengths in seconds")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--model", default="fast")
    ap.add_argument("--uhd-model", default="quality,fast", help="models for the 3840x2160 run (comma-separated; empty: skip)")
    ap.add_argument("--uhd-frames", type=int, default=4)
    ap.add_argument("--stylize-sizes", default="1024,4096,5000,8000,12000,16000",
                    help="stylize --long-side values for a 12000x12000 PNG (empty: skip the stills)")
    ap.add_argument("--image-sizes", default="256,512,768,1024,4000", help="image --size values (empty: skip)")
    ap.add_argument("--still-model", default="quality", help="the model stylize runs (its activations are the largest)")
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if not Path("/proc/self/status").exists():
        print("bench_memory needs Linux /proc", file=sys.stderr)
        return 1
    results = {"load_average_start": os.getloadavg()[0], "hd": [], "uhd": [], "stills": []}
    with tempfile.TemporaryDirectory(prefix="vidstyle-mem-") as tmp:
        tmp = Path(tmp)
        from vidstyle.io.synthetic import write_test_clip

        def stylize(clip: Path, model: str) -> dict:
            out = tmp / "out.mp4"
            cmd = [sys.executable, "-m", "vidstyle", "video", str(clip), str(out), "--model", model,
                   "--backend", args.backend, "--quiet", "--overwrite"]
            res = run_sampled(cmd)
            if res["returncode"] != 0:
                print(f"failed: {' '.join(cmd)}\n{res['stderr_tail']}", file=sys.stderr)
            return res

        lengths = [float(s) for s in args.lengths.split(",") if s]
        hd_model = model_path(args.model, tmp) if lengths else None
        if lengths:
            print(f"1920x1080, model {args.model}, backend {args.backend}")
        for seconds in lengths:
            clip = tmp / f"hd-{seconds:g}s.mp4"
            write_test_clip(clip, width=1920, height=1080, fps=args.fps, seconds=seconds, audio=True)
            res = stylize(clip, hd_model)
            frames = round(seconds * args.fps)
            row = {"seconds_of_video": seconds, "frames": frames, "wall_s": round(res["seconds"], 1),
                   "peak_rss_mb": round(res["peak_rss"] / MB), "rss_mb_at_quarters": timeline_summary(res["timeline"]),
                   "ok": res["returncode"] == 0}
            results["hd"].append(row)
            print(f"  {seconds:6g} s ({frames} frames): peak RSS {row['peak_rss_mb']} MB, RSS at 1/4..4/4 of the run "
                  f"{row['rss_mb_at_quarters']} MB, {row['wall_s']} s wall", flush=True)
            clip.unlink()
        for name in [m for m in args.uhd_model.split(",") if m]:
            clip = tmp / "uhd.mp4"
            write_test_clip(clip, width=3840, height=2160, fps=args.fps, frames=args.uhd_frames, audio=True)
            res = stylize(clip, model_path(name, tmp))
            row = {"model": name, "frames": args.uhd_frames, "wall_s": round(res["seconds"], 1),
                   "peak_rss_mb": round(res["peak_rss"] / MB), "ok": res["returncode"] == 0}
            results["uhd"].append(row)
            print(f"3840x2160, model {name}, {args.uhd_frames} frames: peak RSS {row['peak_rss_mb']} MB, "
                  f"{row['wall_s']} s wall, ok={row['ok']}", flush=True)
        results["stills"] = stills(args, tmp)
    results["load_average_end"] = os.getloadavg()[0]
    worst = max([r["peak_rss_mb"] for r in results["stills"]] or [0])
    if results["stills"]:
        print(f"stills: highest peak RSS {worst} MB (the goal: under {LIMIT_MB} MB at any requested size)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
