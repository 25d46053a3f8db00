"""`vidstyle video` as a user runs it: a real (untrained) network file, real clips, real signals."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vidstyle.cli.main import main
from vidstyle.io.probe import probe_video
from vidstyle.io.synthetic import write_test_clip

REPO = Path(__file__).resolve().parents[2]


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_stylizes_a_clip_keeping_frames_and_audio(tmp_path, model_file, capsys):
    clip = write_test_clip(tmp_path / "in.mp4", width=96, height=64, seconds=1.0)
    code = main(["video", str(clip.path), str(tmp_path / "out.mp4"), "--model", str(model_file)])
    assert code == 0
    src, out = probe_video(clip.path), probe_video(tmp_path / "out.mp4", keep_images=True)
    assert out.times == src.times and out.audio[0].packets == src.audio[0].packets
    assert out.images[0].std() > 5  # a real picture, not a blank frame
    assert "wrote" in capsys.readouterr().err


def test_batched_torch_run_writes_the_same_frames(tmp_path, model_file):
    clip = write_test_clip(tmp_path / "in.mp4", width=96, height=64, frames=7, audio=False)
    for name, extra in (("one.mp4", []), ("batched.mp4", ["--batch", "3"])):
        code = main(["video", str(clip.path), str(tmp_path / name), "--model", str(model_file), "--backend", "torch",
                     "--crf", "0", "-q"] + extra)
        assert code == 0
    one, batched = (probe_video(tmp_path / n, keep_images=True) for n in ("one.mp4", "batched.mp4"))
    assert one.frame_count == batched.frame_count == 7 and one.times == batched.times
    assert max(abs(a.astype(int) - b.astype(int)).max() for a, b in zip(one.images, batched.images)) <= 2


def test_threads_option_sets_the_inference_threads_and_rejects_zero(tmp_path, model_file, capsys):
    clip = write_test_clip(tmp_path / "in.mp4", width=96, height=64, frames=5, audio=False)
    code = main(["video", str(clip.path), str(tmp_path / "one.mp4"), "--model", str(model_file), "--threads", "1", "-q"])
    assert code == 0 and probe_video(tmp_path / "one.mp4").frame_count == 5
    code = main(["video", str(clip.path), str(tmp_path / "zero.mp4"), "--model", str(model_file), "--threads", "0"])
    lines = error_lines(capsys)
    assert code == 2 and len(lines) == 1 and "--threads must be at least 1" in lines[0]
    assert not (tmp_path / "zero.mp4").exists()


@pytest.mark.parametrize(
    "make_args,message",
    [
        (lambda p, m: ["video", str(p / "missing.mp4"), str(p / "o.mp4"), "--model", m], "file not found"),
        (lambda p, m: ["video", str(p / "in.mp4"), str(p / "in.mp4"), "--model", m, "--overwrite"], "overwrite the input"),
        (lambda p, m: ["video", str(p / "in.mp4"), str(p / "o.gif"), "--model", m], "unsupported output format"),
        (lambda p, m: ["video", str(p / "in.mp4"), str(p / "o.webm"), "--model", m, "--codec", "hevc"], "cannot hold hevc"),
        (lambda p, m: ["video", str(p / "in.mp4"), str(p / "o.mp4"), "--model", m, "--batch", "0"], "--batch must be at least 1"),
        (lambda p, m: ["video", str(p / "in.mp4"), str(p / "o.mp4"), "--model", str(p / "nope.safetensors")], "model"),
        (lambda p, m: ["video", str(p / "notvideo.mp4"), str(p / "o.mp4"), "--model", m], "cannot read"),
        (lambda p, m: ["video", str(p / "in.mp4"), str(p / "o.mp4"), "--model", m, "--temporal", "trained"], "temporal"),
        (lambda p, m: ["video", str(p / "in.mp4"), str(p / "o.mp4"), "--model", m, "--start", "50"], "no decodable"),
        (lambda p, m: ["video", str(p / "in.mp4"), str(p / "o.mp4"), "--temporal", "optimize"], "needs --style"),
    ],
)
def test_faults_are_one_clear_line(tmp_path, model_file, capsys, make_args, message):
    write_test_clip(tmp_path / "in.mp4", width=64, height=48, frames=5, audio=False)
    (tmp_path / "notvideo.mp4").write_text("hello")
    code = main(make_args(tmp_path, str(model_file)))
    lines = error_lines(capsys)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("vidstyle: error: ") and message in lines[0]
    assert not (tmp_path / "o.mp4").exists()
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []


def _run_and_interrupt(tmp_path: Path, model_file: Path, extra: list[str]) -> tuple[subprocess.CompletedProcess, Path]:
    """Start `vidstyle video` on a clip long enough to be caught mid-run, SIGINT it once frames are written."""
    clip = write_test_clip(tmp_path / "long.mp4", width=320, height=240, seconds=8.0, fps=30)
    out = tmp_path / "out.mp4"
    cmd = [sys.executable, "-m", "vidstyle", "video", str(clip.path), str(out), "--model", str(model_file),
           "--backend", "torch", "--size", "640x480", "--preset", "ultrafast", *extra]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # A shell without job control starts background jobs with SIGINT ignored, and Python then keeps ignoring it
    # (so `pytest &` would see the run complete): give the child the default disposition, as a terminal does.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in tmp_path.iterdir() if ".partial-" in p.name]
        if partial and partial[0].stat().st_size > 30_000:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "finished before it could be interrupted: " + proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), out


@pytest.mark.slow
def test_ctrl_c_removes_the_temporary_file(tmp_path, model_file):
    result, out = _run_and_interrupt(tmp_path, model_file, [])
    assert result.returncode == 130, result.stderr
    assert "vidstyle: interrupted" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []


@pytest.mark.slow
def test_ctrl_c_with_keep_partial_leaves_a_playable_file(tmp_path, model_file):
    result, out = _run_and_interrupt(tmp_path, model_file, ["--keep-partial"])
    assert result.returncode == 130, result.stderr
    assert "kept" in result.stderr and "Traceback" not in result.stderr
    partial = probe_video(out)
    assert 0 < partial.frame_count < 240
    assert partial.times == [t for t in probe_video(tmp_path / "long.mp4").times][: partial.frame_count]
    assert partial.audio and partial.audio[0].seconds <= partial.duration + 0.1
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []


def test_optimize_starts_from_a_model_and_names_a_missing_one(tmp_path, model_file, capsys):
    from PIL import Image

    from vidstyle.io.synthetic import synthetic_style

    clip = write_test_clip(tmp_path / "in.mp4", width=64, height=48, frames=3, audio=False)
    style = tmp_path / "style.png"
    Image.fromarray(synthetic_style()).save(style)
    common = ["--temporal", "optimize", "--style", str(style), "--steps", "1", "--long-side", "48", "-q"]
    code = main(["video", str(clip.path), str(tmp_path / "o.mp4"), "--model", str(model_file), *common])
    assert code == 0 and probe_video(tmp_path / "o.mp4").frame_count == 3
    code = main(["video", str(clip.path), str(tmp_path / "p.mp4"), "--model", str(tmp_path / "nope.safetensors"), *common])
    lines = error_lines(capsys)
    assert code == 2 and len(lines) == 1 and "nope.safetensors" in lines[0]
    assert not (tmp_path / "p.mp4").exists()
