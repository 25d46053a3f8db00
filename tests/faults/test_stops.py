"""`vidstyle video` stopped by a signal or a full disk: SIGTERM and SIGHUP are handled like Ctrl-C (the
temporary file removed, or with --keep-partial a playable file kept), and a partial file that cannot be
finished (disk full) never appears under the final name."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.faults.corpus import (_mount_tmpfs, assert_refused, file_size_limit, frames_of, partial_files, run_cli,
                                 subprocess_env)
from vidstyle.io.synthetic import write_test_clip


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("long")
    return write_test_clip(folder / "long.mp4", width=160, height=120, seconds=12.0, fps=30).path


def _video(clip: Path, out: Path, model: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "vidstyle", "video", str(clip), str(out), "--model", str(model),
            "--backend", "torch", "--threads", "1", "--size", "640x480", "--preset", "ultrafast", *extra]


def _stop_midway(cmd: list[str], folder: Path, sig: int) -> subprocess.CompletedProcess:
    """Run ``cmd``, send ``sig`` once its partial output holds some frames, return how it ended."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in folder.iterdir() if ".partial-" in p.name]
        if partial and partial[0].stat().st_size > 20_000:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "finished before it could be stopped: " + proc.communicate()[1]
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_removes_the_temporary_file(tmp_path, tiny_model, long_clip, sig):
    out = tmp_path / "out.mp4"
    result = _stop_midway(_video(long_clip, out, tiny_model), tmp_path, sig)
    assert result.returncode == 128 + sig, result.stderr
    assert "Traceback" not in result.stderr and f"interrupted ({signal.Signals(sig).name})" in result.stderr
    assert not out.exists() and partial_files(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_with_keep_partial_keeps_a_playable_file(tmp_path, tiny_model, long_clip, sig):
    out = tmp_path / "out.mp4"
    result = _stop_midway(_video(long_clip, out, tiny_model, "--keep-partial"), tmp_path, sig)
    assert result.returncode == 128 + sig, result.stderr
    assert "Traceback" not in result.stderr and "kept" in result.stderr
    assert 0 < frames_of(out) < 360
    assert partial_files(tmp_path) == []


def test_keep_partial_on_a_full_disk_leaves_nothing_under_the_final_name(tmp_path, capsys, tiny_model, long_clip):
    disk = tmp_path / "disk"
    disk.mkdir()
    args = ["video", long_clip, disk / "out.mp4", "--model", tiny_model, "--backend", "torch", "--keep-partial",
            "--size", "640x480", "--preset", "ultrafast", "-q"]
    why = _mount_tmpfs(disk, "size=96k,mode=0777")
    if why is None:
        try:
            result = run_cli(capsys, *args)
            lines = result.lines
            assert result.code == 2 and lines[-1].startswith("vidstyle: error: disk full"), lines
            assert not (disk / "out.mp4").exists() and list(disk.iterdir()) == []
        finally:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True)
        return
    # No tmpfs here: a file size limit fails the writes the same way (EFBIG).
    print(f"no tmpfs ({why}); using a 96 KB file size limit instead", file=sys.stderr)
    result = subprocess.run([sys.executable, "-m", "vidstyle", *map(str, args)], capture_output=True, text=True,
                            env=subprocess_env(), preexec_fn=file_size_limit(96 * 1024), timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "file size limit" in result.stderr or "disk full" in result.stderr
    assert not (disk / "out.mp4").exists() and list(disk.iterdir()) == []


def test_a_url_input_keeps_its_double_slash(tmp_path, capsys, tiny_model):
    result = run_cli(capsys, "video", "http://127.0.0.1:9/clip.mp4", tmp_path / "out.mp4", "--model", tiny_model)
    assert_refused(result, "http://127.0.0.1:9/clip.mp4")
    assert "file not found" not in result.lines[0]
    assert list(tmp_path.iterdir()) == []
