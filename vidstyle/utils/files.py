"""Atomic output files: write to a temporary name in the same folder, rename when complete."""
from __future__ import annotations

import contextlib
import errno
import os
import uuid
from pathlib import Path
from typing import Iterator

from vidstyle.errors import OutputError


def _process_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Some writers (safetensors) create private 0600 files; finished outputs get the usual umask-based mode.
_DEFAULT_FILE_MODE = 0o666 & ~_process_umask()


def check_output_path(path: str | os.PathLike, inputs: tuple = ()) -> Path:
    """Validate an output path before any work starts.

    Raises OutputError when the folder does not exist or is not writable, or when the
    output would overwrite one of ``inputs``.
    """
    out = Path(path)
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"output folder is not writable: {folder}")
    if out.is_dir():
        raise OutputError(f"output path is a folder: {out}")
    for src in inputs:
        try:
            if src is not None and Path(src).exists() and out.exists() and out.resolve() == Path(src).resolve():
                raise OutputError(f"refusing to overwrite the input file {src}")
        except OSError:
            pass
    return out


def temp_path_for(path: str | os.PathLike) -> Path:
    """A hidden temporary sibling of ``path`` that keeps its extension (so encoders pick the format)."""
    out = Path(path)
    return out.with_name(f".{out.stem}.partial-{uuid.uuid4().hex[:8]}{out.suffix}")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, keep_partial: bool = False) -> Iterator[Path]:
    """Yield a temporary path; on success rename it to ``path``.

    On failure the temporary file is removed, unless ``keep_partial`` is set, in which
    case it is renamed to ``path`` too (the caller must have made it playable).
    A full disk (ENOSPC) becomes a one-line OutputError.
    """
    out = Path(path)
    tmp = temp_path_for(out)
    try:
        yield tmp
    except BaseException as exc:
        if keep_partial and tmp.exists() and tmp.stat().st_size > 0:
            os.replace(tmp, out)
        else:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise OutputError(f"disk full while writing {out}") from exc
        raise
    else:
        if not tmp.exists():
            raise OutputError(f"nothing was written to {out}")
        if tmp.is_file():
            os.chmod(tmp, _DEFAULT_FILE_MODE)
        os.replace(tmp, out)
