"""Temporal-consistency table: E_warp and style loss for --temporal none / smooth / trained / optimize.

For each clip in ../shared/media/video, the first --frames frames at --long-side pixels are stylized with
the zoo model ``STYLE-fast-painted`` frame by frame (none), the same followed by the FlowStabilizer (smooth),
and the temporally trained ``STYLE-fast-painted-temporal`` (trained, when that model exists). Each is scored with
:func:`vidstyle.temporal.evaluate.evaluate_frames`: E_warp (Lai et al. 2018; DIS medium flow on the
originals) and the relative Gatys style loss against the style image (VGG19), plus the content loss.
Frames are scored as they leave the stylizer (before video encoding).

``optimize`` (Ruder et al. 2016) costs many VGG19 passes per frame, so on 2 CPU cores it runs on a short
cut: the first --optimize-frames frames at --optimize-size pixels of the --optimize-clips clips, and is
compared with ``none`` on exactly the same cut and size.

    .venv/bin/python benchmarks/temporal_table.py [--style starry_night] [--frames 48] [--long-side 320]
        [--optimize-clips realshort] [--optimize-frames 8] [--optimize-size 128] [--json out.json]

Media: $VIDSTYLE_MEDIA or ../shared/media next to the repository (the script says so and stops without it).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from shared_media import media_root

from vidstyle.errors import ModelError
from vidstyle.flow import FlowStabilizer
from vidstyle.gatys import GatysEngine, GatysOptions, stylize_image
from vidstyle.io.file import FileSource
from vidstyle.runtime import create_stylizer
from vidstyle.temporal.evaluate import EvaluationOptions, evaluate_frames
from vidstyle.temporal.optimize import OptimizeOptions, optimize_frames
from vidstyle.utils.image import load_image

CLIPS = ("asl-again.mkv", "asl-book.mkv", "car-detection.mp4", "cockatoo.mp4", "realshort.mp4")


def read_frames(path: Path, count: int, long_side: int) -> list[np.ndarray]:
    frames = []
    with FileSource(path, long_side=long_side) as source:
        for frame in source:
            frames.append(frame.image)
            if len(frames) >= count:
                break
    return frames


def stylize_all(stylizer, frames: list[np.ndarray]) -> list[np.ndarray]:
    return [stylizer.stylize(f) for f in frames]


def smooth_all(originals: list[np.ndarray], stylized: list[np.ndarray], blend: float) -> tuple[list[np.ndarray], float]:
    """The stabilizer's outputs and its median cost in ms per frame."""
    stabilizer = FlowStabilizer(blend=blend)
    out, times = [], []
    for o, s in zip(originals, stylized):
        t0 = time.perf_counter()
        out.append(stabilizer(o, s))
        times.append(time.perf_counter() - t0)
    return out, 1000 * statistics.median(times[1:])


def score(originals, stylized, style, options) -> dict:
    r = evaluate_frames(originals, stylized, style=style, options=options)
    return {k: r[k] for k in ("frames", "warping_error", "style_loss", "content_loss", "visible_fraction")}


