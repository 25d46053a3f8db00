"""`vidstyle live --camera 0 --model NAME`: the stylized camera in a window, a recording or a virtual camera."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from vidstyle.cli.runtime_flags import STYLE_HELP, add_runtime_flags, add_style_flag, runtime_options
from vidstyle.io.file import parse_size
from vidstyle.pipeline.modes import LIVE_TEMPORAL_MODES

# Above this share of camera frames skipped as stale, the summary suggests a lighter model or a smaller size.
SLOW_MODEL_SKIP_SHARE = 0.1
# The lighter net suggested then: the same paintings at a 720p camera's pace on 2 cores. A multistyle user
# keeps every painting with its lite twin; anyone else is pointed at the lite Starry Night that looks painted.
LIGHTER_MODELS = {"zoo": "zoo-lite"}
LIGHTEST_MODEL = "starry_night-fast-painted-lite"
KEYS_HELP = ("keys: n/p next/previous model (or style of a multi-style model), b blend the style with the next one, "
             ", . move that blend, [ ] strength, s split view, space pause, r record, c snapshot, q/Esc quit")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "live",
        help="stylize a camera live in a window (optionally recording or feeding a virtual camera)",
        description="Show a camera stylized in real time. " + KEYS_HELP + ".",
    )
    p.add_argument("--camera", default="0", help="camera index, /dev/videoN, URL, or a video file played like a camera (default: 0)")
    p.add_argument("--model", "-m", required=True, action="append",
                   help="model name or .safetensors path; repeat (or separate with commas) to switch with n/p")
    add_runtime_flags(p)
    p.add_argument("--strength", type=float, default=1.0, help="initial stylization strength, 0-1")
    add_style_flag(p, help=STYLE_HELP + "; applies to the first --model")
    p.add_argument("--record", default=None, metavar="OUT.mp4", help="record the stylized stream to this file")
    p.add_argument("--overwrite", "-y", action="store_true", help="replace an existing --record file")
    p.add_argument("--virtual-cam", action="store_true", help="send the stylized stream to a virtual camera (pyvirtualcam)")
    p.add_argument("--no-display", action="store_true", help="run without a window (servers, tests)")
    p.add_argument("--frames", type=int, default=None, metavar="N", help="stop after N frames")
    p.add_argument("--mirror", action="store_true", help="flip horizontally (selfie view)")
    p.add_argument("--loop", action="store_true", help="play a video file --camera again and again")
    p.add_argument("--size", default=None, metavar="WxH", help="requested capture size, e.g. 640x480")
    p.add_argument("--fit", default="letterbox", choices=["letterbox", "crop", "stretch"],
                   help="a picture of another shape than --size: letterbox (whole picture, black bars; default), "
                        "crop (the centre) or stretch")
    p.add_argument("--fps", type=float, default=None, help="requested capture frame rate")
    p.add_argument("--temporal", default="none", choices=LIVE_TEMPORAL_MODES,
                   help="smooth: flow-guided blending against flicker; trained: the model's temporally trained "
                        "variant (NAME-temporal)")
    p.add_argument("--smooth-blend", type=float, default=None, metavar="F", help="weight of the warped previous frame (0-1)")
    p.add_argument("--snapshot-dir", default=".", help="folder for c snapshots and r recordings (default: current)")
    p.add_argument("--quiet", "-q", action="store_true", help="no summary at the end")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidstyle.pipeline.live import LiveOptions, run_live

    models = [m.strip() for entry in args.model for m in entry.split(",") if m.strip()]

    def notice(text: str) -> None:
        print(f"live: {text}", file=sys.stderr)

    stats = run_live(
        LiveOptions(
            camera=args.camera,
            models=models,
            **runtime_options(args),
            strength=args.strength,
            style=args.style,
            size=parse_size(args.size) if args.size else None,
            fps=args.fps,
            fit=args.fit,
            display=not args.no_display,
            frames=args.frames,
            record=args.record,
            overwrite=args.overwrite,
            virtual_cam=args.virtual_cam,
            mirror=args.mirror,
            loop=args.loop,
            temporal=args.temporal,
            smooth_blend=args.smooth_blend,
            snapshot_dir=args.snapshot_dir,
            on_message=None if args.quiet else notice,
        )
    )
    if not args.quiet:
        for line in summary_lines(stats, models, args.camera):
            print(line, file=sys.stderr)
    return 0


def summary_lines(stats, models: Sequence[str] = (), camera: str = "") -> list[str]:
    """The end-of-session report: figures, style switches, files written, why it ended.

    stats: a :class:`~vidstyle.pipeline.live.LiveStats`; models: the ``--model`` names; camera: ``--camera``.
    """
    paused = f", {stats.paused_seconds:.1f} s paused" if stats.paused_seconds >= 0.05 else ""
    lines = [
        f"live: {stats.frames_shown} frames shown in {stats.seconds:.1f} s ({stats.fps:.1f} fps{paused}), "
        f"capture-to-display latency median {stats.latency_ms_median:.0f} ms (p95 {stats.latency_ms_p95:.0f} ms), "
        f"model {stats.model_ms_median:.0f} ms/frame, {stats.frames_dropped} stale frames skipped"
        + (f" ({stats.frames_missed} not stylized while paused or loading)" if stats.frames_missed else "")
    ]
    done = stats.completed_switches
    loaded = [s for s in done if s.load_ms > 0]
    if done:
        keyed = sorted(s.key_to_style_ms for s in done)
        line = (f"live: {len(done)} style switch{'es' if len(done) != 1 else ''}, key to new style "
                f"median {keyed[len(keyed) // 2]:.0f} ms, longest {keyed[-1]:.0f} ms")
        if loaded:
            line += (f"; {len(loaded)} loaded a model in the background (load {_ms_range([s.load_ms for s in loaded])}, "
                     f"key to new style {_ms_range([s.key_to_style_ms for s in loaded])}), frames kept coming "
                     f"(longest gap {max(s.max_gap_ms for s in loaded):.0f} ms, usual {stats.interval_ms_median:.0f} ms)")
        lines.append(line)
    hint = slow_model_hint(stats, models)
    if hint:
        lines.append(hint)
    lines += [f"live: snapshot {path}" for path in stats.snapshots]
    lines += [f"live: recorded {path}" for path in stats.recordings]
    if stats.end == "source ended":
        lines.append(f"live: end of source: {camera or 'the camera'} has no more frames")
    return lines


def _ms_range(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.0f} ms" if round(low) == round(high) else f"{low:.0f}-{high:.0f} ms"


def slow_model_hint(stats, models: Sequence[str] = ()) -> str | None:
    """A one-line suggestion when the model could not keep up with the camera, else None.

    stats: a :class:`~vidstyle.pipeline.live.LiveStats`; "could not keep up" means more than
    ``SLOW_MODEL_SKIP_SHARE`` of the captured frames were skipped as stale (a few skips at start-up are normal;
    frames missed while paused or while a model loaded do not count).
    models: the ``--model`` names or paths; the lighter twin of a model in LIGHTER_MODELS, else LIGHTEST_MODEL,
        is suggested to someone not already using a lite model.
    """
    if stats.frames_captured - stats.frames_missed < 30 or stats.skip_share <= SLOW_MODEL_SKIP_SHARE:
        return None
    share = 100.0 * stats.skip_share
    names = [Path(str(m)).stem for m in models]
    using_lite = any("-lite" in name for name in names)
    suggestion = next((LIGHTER_MODELS[n] for n in names if n in LIGHTER_MODELS), LIGHTEST_MODEL)
    lighter = "" if using_lite else f" or a lighter model (e.g. {suggestion})"
    return (f"live: the model ({stats.model_ms_median:.0f} ms/frame) could not keep up with the camera and "
            f"{share:.0f}% of its frames were skipped; a smaller --size{lighter} keeps the camera's frame rate, "
            f"and so does leaving the CPU to this program")
