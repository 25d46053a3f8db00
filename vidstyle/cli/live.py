"""`vidstyle live --camera 0 --model NAME`: the stylized camera in a window, a recording or a virtual camera."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from vidstyle.io.file import parse_size

# Above this share of camera frames skipped as stale, the summary suggests a lighter model or a smaller size.
SLOW_MODEL_SKIP_SHARE = 0.1
# The zoo's lightest net, suggested then (it keeps a 720p camera's pace on 2 cores).
LIGHTEST_MODEL = "starry_night-fast-lite"
KEYS_HELP = "keys: n/p next/previous model, [ ] strength, s split view, space pause, r record, c snapshot, q/Esc quit"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "live",
        help="stylize a camera live in a window (optionally recording or feeding a virtual camera)",
        description="Show a camera stylized in real time. " + KEYS_HELP + ".",
    )
    p.add_argument("--camera", default="0", help="camera index, /dev/videoN, URL, or a video file played like a camera (default: 0)")
    p.add_argument("--model", "-m", required=True, action="append",
                   help="model name or .safetensors path; repeat (or separate with commas) to switch with n/p")
    p.add_argument("--backend", default="auto", help="auto, torch, onnxruntime or openvino")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--threads", type=int, default=None, help="CPU inference threads (default: every available core)")
    p.add_argument("--strength", type=float, default=1.0, help="initial stylization strength, 0-1")
    p.add_argument("--record", default=None, metavar="OUT.mp4", help="record the stylized stream to this file")
    p.add_argument("--virtual-cam", action="store_true", help="send the stylized stream to a virtual camera (pyvirtualcam)")
    p.add_argument("--no-display", action="store_true", help="run without a window (servers, tests)")
    p.add_argument("--frames", type=int, default=None, metavar="N", help="stop after N frames")
    p.add_argument("--mirror", action="store_true", help="flip horizontally (selfie view)")
    p.add_argument("--size", default=None, metavar="WxH", help="requested capture size, e.g. 640x480")
    p.add_argument("--fps", type=float, default=None, help="requested capture frame rate")
    p.add_argument("--temporal", default="none", choices=["none", "smooth", "trained"],
                   help="smooth: flow-guided blending against flicker; trained: the model's temporally trained "
                        "variant (NAME-temporal)")
    p.add_argument("--smooth-blend", type=float, default=None, metavar="F", help="weight of the warped previous frame (0-1)")
    p.add_argument("--snapshot-dir", default=".", help="folder for c snapshots and r recordings (default: current)")
    p.add_argument("--quiet", "-q", action="store_true", help="no summary at the end")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidstyle.pipeline.live import LiveOptions, run_live

    models = [m.strip() for entry in args.model for m in entry.split(",") if m.strip()]
    stats = run_live(
        LiveOptions(
            camera=args.camera,
            models=models,
            backend=args.backend,
            device=args.device,
            threads=args.threads,
            strength=args.strength,
            size=parse_size(args.size) if args.size else None,
            fps=args.fps,
            display=not args.no_display,
            frames=args.frames,
            record=args.record,
            virtual_cam=args.virtual_cam,
            mirror=args.mirror,
            temporal=args.temporal,
            smooth_blend=args.smooth_blend,
            snapshot_dir=args.snapshot_dir,
        )
    )
    if not args.quiet:
        print(
            f"live: {stats.frames_shown} frames shown in {stats.seconds:.1f} s ({stats.fps:.1f} fps), "
            f"capture-to-display latency median {stats.latency_ms_median:.0f} ms (p95 {stats.latency_ms_p95:.0f} ms), "
            f"model {stats.model_ms_median:.0f} ms/frame, {stats.frames_dropped} stale frames skipped",
            file=sys.stderr,
        )
        hint = slow_model_hint(stats, models)
        if hint:
            print(hint, file=sys.stderr)
        for path in stats.recordings:
            print(f"live: recorded {path}", file=sys.stderr)
    return 0


def slow_model_hint(stats, models: Sequence[str] = ()) -> str | None:
    """A one-line suggestion when the model could not keep up with the camera, else None.

    stats: a :class:`~vidstyle.pipeline.live.LiveStats`; "could not keep up" means more than
    ``SLOW_MODEL_SKIP_SHARE`` of the captured frames were skipped as stale (a few skips at start-up are normal).
    models: the ``--model`` names or paths; LIGHTEST_MODEL (or its variants) is only suggested to someone not
        already using it.
    """
    if stats.frames_captured < 30 or stats.frames_dropped <= SLOW_MODEL_SKIP_SHARE * stats.frames_captured:
        return None
    share = 100.0 * stats.frames_dropped / stats.frames_captured
    using_lightest = any(Path(str(m)).stem.startswith(LIGHTEST_MODEL) for m in models)
    lighter = "" if using_lightest else f" or a lighter model (e.g. {LIGHTEST_MODEL})"
    return (f"live: the model ({stats.model_ms_median:.0f} ms/frame) could not keep up with the camera and "
            f"{share:.0f}% of its frames were skipped; a smaller --size{lighter} keeps the camera's frame rate, "
            f"and so does leaving the CPU to this program")
