"""`vidstyle add-style`: learn a new painting as a style of a multistyle model, in minutes on a CPU."""
from __future__ import annotations

import argparse
from pathlib import Path

from vidstyle.train.add_style import ADD_STYLE_LR, AddStyleConfig

_DEFAULTS = AddStyleConfig(painting=Path("."), name="", data=Path("."))


def register(subparsers: argparse._SubParsersAction) -> None:
    d = _DEFAULTS
    p = subparsers.add_parser(
        "add-style",
        help="teach a multistyle model a new painting in minutes (then --model zoo --style NAME)",
        description="Learn PAINTING as a new style of a multistyle model: only the style's own scale and shift "
        "rows train (the network is frozen), on your photos or frames of your video. The style is saved beside "
        "your models and works at once in every command with --model MODEL --style NAME, at the same speed.",
    )
    p.add_argument("painting", type=Path, help="the painting (jpg, png, webp)")
    p.add_argument("--name", required=True, help="the style's name (letters, digits, - and _)")
    p.add_argument("--data", required=True, type=Path, metavar="PHOTOS_DIR|VIDEO",
                   help="training pictures: a folder of photos or a video file (frames are spread over it); "
                        "footage like what you will stylize works best")
    p.add_argument("--model", default=d.model, help=f"the multistyle model to extend (default {d.model})")
    p.add_argument("--minutes", type=float, default=d.minutes, help=f"training time (default {d.minutes:g})")
    p.add_argument("--size", type=int, default=d.size, help=f"training crop size in pixels (default {d.size})")
    p.add_argument("--batch", type=int, default=d.batch, help=f"crops per step (default {d.batch})")
    p.add_argument("--lr", type=float, default=ADD_STYLE_LR, help=f"learning rate (default {ADD_STYLE_LR:g})")
    p.add_argument("--style-weight", type=float, default=None,
                   help="weight of the painting's texture against the photo's content (default: the model's own; "
                        "higher gives bolder strokes and less of the photo)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    p.add_argument("--overwrite", action="store_true", help="relearn a style of this name added before")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vidstyle.train.add_style import add_style

    add_style(AddStyleConfig(
        painting=args.painting, name=args.name, data=args.data, model=args.model, minutes=args.minutes,
        size=args.size, batch=args.batch, lr=args.lr, style_weight=args.style_weight, threads=args.threads,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    ))
    return 0
