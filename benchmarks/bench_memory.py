"""Peak memory of ``vidstyle video``: flat over video length at 1920×1080, and 3840×2160 under 4 GB.

Generates test clips (vidstyle.io.synthetic: moving pattern + sine-tone audio, H.264), runs the real
command line in a subprocess for each, and samples its resident memory (/proc/PID/status VmRSS,
VmHWM) every 0.2 s. A flat pipeline shows the same peak for every length and an RSS timeline
that stops growing after the first frames.

    .venv/bin/python benchmarks/bench_memory.py [--lengths 10,30,90] [--fps 30] [--model fast]
        [--uhd-model quality] [--uhd-frames 4] [--json out.json]

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lengths", default="10,30,90", help="1920x1080 clip lengths in seconds")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--model", default="fast")
    ap.add_argument("--uhd-model", default="quality,fast", help="models for the 3840x2160 run (comma-separated; empty: skip)")
    ap.add_argument("--uhd-frames", type=int, default=4)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if not Path("/proc/self/status").exists():
        print("bench_memory needs Linux /proc", file=sys.stderr)
        return 1
    results = {"load_average_start": os.getloadavg()[0], "hd": [], "uhd": []}
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
    results["load_average_end"] = os.getloadavg()[0]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
