"""One place for the checks every command makes on numbers: counts, sizes, thread counts, finite values, memory.

Option dataclasses and the CLI call these before any work starts, so a bad value is one InputError line
that names the option, never a traceback, a hang or an unbounded allocation later on.
"""
from __future__ import annotations

import math
import os
import re
from typing import Optional

from vidstyle.errors import InputError

# The largest frame or image side any command accepts (H.264/HEVC levels end at 8192-16384; larger
# images than this are refused long before the memory estimate would be reached anyway).
MAX_SIDE = 16384
# Environment variable that raises (or lowers) the memory limit, e.g. VIDSTYLE_MEMORY_LIMIT=8G.
MEMORY_LIMIT_ENV = "VIDSTYLE_MEMORY_LIMIT"
# Working memory one command may plan to use by default: with the ~0.7 GB of libraries loaded (torch,
# OpenVINO, a compiled model) this keeps every command under 4 GB (benchmarks/bench_memory.py measures it),
# and it fits the 8 GB laptops the README targets.
DEFAULT_MEMORY_LIMIT = 2816 << 20
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def finite(name: str, value: float, low: Optional[float] = None, high: Optional[float] = None,
           low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a float, or InputError unless it is finite and within [low, high].

    ``low_open``/``high_open`` exclude the bound itself (e.g. a learning rate must be > 0).
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        raise InputError(f"{name} must be {_range_text(low, high, low_open, high_open)}, got {value!r}")
    return number


def integer(name: str, value: int, low: Optional[int] = None, high: Optional[int] = None) -> int:
    """``value`` as an int, or InputError unless it is a whole number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not value.is_integer()):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    number = int(value)
    if low is not None and number < low:
        raise InputError(f"{name} must be at least {low}, got {value!r}")
    if high is not None and number > high:
        raise InputError(f"{name} must be at most {high}, got {value!r}")
    return number


def optional_finite(name: str, value: Optional[float], **bounds) -> Optional[float]:
    """:func:`finite` for an option that may be None (not given)."""
    return None if value is None else finite(name, value, **bounds)


def optional_integer(name: str, value: Optional[int], **bounds) -> Optional[int]:
    """:func:`integer` for an option that may be None (not given)."""
    return None if value is None else integer(name, value, **bounds)


def _range_text(low, high, low_open: bool = False, high_open: bool = False) -> str:
    if low is not None and high is not None:
        if not low_open and not high_open:
            return f"between {low:g} and {high:g}"
        return f"{'>' if low_open else '>='} {low:g} and {'<' if high_open else '<='} {high:g}"
    if low is not None:
        return f"{'more than' if low_open else 'at least'} {low:g}"
    return f"{'less than' if high_open else 'at most'} {high:g}"


def max_threads() -> int:
    """The most threads --threads accepts: 4 per core of the machine, and at least 256.

    Thread pools allocate per thread up front (100000 threads is a 17 GB hang in ONNX Runtime and a
    crash in torch), and more threads than a few per core never run faster.
    """
    return max(256, 4 * (os.cpu_count() or 1))


def threads(value: Optional[int], name: str = "--threads") -> Optional[int]:
    """A thread count: None (automatic) or a whole number in [1, max_threads()]."""
    if value is None:
        return None
    return integer(name, value, 1, max_threads())


def side(name: str, value: int, minimum: int = 1, maximum: int = MAX_SIDE) -> int:
    """A length in pixels (a long side, a crop size): a whole number in [minimum, maximum]."""
    return integer(name, value, minimum, maximum)


def frame_size(name: str, width: int, height: int, minimum: int = 1, maximum: int = MAX_SIDE) -> tuple[int, int]:
    """A (width, height) in pixels, each side within [minimum, maximum]."""
    for value in (width, height):
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise InputError(f"{name} must be between {minimum}x{minimum} and {maximum}x{maximum} pixels, "
                             f"got {width}x{height}")
    return width, height


def parse_bytes(text: str) -> int:
    """'3G', '512M', '1.5GB', '4096' (bytes) -> bytes."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)i?b?\s*", str(text).lower())
    if not match:
        raise InputError(f"{MEMORY_LIMIT_ENV} must look like 4G or 512M, got {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def memory_limit() -> int:
    """Bytes of working memory a command may plan to allocate: ``$VIDSTYLE_MEMORY_LIMIT`` or DEFAULT_MEMORY_LIMIT."""
    text = os.environ.get(MEMORY_LIMIT_ENV)
    return parse_bytes(text) if text else DEFAULT_MEMORY_LIMIT


def format_bytes(count: float) -> str:
    """1536 * 2**20 -> '1.5 GB' (binary units, as `free -h` shows them)."""
    for unit, size in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{int(count)} bytes"


def check_memory(needed: float, what: str, hint: str = "") -> None:
    """InputError naming the limit when ``needed`` bytes (an estimate made before allocating) exceed it.

    what: the thing being sized, e.g. "a 100000x75000 image"; hint: what to do instead (a smaller size).
    """
    limit = memory_limit()
    if needed > limit:
        advice = f"; {hint}" if hint else ""
        raise InputError(f"{what} needs about {format_bytes(needed)} of memory, more than the limit of "
                         f"{format_bytes(limit)}{advice} (or raise the limit with {MEMORY_LIMIT_ENV}=8G)")


__all__ = [
    "MAX_SIDE", "MEMORY_LIMIT_ENV", "DEFAULT_MEMORY_LIMIT", "finite", "integer", "optional_finite",
    "optional_integer", "max_threads", "threads", "side", "frame_size", "parse_bytes", "memory_limit",
    "format_bytes", "check_memory",
]
