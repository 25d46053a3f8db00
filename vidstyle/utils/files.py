"""Output safety, the one rule every command follows, and atomic output files.

The rule: an output never replaces an input (compared by inode, so symlinks, hard links and ``..`` paths
count too, and a folder output is never inside an input folder); an existing output is replaced only when
the caller says so (``--overwrite``); an output that exists but is not a regular file (a device such as
/dev/null, a pipe) or not a folder (for folder outputs) is refused; and every output is written under a
temporary name in its own folder and renamed when complete, so no half-written file ever carries the final name.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

from vidstyle.errors import OutputError

# Errors that mean "no room left": each becomes a one-line OutputError.
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _process_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Some writers (safetensors) create private 0600 files; finished outputs get the usual umask-based mode.
_DEFAULT_FILE_MODE = 0o666 & ~_process_umask()

PathInput = Union[str, os.PathLike, None]


def _existing_inputs(inputs: Iterable[PathInput]) -> list[Path]:
    """The inputs that are existing local paths (URLs, None and missing paths cannot be overwritten)."""
    found = []
    for src in inputs:
        if src is None or not isinstance(src, (str, os.PathLike)) or "://" in str(src):
            continue
        p = Path(src)
        with contextlib.suppress(OSError):
            if p.exists():
                found.append(p)
    return found


def _is_within(path: Path, folder: Path) -> bool:
    """True when ``path`` is ``folder`` or lies inside it (both resolved: symlinked folders count)."""
    try:
        path, folder = path.resolve(), folder.resolve()
    except OSError:
        return False
    return path == folder or folder in path.parents


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when both paths exist and name the same file (same inode: hard links and symlinks count)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(
    path: str | os.PathLike,
    inputs: Iterable[PathInput] = (),
    overwrite: bool = False,
    folder: bool = False,
    create_parents: bool = False,
    merge: bool = False,
) -> Path:
    """Check an output path before any work starts; returns it as a Path.

    inputs: files or folders the command reads (None, URLs and missing paths are ignored).
    overwrite: an existing output may be replaced (``--overwrite``); otherwise it is refused.
    folder: the output is a folder of files (PNG frames), written and replaced as a whole.
    create_parents: the caller creates missing parent folders (the nearest existing one must be writable).
    merge: with ``folder``, an existing folder is kept and files are added to it (the caller checks each
        file with this function): only a folder inside an input folder is refused.

    Raises OutputError, naming what to do, when the output would replace or lie inside an input, when it
    exists (without ``overwrite``) or is something else than the output kind (a device like /dev/null, a
    pipe, a folder where a file is expected), or when its folder is missing or not writable.
    """
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    existing_parent = _nearest_existing(parent) if create_parents else parent
    if not existing_parent.is_dir():
        raise OutputError(f"output folder does not exist: {parent}")
    if not os.access(existing_parent, os.W_OK | os.X_OK):
        raise OutputError(f"output folder is not writable: {existing_parent}")
    for src in _existing_inputs(inputs):
        if same_file(out, src):
            raise OutputError(f"refusing to overwrite the input {src}; choose another output name")
        # A folder output inside an input folder would be read back as input; one holding an input would replace it.
        if folder and src.is_dir() and _is_within(out, src):
            raise OutputError(f"output folder {out} lies inside the input folder {src}; choose one outside it")
        if folder and not merge and out.exists() and _is_within(src, out):
            raise OutputError(f"the input {src} lies inside the output folder {out}; choose another output folder")
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        return out
    except OSError as exc:
        raise OutputError(f"cannot use {out} as output: {exc.strerror or exc}") from None
    if folder and not stat.S_ISDIR(mode):
        raise OutputError(f"{out} exists and is not a folder; give a new folder name for the frames")
    if not folder and stat.S_ISDIR(mode):
        raise OutputError(f"output path is a folder: {out}; give a file name")
    if not folder and not stat.S_ISREG(mode):
        raise OutputError(f"{out} is not a regular file (a device, pipe or socket); give a file name")
    if not overwrite and not merge:
        raise OutputError(f"{out} already exists; pass --overwrite to replace it")
    return out


def temp_path_for(path: str | os.PathLike) -> Path:
    """A hidden temporary sibling of ``path`` that keeps its extension (so encoders pick the format)."""
    out = Path(path)
    return out.with_name(f".{out.stem}.partial-{uuid.uuid4().hex[:8]}{out.suffix}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _replace(tmp: Path, out: Path) -> None:
    """Move the finished ``tmp`` to ``out``; an existing folder ``out`` is swapped out, then removed."""
    if tmp.is_dir() and out.is_dir() and not out.is_symlink():
        old = out.with_name(f".{out.name}.replaced-{uuid.uuid4().hex[:8]}")
        os.replace(out, old)
        try:
            os.replace(tmp, out)
        except OSError:
            os.replace(old, out)  # put the old one back: never lose both
            raise
        shutil.rmtree(old, ignore_errors=True)
        return
    os.replace(tmp, out)


# How writers that wrap OS errors in their own exceptions (safetensors, FFmpeg) spell them.
_DISK_FULL_TEXTS = tuple(os.strerror(code) for code in sorted(DISK_FULL_ERRNOS))


def is_disk_full(exc: BaseException | None) -> bool:
    """True for a full disk, a quota or a file size limit: an OSError with that errno anywhere in the
    cause chain, or a library error quoting the system's message."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            return True
        if any(text in str(exc) for text in _DISK_FULL_TEXTS):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, keep_partial: Union[bool, Callable[[], bool]] = False) -> Iterator[Path]:
    """Yield a temporary path; on success rename it to ``path``.

    On failure the temporary file (or folder) is removed, unless ``keep_partial`` says to keep it:
    ``True``, or a callable asked at that moment (the caller returns True only once it has made the
    partial output complete and playable); it is then renamed to ``path`` too.
    A full disk (ENOSPC, a quota, a file size limit) becomes a one-line OutputError.
    """
    out = Path(path)
    tmp = temp_path_for(out)
    try:
        yield tmp
    except BaseException as exc:
        keep = keep_partial() if callable(keep_partial) else keep_partial
        if keep and tmp.exists() and (tmp.is_dir() or tmp.stat().st_size > 0):
            _replace(tmp, out)
        else:
            _remove(tmp)
        if not isinstance(exc, (OutputError, KeyboardInterrupt)) and is_disk_full(exc):
            raise OutputError(f"disk full while writing {out}") from exc
        raise
    else:
        try:
            if not tmp.exists():
                raise OutputError(f"nothing was written to {out}")
            if tmp.is_file():
                os.chmod(tmp, _DEFAULT_FILE_MODE)
            _replace(tmp, out)
        except BaseException:
            _remove(tmp)
            raise