def load_stylizer(name: str, threads: int):
    try:
        return create_stylizer(name, threads=threads)
    except ModelError as exc:
        print(f"  ({name} not available: {exc})")
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--style", default="starry_night", help="zoo style name (models STYLE-fast-painted, STYLE-fast-painted-temporal)")
    parser.add_argument("--clips", default=",".join(CLIPS))
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--long-side", type=int, default=320)
    parser.add_argument("--blend", type=float, default=0.8, help="smooth blend weight")
    parser.add_argument("--loss-every", type=int, default=4)
    parser.add_argument("--optimize-clips", default="realshort.mp4", help="comma-separated; empty to skip optimize")
    parser.add_argument("--optimize-frames", type=int, default=8)
    parser.add_argument("--optimize-size", type=int, default=128)
    parser.add_argument("--optimize-steps", type=int, default=30)
    parser.add_argument("--optimize-weight", type=float, default=None, help="temporal weight (default: OptimizeOptions')")
    parser.add_argument("--optimize-passes", type=int, default=1)
    parser.add_argument("--optimize-init-model", default=None,
                        help="feed-forward model that starts each frame (OptimizeOptions.init_model)")
    parser.add_argument("--optimize-first-steps", type=int, default=None, help="steps for the first frame")
    parser.add_argument("--baseline-steps", type=int, default=None,
                        help="steps of the per-frame Gatys baseline (default: --optimize-steps)")
    parser.add_argument("--optimize-long-term", default="", help="e.g. 1,2,4")
    parser.add_argument("--no-gatys-baseline", action="store_true", help="skip the per-frame Gatys baseline")
    parser.add_argument("--model", help="model for none/smooth (default STYLE-fast-painted)")
    parser.add_argument("--temporal-model", help="model for trained (default STYLE-fast-painted-temporal)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    root = media_root()
    videos = root / "video"
    if not videos.is_dir():
        print(f"no media at {root}: set VIDSTYLE_MEDIA to the shared media folder")
        return
    style_path = root / "styles" / f"{args.style}.jpg"
    style = load_image(style_path)
    evaluation = EvaluationOptions(flow_preset="medium", loss_every=args.loss_every)
    result: dict = {"settings": vars(args), "load_before": os.getloadavg()[0], "rows": []}
    print(f"load average {result['load_before']:.1f}; style {style_path.name}")

    none_model = load_stylizer(args.model or f"{args.style}-fast-painted", args.threads)
    trained_model = load_stylizer(args.temporal_model or f"{args.style}-fast-painted-temporal", args.threads)
    if none_model is None:
        print("the zoo model is missing: only the optimize cut against per-frame Gatys is measured")
        args.clips = ""

    for clip in [c for c in args.clips.split(",") if c]:
        originals = read_frames(videos / clip, args.frames, args.long_side)
        size = f"{originals[0].shape[1]}x{originals[0].shape[0]}"
        print(f"{clip}: {len(originals)} frames at {size}")
        none = stylize_all(none_model, originals)
        rows = {"none": score(originals, none, style, evaluation)}
        smooth, ms = smooth_all(originals, none, args.blend)
        rows["smooth"] = score(originals, smooth, style, evaluation)
        rows["smooth"]["ms_per_frame"] = ms
        if trained_model is not None:
            rows["trained"] = score(originals, stylize_all(trained_model, originals), style, evaluation)
        for mode, r in rows.items():
            result["rows"].append({"clip": clip, "size": size, "mode": mode, **r})

    for clip in [c for c in args.optimize_clips.split(",") if c]:
        originals = read_frames(videos / clip, args.optimize_frames, args.optimize_size)
        size = f"{originals[0].shape[1]}x{originals[0].shape[0]}"
        print(f"{clip} (optimize cut): {len(originals)} frames at {size}")
        rows = {}
        if none_model is not None:
            rows["none"] = score(originals, stylize_all(none_model, originals), style, evaluation)
        # Classic per-frame Gatys (each frame from its own content, same steps as optimize's frames): the
        # baseline Ruder et al. compare against.
        if not args.no_gatys_baseline:
            gatys = GatysOptions(device="cpu", size=args.optimize_size, steps=args.baseline_steps or args.optimize_steps)
            t0 = time.perf_counter()
            engine = GatysEngine(gatys)
            per_frame = [stylize_image(f, style, engine=engine) for f in originals]
            rows["gatys per frame"] = score(originals, per_frame, style, evaluation)
            rows["gatys per frame"]["seconds_per_frame"] = (time.perf_counter() - t0) / len(originals)
        options = OptimizeOptions(
            size=args.optimize_size,
            steps=args.optimize_steps,
            max_frames=args.optimize_frames,
            audio=False,
            passes=args.optimize_passes,
            long_term=tuple(int(j) for j in args.optimize_long_term.split(",") if j),
            init_model=args.optimize_init_model,
            first_frame_steps=args.optimize_first_steps,
            gatys=GatysOptions(device="cpu"),
        )
        if args.optimize_weight is not None:
            options.temporal_weight = args.optimize_weight
        # Scored as they leave the optimiser, like every other row (the encoder would soften the strokes).
        t0 = time.perf_counter()
        frame_seconds: list[float] = []
        optimized, _, _ = optimize_frames(originals, style, options,
                                          progress=lambda event: frame_seconds.append(event.seconds))
        seconds = time.perf_counter() - t0
        label = "optimize"
        if options.passes > 1 or options.long_term:
            label += f" (passes {options.passes}, long-term {','.join(map(str, options.distances))})"
        rows[label] = score(originals, optimized, style, evaluation)
        rows[label]["seconds_per_frame"] = seconds / len(originals)
        if len(frame_seconds) > 1:  # the first frame has its own step count
            rows[label]["seconds_per_later_frame"] = statistics.median(frame_seconds[1:])
        for mode, r in rows.items():
            result["rows"].append({"clip": clip + " (cut)", "size": size, "mode": mode, **r})

    result["load_after"] = os.getloadavg()[0]
    print()
    print("Ratios are to 'none' (the zoo model frame by frame), or to 'gatys per frame' on a cut without it.")
    print("| clip | size | frames | mode | E_warp | × none | style loss | × none | content loss |")
    print("|---|---|---|---|---|---|---|---|---|")
    base: dict = {}
    for r in result["rows"]:
        if r["mode"] == "none" or r["clip"] not in base:
            base[r["clip"]] = r
        b = base[r["clip"]]
        extra = f" ({r['ms_per_frame']:.1f} ms/frame)" if "ms_per_frame" in r else ""
        if "seconds_per_frame" in r:
            extra = f" ({r['seconds_per_frame']:.0f} s/frame)"
        if "seconds_per_later_frame" in r:
            extra = f" ({r['seconds_per_frame']:.0f} s/frame; {r['seconds_per_later_frame']:.1f} s each after the first)"
        print(
            f"| {r['clip']} | {r['size']} | {r['frames']} | {r['mode']}{extra} | {r['warping_error']:.5f} | "
            f"{r['warping_error'] / b['warping_error']:.2f} | {r['style_loss']:.4f} | {r['style_loss'] / b['style_loss']:.2f} | "
            f"{r['content_loss']:.4f} |"
        )
    print(f"\nload average before {result['load_before']:.1f}, after {result['load_after']:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
