"""Optical-flow accuracy and cost, and the cost of the ``--temporal smooth`` stabilizer.

1. End-point error (EPE, px) of DIS (ultrafast / fast / medium, full and half resolution) and Farneback
   against the ground truth in ../shared/media/flow: two MPI-Sintel "final" pairs (EPE over
   non-occluded, valid pixels: Sintel's "matched" EPE) and two synthetic warps of real photos (pixels
   whose flow stays inside the image). Cite Butler et al. 2012 for the Sintel numbers.
2. Milliseconds per FlowStabilizer call on 640×480 frames (two DIS ultrafast flows at half size,
   occlusion mask, warp, blend): the median over many frames, several repeats.

    .venv/bin/python benchmarks/flow_epe.py [--repeats 5] [--threads 2] [--json out.json] [--skip-epe]

Media: $VIDSTYLE_MEDIA or ../shared/media next to the repository. Without it, part 1 is skipped (and
says so) and part 2 uses a synthetic textured scene.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from shared_media import media_root

from vidstyle.flow import FlowConfig, FlowEstimator, FlowStabilizer, endpoint_error, inside_mask, read_flo
from vidstyle.flow.synthetic import shift_image, textured_image
from vidstyle.utils.image import load_image

PAIRS = ("sintel_alley1", "sintel_market5", "bsd012", "urban004")
METHODS = (
    ("DIS ultrafast", FlowConfig(preset="ultrafast")),
    ("DIS fast", FlowConfig(preset="fast")),
    ("DIS medium", FlowConfig(preset="medium")),
    ("DIS ultrafast, 1/2 size", FlowConfig(preset="ultrafast", scale=0.5)),
    ("DIS medium, 1/2 size", FlowConfig(preset="medium", scale=0.5)),
    ("Farneback", FlowConfig(method="farneback")),
)


def load_pair(folder: Path, name: str):
    frame1 = load_image(folder / f"{name}_frame1.png")
    frame2 = load_image(folder / f"{name}_frame2.png")
    truth = read_flo(folder / f"{name}_flow.flo")
    valid = inside_mask(truth)
    occlusions = folder / f"{name}_occlusions.png"
    if occlusions.exists():
        valid &= load_image(occlusions)[..., 0] < 128
    invalid = folder / f"{name}_invalid.png"
    if invalid.exists():
        valid &= load_image(invalid)[..., 0] < 128
    return frame1, frame2, truth, valid


def epe_table(folder: Path, repeats: int) -> list[dict]:
    rows = []
    for name in PAIRS:
        frame1, frame2, truth, valid = load_pair(folder, name)
        for label, config in METHODS:
            estimator = FlowEstimator(config)
            estimator(frame1, frame2)  # warm-up (allocations)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                flow = estimator(frame1, frame2)
                times.append(time.perf_counter() - t0)
            rows.append(
                {
                    "pair": name,
                    "size": f"{frame1.shape[1]}x{frame1.shape[0]}",
                    "method": label,
                    "epe": endpoint_error(flow, truth, valid),
                    "ms": 1000 * statistics.median(times),
                }
            )
    return rows


def stabilizer_frames(folder: Path | None, count: int = 60) -> list[np.ndarray]:
    """640×480 frames of a slow camera pan with sensor noise: over a real photo when media is present."""
    if folder is not None and (folder / "content" / "chicago.jpg").exists():
        base = cv2.resize(load_image(folder / "content" / "chicago.jpg"), (700, 520), interpolation=cv2.INTER_AREA)
    else:
        base = textured_image(520, 700, seed=0)
    rng = np.random.default_rng(0)
    frames = []
    for i in range(count):
        view = shift_image(base, -0.7 * i, -0.3 * i)[20:500, 30:670].astype(np.float32)
        frames.append(np.clip(view + rng.normal(0, 3.0, view.shape), 0, 255).astype(np.uint8))
    return frames


def stabilizer_ms(frames: list[np.ndarray], repeats: int, clock=time.perf_counter) -> list[float]:
    """Median ms per call for each repeat (a fresh stabilizer per repeat; the first frame is not timed).

    ``clock=time.thread_time`` counts the CPU time of the calling thread only: with cv2 on one thread it
    is what the call costs on an idle core, whatever else the machine runs meanwhile.
    """
    rng = np.random.default_rng(1)
    # Stand-in stylized frames: the input plus strong independent per-frame noise (flicker).
    stylized = [np.clip(f.astype(np.int16) + rng.integers(-25, 26, f.shape), 0, 255).astype(np.uint8) for f in frames]
    medians = []
    for _ in range(repeats):
        stabilizer = FlowStabilizer()
        times = []
        for original, styl in zip(frames, stylized):
            t0 = clock()
            stabilizer(original, styl)
            times.append(clock() - t0)
        medians.append(1000 * statistics.median(times[1:]))
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="cv2.setNumThreads (default 2)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--skip-epe", action="store_true", help="time the stabilizer only")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)

    root = media_root()
    flow_folder = root / "flow"
    result: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
        "cv2_threads": args.threads,
        "opencv": cv2.__version__,
    }
    if args.skip_epe:
        pass
    elif flow_folder.is_dir():
        rows = epe_table(flow_folder, args.repeats)
        result["epe"] = rows
        print(f"EPE (px) against ground truth in {flow_folder}; ms = median of {args.repeats} runs")
        print(f"{'pair':16} {'size':9} {'method':26} {'EPE':>7} {'ms':>8}")
        for r in rows:
            print(f"{r['pair']:16} {r['size']:9} {r['method']:26} {r['epe']:7.3f} {r['ms']:8.2f}")
        print()
        print("mean EPE over the four pairs:")
        for label, _ in METHODS:
            mean = statistics.mean(r["epe"] for r in rows if r["method"] == label)
            print(f"  {label:26} {mean:7.3f}")
    else:
        print(f"EPE skipped: no ground-truth flow at {flow_folder} (set VIDSTYLE_MEDIA)")

    frames = stabilizer_frames(root if root.is_dir() else None)
    # cv2's thread count is process-wide; compare 1 and 2 threads interleaved so load changes hit both.
    per_threads: dict[int, list[float]] = {1: [], 2: []}
    cpu_one_thread: list[float] = []
    for _ in range(args.repeats):
        for threads in per_threads:
            cv2.setNumThreads(threads)
            per_threads[threads] += stabilizer_ms(frames, 1)
        cv2.setNumThreads(1)
        cpu_one_thread += stabilizer_ms(frames, 1, clock=time.thread_time)
    cv2.setNumThreads(args.threads)
    result["stabilizer_ms_640x480"] = {str(k): v for k, v in per_threads.items()}
    result["stabilizer_cpu_ms_640x480_one_thread"] = cpu_one_thread
    print()
    print(f"FlowStabilizer (DIS ultrafast at 1/2 size, blend 0.8), 640x480, {len(frames)} frames, {args.repeats} repeats:")
    for threads, medians in per_threads.items():
        print(
            f"  wall clock, cv2 threads {threads}: median {statistics.median(medians):.2f} ms/frame "
            f"(min {min(medians):.2f}; repeat medians {', '.join(f'{m:.2f}' for m in medians)})"
        )
    print(
        f"  CPU time of the calling thread, cv2 threads 1: median {statistics.median(cpu_one_thread):.2f} ms/frame "
        f"(repeat medians {', '.join(f'{m:.2f}' for m in cpu_one_thread)})"
    )
    result["load_after"] = os.getloadavg()[0]
    print(f"load average before {result['machine'].split('load ')[-1]}, after {result['load_after']:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
