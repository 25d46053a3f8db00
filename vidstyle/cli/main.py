"""`vidstyle` entry point: one subcommand per module in this package.

Each command module defines ``register(subparsers)``, which adds its parser and sets
``func=run`` where ``run(args) -> int``. Errors meant for users (VidstyleError) are
printed as one line on stderr with a non-zero exit; Ctrl-C exits with 130.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from vidstyle import __version__
from vidstyle.errors import VidstyleError

# Modules under vidstyle.cli that provide a subcommand, in the order `--help` lists them.
COMMAND_MODULES = [
    "image",
    "eval_temporal",
    "video",
    "live",
    "serve",
    "bench",
    "train",
    "stylize",
    "models",
    "export",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vidstyle",
        description="Neural style transfer for images, video files and live cameras.",
    )
    parser.add_argument("--version", action="version", version=f"vidstyle {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"vidstyle.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except VidstyleError as exc:
        print(f"vidstyle: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("vidstyle: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
