"""The flags that say how a style network runs, shared by ``live``, ``video``, ``stylize`` and ``bench``.

``--backend``, ``--device``, ``--threads`` and ``--precision`` mean the same in every command: they are
passed to :func:`vidstyle.runtime.create_stylizer` (see :func:`runtime_options`).
"""
from __future__ import annotations

import argparse
from typing import Any, Optional

from vidstyle.errors import InputError
from vidstyle.runtime.factory import BACKENDS
from vidstyle.runtime.precision import PRECISION_ALIASES, PRECISIONS, parse_precision

PRECISION_HELP = (f"{', '.join(PRECISIONS)} (default auto: the fastest that keeps the look on this machine;"
                  f" {', '.join(PRECISION_ALIASES)} are accepted too)")


def precision_arg(text: str) -> str:
    """argparse type of ``--precision``: a name or old spelling -> one of PRECISIONS."""
    try:
        return parse_precision(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_precision_flag(parser: argparse.ArgumentParser, default: Optional[str] = "auto", help: str = PRECISION_HELP) -> None:
    """``--precision`` with the shared names."""
    parser.add_argument("--precision", type=precision_arg, default=default, metavar="|".join(PRECISIONS), help=help)


def add_runtime_flags(parser: argparse.ArgumentParser, several_backends: bool = False) -> None:
    """``--backend``, ``--device``, ``--threads`` and ``--precision``.

    several_backends: ``--backends``/``--backend`` take a comma-separated list (``bench`` compares them).
    """
    names = ", ".join(("auto", *BACKENDS))
    if several_backends:
        parser.add_argument("--backends", "--backend", dest="backend", default="auto",
                            help=f"comma-separated: {names} (default auto)")
    else:
        parser.add_argument("--backend", default="auto", help=f"{names} (default auto: the fastest installed)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    parser.add_argument("--threads", type=int, default=None, help="CPU inference threads (default: every available core)")
    add_precision_flag(parser)


STYLE_HELP = ("a multi-style model's style, or a blend of its styles: NAME or NAME=0.6,OTHER=0.4 "
              "(weights are normalised; `vidstyle models list` shows each model's styles)")


def add_style_flag(parser: argparse.ArgumentParser, help: str = STYLE_HELP) -> None:
    """``--style NAME|A=w,B=w``: the style mix of a multi-style model (checked when the model is loaded)."""
    parser.add_argument("--style", default=None, metavar="NAME|A=w,B=w", help=help)


def runtime_options(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed runtime flags as keyword arguments of ``create_stylizer`` (and of the options that carry them)."""
    return {"backend": args.backend, "device": args.device, "threads": args.threads, "precision": args.precision}
