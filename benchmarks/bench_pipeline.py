"""Video pipeline benchmarks: decode+encode cost, pipeline efficiency, live latency, real clips.

    python benchmarks/bench_pipeline.py                 # everything (a few minutes on 2 cores)
    python benchmarks/bench_pipeline.py --only trivial  # trivial | efficiency | live | media
    python benchmarks/bench_pipeline.py --model starry_night-fast-painted --runs 5 --json out.json

trivial     file pipeline fps with an identity stylizer at 640x480 and 1920x1080: the decode +
            encode + threading cost alone (synthetic clips written here, h264 at the default preset).
efficiency  end-to-end fps of `stylize_video` / model-only fps of the same stylizer on the same
            decoded frames, interleaved run by run (goal >= 0.9).
live        capture-to-display latency of the live pipeline with a file source paced like a
            30 fps camera, headless (goal <= one frame interval + the model's time).
media       `vidstyle video` (a subprocess, as a user runs it) on every clip in ../shared/media/video:
            frames in/out, durations, audio kept. Skipped with a note when the folder is absent.

The model is a registry name or path (--model); without one an untrained "fast" network is
saved to a temporary file and used (its speed is that of the architecture; weights do not matter).
Torch and the inference backends are limited to --threads (default 2). Medians of --runs runs.
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

from shared_media import media_root

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads (what a 2-core machine has to find)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_note() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} CPUs, load average {load:.1f} at start"


def untrained_model(folder: Path, arch: str) -> Path:
    import torch

    from vidstyle.models import build_network, full_arch_params, save_model

    torch.manual_seed(0)
    path = folder / f"untrained-{arch}.safetensors"
    save_model(path, build_network(arch), {"architecture": arch, "arch_params": full_arch_params(arch)})
    return path


def bench_trivial(work: Path, runs: int, frames: int) -> list[dict]:
    """Identity stylizer: what decoding, encoding and the threads cost per frame."""
    from vidstyle.io.synthetic import write_test_clip
    from vidstyle.pipeline.video import stylize_video
    from vidstyle.runtime.base import FunctionStylizer

    rows = []
    identity = FunctionStylizer(lambda image: image, name="identity")
    for width, height in [(640, 480), (1920, 1080)]:
        clip = write_test_clip(work / f"trivial_{width}x{height}.mp4", width=width, height=height, frames=frames, fps=30)
        fps, cpu_ms = [], []
        for _ in range(runs):
            cpu = cpu_seconds()
            result = stylize_video(clip.path, work / "trivial_out.mp4", identity, overwrite=True, progress=False)
            cpu_ms.append((cpu_seconds() - cpu) / frames * 1000)
            assert result.frames_out == frames
            fps.append(result.fps)
        rows.append({"size": f"{width}x{height}", "frames": frames, "fps_median": statistics.median(fps), "fps_runs": fps,
                     "cpu_ms_per_frame_median": statistics.median(cpu_ms)})
        print(f"trivial stylizer {width}x{height}: {statistics.median(fps):.1f} fps (runs: {', '.join(f'{f:.1f}' for f in fps)}), "
              f"{statistics.median(cpu_ms):.1f} ms CPU/frame for decode + encode + threads", flush=True)
    return rows


def bench_efficiency(work: Path, model: str, label: str, runs: int, frames: int, threads: int, presets: list[str]) -> list[dict]:
    """End-to-end fps over model-only fps, on the same frames, runs interleaved (one row per encoder preset)."""
    from vidstyle.io.file import FileSource
    from vidstyle.io.synthetic import write_test_clip
    from vidstyle.pipeline.video import stylize_video
    from vidstyle.runtime.factory import create_stylizer

    clip = work / f"eff_640x480_{frames}.mp4"
    if not clip.exists():
        write_test_clip(clip, width=640, height=480, frames=frames, fps=30)
    clip = type("Clip", (), {"path": clip})
    stylizer = create_stylizer(model, threads=threads)
    images = [f.image for f in FileSource(clip.path)]
    stylizer.stylize(images[0])  # warm-up (graph compilation)
    model_fps: list[float] = []
    model_cpu: list[float] = []
    e2e_fps: dict[str, list[float]] = {p: [] for p in presets}
    e2e_cpu: dict[str, list[float]] = {p: [] for p in presets}
    ratios: dict[str, list[float]] = {p: [] for p in presets}
    for _ in range(runs):
        # Model-only, then each preset, so every ratio compares runs made moments apart.
        started, cpu = time.perf_counter(), cpu_seconds()
        for image in images:
            stylizer.stylize(image)
        model_fps.append(len(images) / (time.perf_counter() - started))
        model_cpu.append((cpu_seconds() - cpu) / len(images) * 1000)
        for preset in presets:
            cpu = cpu_seconds()
            result = stylize_video(clip.path, work / "eff_out.mp4", stylizer, overwrite=True, progress=False, preset=preset)
            e2e_cpu[preset].append((cpu_seconds() - cpu) / len(images) * 1000)
            e2e_fps[preset].append(result.fps)
            ratios[preset].append(result.fps / model_fps[-1])
    rows = []
    for preset in presets:
        row = {
            "model": label, "backend": getattr(stylizer, "backend", "?"), "size": "640x480", "frames": frames,
            "preset": preset, "model_fps_median": statistics.median(model_fps),
            "end_to_end_fps_median": statistics.median(e2e_fps[preset]),
            "efficiency_median": statistics.median(ratios[preset]), "efficiency_runs": ratios[preset],
            # On a machine whose cores are saturated, fps follows CPU time: this ratio is the
            # efficiency an idle machine of this size would reach, robust to other users' load.
            "model_cpu_ms": statistics.median(model_cpu), "end_to_end_cpu_ms": statistics.median(e2e_cpu[preset]),
        }
        row["cpu_efficiency"] = row["model_cpu_ms"] / row["end_to_end_cpu_ms"]
        rows.append(row)
        print(
            f"efficiency 640x480 {label} ({row['backend']}, h264 {preset}): model-only {row['model_fps_median']:.1f} fps, "
            f"end-to-end {row['end_to_end_fps_median']:.1f} fps, ratio {row['efficiency_median']:.2f} "
            f"(runs: {', '.join(f'{r:.2f}' for r in ratios[preset])}); CPU ms/frame model {row['model_cpu_ms']:.1f}, "
            f"end-to-end {row['end_to_end_cpu_ms']:.1f}, CPU ratio {row['cpu_efficiency']:.2f}", flush=True,
        )
    return rows


def bench_live(work: Path, model: str, label: str, runs: int, threads: int, seconds: float = 6.0) -> dict:
    """Capture-to-display latency with a file source paced like a 30 fps camera (headless)."""
    from vidstyle.io.file import FileSource
    from vidstyle.io.synthetic import write_test_clip
    from vidstyle.pipeline.live import LiveOptions, run_live
    from vidstyle.runtime.factory import create_stylizer

    clip = write_test_clip(work / "live_640x480.mp4", width=640, height=480, seconds=seconds, fps=30, audio=False)
    stylizer = create_stylizer(model, threads=threads)
    medians, p95s, model_ms, fps, dropped = [], [], [], [], []
    for _ in range(runs):
        stats = run_live(LiveOptions(camera=FileSource(clip.path, realtime=True), models=[stylizer], display=False))
        medians.append(stats.latency_ms_median)
        p95s.append(stats.latency_ms_p95)
        model_ms.append(stats.model_ms_median)
        fps.append(stats.fps)
        dropped.append(stats.frames_dropped / max(1, stats.frames_captured))
    row = {
        "model": label, "backend": getattr(stylizer, "backend", "?"), "size": "640x480", "camera_fps": 30,
        "latency_ms_median": statistics.median(medians), "latency_ms_p95_median": statistics.median(p95s),
        "model_ms_median": statistics.median(model_ms), "shown_fps_median": statistics.median(fps),
        "dropped_fraction_median": statistics.median(dropped),
    }
    row["goal_ms"] = 1000 / 30 + row["model_ms_median"]
    print(
        f"live 640x480 @30 fps, {label} ({row['backend']}): latency median {row['latency_ms_median']:.1f} ms "
        f"(p95 {row['latency_ms_p95_median']:.1f}), model {row['model_ms_median']:.1f} ms, goal <= {row['goal_ms']:.1f} ms, "
        f"shown {row['shown_fps_median']:.1f} fps, stale frames skipped {100 * row['dropped_fraction_median']:.0f}%",
        flush=True,
    )
    return row


def bench_media(work: Path, model: str) -> list[dict]:
    """`vidstyle video` on each real clip, checked with a PyAV probe of input and output."""
    from vidstyle.io.probe import probe_video

    folder = media_root() / "video"
    if not folder.is_dir():
        print(f"media: {folder} not found, skipped", flush=True)
        return []
    rows = []
    for clip in sorted(folder.iterdir()):
        out = work / f"{clip.stem}-stylized.mp4"
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "vidstyle", "video", str(clip), str(out), "--model", str(model), "--overwrite", "-q"],
            capture_output=True, text=True, cwd=str(REPO),
        )
        seconds = time.perf_counter() - started
        row = {"clip": clip.name, "exit": proc.returncode, "stderr": proc.stderr.strip()[-300:], "wall_s": seconds}
        if proc.returncode == 0:
            src, dst = probe_video(clip), probe_video(out)
            row.update(
                size_in=f"{src.width}x{src.height}", size_out=f"{dst.width}x{dst.height}", rotation_in=src.rotation,
                frames_in=src.frame_count, frames_out=dst.frame_count, timestamps_equal=[float(t) for t in src.times] == [float(t) for t in dst.times],
                max_timestamp_diff_ms=max((abs(float(a - b)) * 1000 for a, b in zip(src.times, dst.times)), default=0.0),
                duration_in=src.duration, duration_out=dst.duration,
                audio_in=[f"{a.codec} {a.sample_rate} Hz {a.seconds:.3f} s" for a in src.audio],
                audio_out=[f"{a.codec} {a.sample_rate} Hz {a.seconds:.3f} s" for a in dst.audio],
                audio_packets_identical=[a.packets for a in src.audio] == [a.packets for a in dst.audio],
                fps_out=float(dst.fps) if dst.fps else None,
            )
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="registry name or .safetensors path (default: an untrained fast net)")
    parser.add_argument("--only", choices=["trivial", "efficiency", "live", "media"], action="append")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--frames", type=int, default=150, help="clip length (the quality model gets a fifth of it)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--presets", nargs="+", default=["veryfast", "superfast", "ultrafast"], help="encoder presets for efficiency")
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    sections = args.only or ["trivial", "efficiency", "live", "media"]
    results: dict = {"machine": machine_note(), "runs": args.runs}
    print(results["machine"], flush=True)
    with tempfile.TemporaryDirectory(prefix="vidstyle-bench-") as tmp:
        work = Path(tmp)
        if args.model:
            models = {args.model: args.model}
        else:
            models = {f"untrained {arch}": str(untrained_model(work, arch)) for arch in ("fast", "quality")}
        model = next(iter(models.values()))
        results["models"] = list(models)
        if "trivial" in sections:
            results["trivial"] = bench_trivial(work, args.runs, args.frames)
        if "efficiency" in sections:
            results["efficiency"] = [
                row for label, path in models.items()
                for row in bench_efficiency(
                    work, path, label, args.runs, args.frames if "quality" not in label else max(10, args.frames // 5),
                    args.threads, args.presets,
                )
            ]
        if "live" in sections:
            label = next(iter(models))
            results["live"] = bench_live(work, model, label, args.runs, args.threads)
        if "media" in sections:
            results["media"] = bench_media(work, model)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
