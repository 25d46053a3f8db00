"""The fault corpus: hostile but ordinary inputs, made by the tests, run through the real command line.

Every case asserts the exit code, a one-line message (no traceback), that the inputs are byte-for-byte
unchanged, and that nothing is left under the final output name (nor a hidden partial file). Commands run
in-process through ``vidstyle.cli.main.main`` (fast); the signal cases run a subprocess.

Read-only and full filesystems are real tmpfs mounts where the test may mount them, else a skip that says why.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import torch
from PIL import Image

from vidstyle.cli.main import main
from vidstyle.io.synthetic import synthetic_scene, synthetic_style, write_test_clip
from vidstyle.models import build_network, full_arch_params, save_model

REPO = Path(__file__).resolve().parents[2]


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_cli(capsys, *args: object) -> CliResult:
    """``vidstyle ARGS`` in this process; no traceback may reach stderr."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse refusals
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return CliResult(code, captured.out, captured.err)


def assert_refused(result: CliResult, message: str, code: int = 2) -> None:
    """Exit ``code``, exactly one stderr line starting ``vidstyle: error:`` and containing ``message``; any
    other line is a one-line ``vidstyle: warning:`` (e.g. a skipped unreadable photo before the refusal)."""
    assert result.code == code, result.err
    errors = [line for line in result.lines if not line.startswith("vidstyle: warning: ")]
    assert len(errors) == 1, result.lines
    assert errors[0].startswith("vidstyle: error: "), result.lines
    assert message in errors[0], errors[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Snapshot:
    """The bytes of some files now, to assert later that nothing touched them."""

    def __init__(self, *paths: Path) -> None:
        self.files = {p: digest(p) for path in paths for p in ([path] if path.is_file() else sorted(path.rglob("*")))
                      if p.is_file()}

    def assert_unchanged(self) -> None:
        for path, before in self.files.items():
            assert path.is_file(), f"input {path} is gone"
            assert digest(path) == before, f"input {path} was changed"


def partial_files(folder: Path) -> list[str]:
    """Hidden temporary outputs left behind (there should be none)."""
    return sorted(p.name for p in folder.rglob("*") if ".partial-" in p.name or ".replaced-" in p.name)


def write_image(path: Path, height: int = 48, width: int = 64, seed: int = 0) -> Path:
    Image.fromarray(synthetic_scene(height, width, seed=seed)).save(path)
    return path


def _mount_tmpfs(path: Path, options: str) -> str | None:
    """Mount a tmpfs at ``path``; returns why not, or None when mounted."""
    if os.name != "posix" or sys.platform != "linux":
        return "tmpfs mounts need Linux"
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                                capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run mount ({exc})"
    if result.returncode != 0:
        return f"this test may not mount a tmpfs ({(result.stderr or result.stdout).strip() or 'mount failed'})"
    return None


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "1m", readonly: bool = False) -> Iterator[Path]:
    """A real tmpfs of ``size`` at ``path`` (read-only if asked), or a skip that prints the reason."""
    path.mkdir(parents=True, exist_ok=True)
    why = _mount_tmpfs(path, f"size={size},mode=0777" + (",ro" if readonly else ""))
    if why is not None:
        print(f"skipped: {why}", file=sys.stderr)
        pytest.skip(why)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=20)


@contextlib.contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """A folder this process cannot write to: a read-only tmpfs for root (which ignores permission bits),
    a mode-0555 folder for anyone else."""
    if os.geteuid() == 0:
        with tmpfs(path, readonly=True) as folder:
            yield folder
        return
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o555)
    try:
        yield path
    finally:
        path.chmod(0o755)


def file_size_limit(limit: int):
    """preexec_fn for a subprocess whose files may not grow past ``limit`` bytes (EFBIG, like a full disk)."""
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def subprocess_env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO))


def frames_of(path: Path) -> int:
    from vidstyle.io.probe import probe_video

    return probe_video(path).frame_count


def image_array(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))
