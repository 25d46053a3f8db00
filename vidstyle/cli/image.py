"""`vidstyle image CONTENT STYLE... OUT`: Gatys et al. style transfer of one photo (parsing only)."""
from __future__ import annotations

import argparse

from vidstyle.cli.runtime_flags import add_precision_flag
from vidstyle.errors import InputError


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _float_list(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _name_list(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "image",
        help="stylize one image by Gatys et al. optimisation",
        usage="vidstyle image [options] CONTENT STYLE [STYLE ...] OUT",
        description="Render CONTENT in the style of one or more STYLE images (Gatys et al. 2016) and write OUT "
        "(format from the extension: .png, .jpg, .webp, ...). Defaults: 512 px, 300 L-BFGS steps.",
    )
    p.add_argument("content", metavar="CONTENT", help="content photo")
    p.add_argument("paths", metavar="STYLE ... OUT", nargs="+", help="one or more style images, then the output path")
    p.add_argument("--size", type=int, default=None, help="long side of the output in pixels (default 512)")
    p.add_argument("--scales", type=_int_list, default=None, metavar="S1,S2",
                   help="coarse-to-fine long sides, e.g. 256,512 (--steps at each); the last is the output size")
    p.add_argument("--steps", type=int, default=None, help="optimiser steps per scale (default 300)")
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default=None, help="default lbfgs")
    p.add_argument("--lr", type=float, default=None, dest="learning_rate",
                   help="step size (default 1.0 for L-BFGS, 0.02 for Adam)")
    p.add_argument("--content-weight", type=float, default=None)
    p.add_argument("--style-weight", type=float, default=None)
    p.add_argument("--tv-weight", type=float, default=None)
    p.add_argument("--content-layers", type=_name_list, default=None, metavar="L1,L2",
                   help="VGG19 layers, e.g. relu4_2 (default)")
    p.add_argument("--style-layers", type=_name_list, default=None, metavar="L1,L2",
                   help="default relu1_1,relu2_1,relu3_1,relu4_1,relu5_1")
    p.add_argument("--style-layer-weights", type=_float_list, default=None, metavar="W1,W2")
    p.add_argument("--init", default=None, metavar="content|noise|PATH", help="start image (default content)")
    p.add_argument("--style-blend", type=_float_list, default=None, metavar="W1,W2",
                   help="weights of several style images, e.g. 0.7,0.3 (default equal)")
    p.add_argument("--style-scale", type=float, default=None,
                   help="style images are resized to this times the output's long side (default 1)")
    p.add_argument("--preserve-color", action="store_true", default=None,
                   help="luminance-only transfer: keep the content's colours (Gatys et al. 2016)")
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda or mps")
    add_precision_flag(p, default=None, help="VGG19 arithmetic: auto (default; bf16 where the hardware runs it "
                       "natively), fp32, bf16 or fp16 (float32, bfloat16 are accepted too)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--save-every", type=int, default=None, metavar="N",
                   help="also write OUT.stepNNNN.EXT every N steps")
    p.add_argument("--overwrite", "-y", action="store_true", help="replace an existing OUT (never an input)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidstyle.gatys import GatysOptions, stylize_image

    if len(args.paths) < 2:
        raise InputError("expected CONTENT STYLE... OUT: at least one style image and an output path")
    *styles, output = args.paths
    if args.scales is not None and args.size is not None and args.scales and args.scales[-1] != args.size:
        raise InputError(f"--size {args.size} differs from the last of --scales ({args.scales[-1]}); give one of them")
    names = (
        "size", "scales", "steps", "optimizer", "learning_rate", "content_weight", "style_weight", "tv_weight",
        "content_layers", "style_layers", "style_layer_weights", "init", "style_blend", "style_scale",
        "preserve_color", "device", "precision", "seed", "save_every",
    )
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    options = GatysOptions(**given)
    stylize_image(args.content, styles, options=options, output=output, progress=not args.quiet,
                  overwrite=args.overwrite)
    return 0
