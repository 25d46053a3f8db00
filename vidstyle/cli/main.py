"""`vidstyle` entry point: one subcommand per module in this package.

Each command module defines ``register(subparsers)``, which adds its parser and sets
``func=run`` where ``run(args) -> int``. Errors meant for users (VidstyleError) are
printed as one line on stderr with a non-zero exit; Ctrl-C exits with 130. Warnings are
one line too (``vidstyle: warning: ...``), not Python's two-line format with a source line.
"""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import warnings

from vidstyle import __version__
from vidstyle.errors import VidstyleError
from vidstyle.utils.signals import StopRecord, signal_number, stop_signals_interrupt
from vidstyle.utils.validate import MEMORY_LIMIT_ENV

# Modules under vidstyle.cli that provide a subcommand, in the order `--help` lists them.
COMMAND_MODULES = [
    "image",
    "eval_temporal",
    "video",
    "live",
    "serve",
    "bench",
    "train",
    "add_style",
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
    stops = StopRecord()
    try:
        # SIGTERM/SIGHUP stop a command as Ctrl-C does: the same cleanup, the same kept partial output.
        with stop_signals_interrupt() as stops, warnings.catch_warnings():
            warnings.showwarning = show_warning
            code = args.func(args)
    except VidstyleError as exc:
        print(f"vidstyle: error: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        signum = signal_number(exc, stops)
        stopped_by = f" ({signal.Signals(signum).name})" if signum != signal.SIGINT else ""
        print(f"vidstyle: interrupted{stopped_by}", file=sys.stderr)
        return 128 + int(signum)
    except BrokenPipeError:
        return 1
    except MemoryError:
        print(f"vidstyle: error: out of memory; try a smaller size ({MEMORY_LIMIT_ENV} sets what vidstyle plans for)",
              file=sys.stderr)
        return 2
    except RuntimeError as exc:  # torch.cuda.OutOfMemoryError and the backends' own out-of-memory errors
        if "out of memory" not in str(exc).lower():
            raise
        print("vidstyle: error: the device ran out of memory; try a smaller size or --batch", file=sys.stderr)
        return 2
    return int(code or 0)


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file=None, line: str | None = None) -> None:
    """``warnings.showwarning`` for the command line: ``vidstyle: warning: MESSAGE`` on one stderr line."""
    print(f"vidstyle: warning: {one_line(message)}", file=file or sys.stderr)


def one_line(exc: BaseException | str) -> str:
    """An error message on one line (some library messages span several)."""
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip())


def run() -> None:
    """The ``vidstyle`` program: :func:`main`, then exit with its code. After a stop signal (code > 128) the
    command's own cleanup has run, but library worker threads may still be inside native code, and tearing the
    interpreter down under them can abort the process; so it exits at once."""
    code = main()
    if code > 128:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
