"""`vidstyle video IN OUT --model NAME`: stylize a video file, keeping frames, timing and audio."""
from __future__ import annotations

import argparse
import sys

from vidstyle.cli.runtime_flags import STYLE_HELP, add_runtime_flags, add_style_flag, runtime_options
from vidstyle.errors import InputError
from vidstyle.io.codecs import ENCODERS
from vidstyle.pipeline.modes import TEMPORAL_MODES

# The model `vidstyle video` uses without --model: the flagship live net that meets every look goal.
DEFAULT_MODEL = "starry_night-fast-painted"


def _long_term(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated frame offsets like 1,2,4, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("frame offsets must be positive integers")
    return values


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "video",
        help="stylize a video file (keeps every frame, the timestamps, the rotation and the audio)",
        description="Stylize a video file with a transform network. Every frame is kept with its timestamp; "
        "audio is copied untouched when the output container allows it.",
    )
    p.add_argument("input", help="input video file or URL")
    p.add_argument("output", help="output file (.mp4, .mkv, .webm, .mov), or a folder name without extension for PNG frames")
    p.add_argument("--model", "-m", default=None,
                   help=f"model name from the registry or a .safetensors path (default: {DEFAULT_MODEL}); with "
                        "--temporal optimize: a network of the same painting whose output starts each frame, "
                        "far fewer --steps needed (default: start from the photo)")
    add_runtime_flags(p)
    p.add_argument("--strength", type=float, default=1.0, help="stylization strength, 0 (original) to 1 (full style)")
    p.add_argument("--codec", default="auto", choices=["auto", *ENCODERS], help="video codec (default: h264; vp9 for .webm)")
    p.add_argument("--crf", type=int, default=None, help="constant quality, lower is better (codec default when omitted)")
    p.add_argument("--preset", default=None, help="encoder speed: ultrafast ... veryslow (default: superfast)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--long-side", type=int, default=None, metavar="N", help="process at this many pixels on the longer side")
    size.add_argument("--size", default=None, metavar="WxH", help="process at this exact size")
    p.add_argument("--start", type=float, default=None, metavar="SECONDS", help="start time in the input")
    p.add_argument("--end", type=float, default=None, metavar="SECONDS", help="end time in the input")
    p.add_argument("--no-audio", action="store_true", help="leave the audio out")
    p.add_argument("--keep-partial", action="store_true", help="on Ctrl-C or an error keep a playable file of what was done")
    p.add_argument("--overwrite", "-y", action="store_true", help="replace an existing output file")
    p.add_argument("--temporal", default="none", choices=TEMPORAL_MODES,
                   help="temporal consistency: smooth (optical-flow blending), trained (the model's -temporal variant), "
                   "optimize (slow offline optimisation, needs --style)")
    p.add_argument("--smooth-blend", type=float, default=None, metavar="F", help="weight of the warped previous frame for --temporal smooth (0-1)")
    add_style_flag(p, help=STYLE_HELP + "; with --temporal optimize: the style image")
    p.add_argument("--long-term", type=_long_term, default=None, metavar="1,2,4", help="frame offsets of the long-term temporal loss (optimize)")
    p.add_argument("--passes", type=int, default=None, help="forward/backward passes (optimize)")
    p.add_argument("--steps", type=int, default=None,
                   help="optimisation steps per frame (optimize; default 60, the first frame twice as many; "
                        "with --model, 6 reach about 1.05x per-frame Gatys' style loss)")
    p.add_argument("--batch", type=int, default=None, metavar="N", help="frames per network call (default: 8 on CUDA, 1 on the CPU)")
    p.add_argument("--compile", action="store_true",
                   help="torch backend: compile the network first (seconds; on a GPU about 3x the network speed, pays on long videos)")
    p.add_argument("--strict", action="store_true",
                   help="stop at the first damaged packet of the input instead of skipping it (as FFmpeg does)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    cluster = p.add_argument_group("rendering on a Ray cluster (pip install 'vidstyle[cluster]')")
    cluster.add_argument("--cluster", default=None, metavar="SPEC",
                         help="split the render over Ray workers: local:N (N workers on this machine), "
                         "ray://HOST:PORT (a running cluster), auto (the cluster `ray start` joined here)")
    cluster.add_argument("--workers", type=int, default=None, metavar="N",
                         help="workers to start (default: N of local:N, else one per GPU or per --worker-cpus CPUs)")
    cluster.add_argument("--worker-cpus", type=int, default=1, metavar="N", help="CPUs (threads) per worker (default: 1)")
    cluster.add_argument("--segment-frames", type=int, default=None, metavar="N",
                         help="frames per segment (default: about three segments per worker)")
    p.set_defaults(func=run)


def _cluster(args: argparse.Namespace):
    if args.cluster is None:
        for flag in ("workers", "segment_frames"):
            if getattr(args, flag) is not None:
                raise InputError(f"--{flag.replace('_', '-')} needs --cluster")
        return None
    from vidstyle.pipeline.cluster import ClusterOptions

    return ClusterOptions(spec=args.cluster, workers=args.workers, worker_cpus=args.worker_cpus,
                          segment_frames=args.segment_frames)


def run(args: argparse.Namespace) -> int:
    from vidstyle.pipeline.video import stylize_video

    model = args.model if args.model is not None or args.temporal == "optimize" else DEFAULT_MODEL
    result = stylize_video(
        args.input,
        args.output,
        model,
        **runtime_options(args),
        strength=args.strength,
        codec=args.codec,
        crf=args.crf,
        preset=args.preset,
        long_side=args.long_side,
        size=args.size,
        start=args.start,
        end=args.end,
        audio=not args.no_audio,
        keep_partial=args.keep_partial,
        overwrite=args.overwrite,
        temporal=args.temporal,
        smooth_blend=args.smooth_blend,
        style=args.style if args.temporal == "optimize" else None,
        long_term=args.long_term,
        passes=args.passes,
        steps=args.steps,
        progress=not args.quiet,
        batch_size=args.batch,
        strict=args.strict,
        cluster=_cluster(args),
        runtime_options={**({"compile": True} if args.compile else {}),
                         **({"style": args.style} if args.style is not None and args.temporal != "optimize" else {})},
    )
    if result.ended_early:  # said even with --quiet: the output is shorter than the input claims to be
        print(f"vidstyle: warning: the input ended early ({result.ended_early}); every frame before is kept",
              file=sys.stderr)
    if not args.quiet and result.frames_out:
        notes = []
        if result.audio_streams:
            notes.append("audio transcoded" if result.audio_transcoded else "audio copied")
        if result.cropped_to_even:
            notes.append("cropped to an even size for yuv420p")
        if result.packets_skipped:
            notes.append(f"{result.packets_skipped} undecodable input packet{'s' * (result.packets_skipped > 1)} "
                         "skipped, their frames missing")
        if result.cluster:
            info = result.cluster
            notes.append(f"{len(info['segments'])} segments on {info['workers']} workers"
                         + (f" of {info['nodes']} nodes" if info["nodes"] > 1 else "")
                         + (f", {info['resumed']} from an earlier run" if info["resumed"] else ""))
        extra = f" ({', '.join(notes)})" if notes else ""
        print(
            f"wrote {result.output}: {result.frames_out} frames, {result.width}x{result.height}, "
            f"{result.fps:.1f} fps{extra}",
            file=sys.stderr,
        )
    return 0
