"""`vidstyle stylize`: apply a trained style network to an image or a folder of images."""
from __future__ import annotations

import argparse
from pathlib import Path

from vidstyle.cli.runtime_flags import add_runtime_flags, add_style_flag, runtime_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "stylize",
        help="stylize images with a trained network (fast)",
        description="Stylize IN (an image, or a folder searched recursively) into OUT (an image, or a folder "
        "that mirrors IN) with a trained transform network. See `vidstyle models list` for model names.",
    )
    p.add_argument("input", type=Path, metavar="IN", help="image file or folder")
    p.add_argument("output", type=Path, metavar="OUT", help="image file or folder")
    p.add_argument("--model", required=True, help="model name (vidstyle models list) or .safetensors path")
    add_style_flag(p)
    p.add_argument("--strength", type=float, default=1.0, help="1.0 full style … 0.0 the original (default 1.0)")
    p.add_argument("--preserve-color", action="store_true", help="keep the photo's colours (style on luminance)")
    p.add_argument("--long-side", type=int, default=None, help="resize inputs so the longer side has N pixels")
    add_runtime_flags(p)
    p.add_argument("--batch", type=int, default=4, help="images per network call (default 4)")
    p.add_argument("--overwrite", "-y", action="store_true", help="replace existing output files (never an input)")
    p.add_argument("--quiet", action="store_true", help="do not list written files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidstyle.pipeline.images import StylizeOptions, stylize_paths

    options = StylizeOptions(strength=args.strength, preserve_color=args.preserve_color, long_side=args.long_side,
                             **runtime_options(args), batch=args.batch, overwrite=args.overwrite, style=args.style)
    report = None if args.quiet else (lambda src, dst: print(f"{src} -> {dst}"))
    written = stylize_paths(args.input, args.output, args.model, options, on_image=report)
    if not args.quiet and len(written) > 1:
        print(f"{len(written)} images written to {args.output}")
    return 0
