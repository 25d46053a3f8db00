"""`vidstyle live`: headless from a file camera, and a real window under Xvfb (skipped without Xvfb)."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from vidstyle.cli.main import main
from vidstyle.io.probe import probe_video
from vidstyle.io.synthetic import write_test_clip

REPO = Path(__file__).resolve().parents[2]


def test_headless_file_camera_60_frames(tmp_path, model_file, capsys):
    clip = write_test_clip(tmp_path / "cam.mp4", width=160, height=120, seconds=8.0, fps=30, audio=False)
    code = main(["live", "--camera", str(clip.path), "--model", str(model_file),
                 "--no-display", "--frames", "60", "--record", str(tmp_path / "rec.mp4")])
    assert code == 0
    err = capsys.readouterr().err
    assert "60 frames shown" in err and "latency" in err
    assert probe_video(tmp_path / "rec.mp4").frame_count == 60


def test_camera_that_does_not_exist_is_one_clear_line(model_file, capsys):
    code = main(["live", "--camera", "/dev/video-missing", "--model", str(model_file), "--no-display"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vidstyle")]
    assert code == 2 and lines == [lines[0]] and "cannot open camera" in lines[0]


def test_no_display_available_is_a_clear_error(tmp_path, model_file, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    clip = write_test_clip(tmp_path / "cam.mp4", width=64, height=48, frames=5, audio=False)
    code = main(["live", "--camera", str(clip.path), "--model", str(model_file)])
    assert code == 2 and "--no-display" in capsys.readouterr().err


# --- the real window ----------------------------------------------------------------------------

def read_xwd(data: bytes) -> np.ndarray:
    """Decode an `xwd` TrueColor ZPixmap dump (24 or 32 bits per pixel) into (H, W, 3) uint8 RGB."""
    header = struct.unpack(">25I", data[:100])
    header_size, width, height = header[0], header[4], header[5]
    byte_order, bits_per_pixel, bytes_per_line = header[7], header[11], header[12]
    masks, ncolors = header[14:17], header[19]
    step = bits_per_pixel // 8
    rows = np.frombuffer(data, np.uint8, count=bytes_per_line * height, offset=header_size + ncolors * 12)
    raw = rows.reshape(height, bytes_per_line)[:, : width * step].reshape(height, width, step).astype(np.uint32)
    order = range(step) if byte_order == 0 else range(step - 1, -1, -1)  # 0: least significant byte first
    pixels = sum(raw[..., i] << np.uint32(8 * k) for k, i in enumerate(order))
    return np.stack([((pixels & m) >> ((m & -m).bit_length() - 1)).astype(np.uint8) for m in masks], axis=-1)


@pytest.fixture
def xvfb():
    if not (shutil.which("Xvfb") and shutil.which("xdotool") and shutil.which("xwd")):
        pytest.skip("needs Xvfb, xdotool and xwd (apt-get install xvfb xdotool x11-apps)")
    display = f":{90 + os.getpid() % 9}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    if server.poll() is not None:
        pytest.skip("Xvfb did not start")
    yield display
    server.terminate()
    server.wait(timeout=10)


def _x(display: str, *args: str) -> str:
    return subprocess.run(list(args), env=dict(os.environ, DISPLAY=display), capture_output=True, text=True, timeout=20).stdout


@pytest.mark.slow
def test_window_shows_a_stylized_frame_and_q_quits(tmp_path, model_file, xvfb):
    clip = write_test_clip(tmp_path / "cam.mp4", width=320, height=240, seconds=30.0, fps=30, audio=False)
    env = dict(os.environ, DISPLAY=xvfb, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="xcb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidstyle", "live", "--camera", str(clip.path), "--model", str(model_file),
         "--snapshot-dir", str(tmp_path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        window = ""
        deadline = time.monotonic() + 90
        while not window and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            window = _x(xvfb, "xdotool", "search", "--name", "^vidstyle$").split()[:1]
            window = window[0] if window else ""
        assert window, "no window appeared: " + (proc.stderr.read() if proc.poll() is not None else "")
        time.sleep(2.0)  # let frames flow

        screen = read_xwd(subprocess.run(["xwd", "-root", "-silent", "-display", xvfb], capture_output=True, timeout=20).stdout)
        geometry = _x(xvfb, "xdotool", "getwindowgeometry", "--shell", window)
        values = dict(line.split("=") for line in geometry.split())
        x, y, w, h = (int(values[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        shown = screen[y : y + h, x : x + w]
        assert (w, h) == (320, 240)
        body = shown[60:, :]  # below the text overlay
        assert body.std() > 10, "the window is blank"

        # It is the stylized stream, not the camera: compare with both for the frames of the first seconds.
        from vidstyle.io.file import FileSource
        from vidstyle.runtime.factory import create_stylizer

        stylizer = create_stylizer(str(model_file), device="cpu")
        raw_error, styled_error = [], []
        for frame in FileSource(clip.path, end=6.0):
            raw_error.append(np.abs(frame.image[60:].astype(int) - body).mean())
            styled_error.append(np.abs(stylizer.stylize(frame.image)[60:].astype(int) - body).mean())
        assert min(styled_error) < 0.5 * min(raw_error)

        _x(xvfb, "xdotool", "windowfocus", "--sync", window)
        # s: split view, the left half shows the camera itself; c: a snapshot lands in --snapshot-dir.
        # OpenCV's Qt window keeps one pending key per waitKey, so keys go one at a time, as a person types.
        _x(xvfb, "xdotool", "key", "s")
        time.sleep(0.5)
        _x(xvfb, "xdotool", "key", "c")
        time.sleep(1.5)
        screen = read_xwd(subprocess.run(["xwd", "-root", "-silent", "-display", xvfb], capture_output=True, timeout=20).stdout)
        left = screen[y + 60 : y + h, x : x + w // 2 - 2].astype(int)
        frames = [frame.image for frame in FileSource(clip.path)]
        raw_left = [np.abs(image[60:, : w // 2 - 2].astype(int) - left).mean() for image in frames]
        best = int(np.argmin(raw_left))
        styled_left = [np.abs(stylizer.stylize(image)[60:, : w // 2 - 2].astype(int) - left).mean()
                       for image in frames[max(0, best - 3) : best + 4]]
        assert min(raw_left) < 0.5 * min(styled_left)
        deadline = time.monotonic() + 10
        while not list(tmp_path.glob("vidstyle-snapshot-*.png")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(tmp_path.glob("vidstyle-snapshot-*.png"))

        _x(xvfb, "xdotool", "key", "q")
        proc.wait(timeout=30)
        assert proc.returncode == 0
        assert "frames shown" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_summary_suggests_a_lighter_model_only_when_frames_were_skipped():
    from vidstyle.cli.live import slow_model_hint
    from vidstyle.pipeline.live import LiveStats

    keeping_up = LiveStats(frames_shown=238, frames_captured=240, frames_dropped=2, model_ms=[20.0])
    falling_behind = LiveStats(frames_shown=160, frames_captured=240, frames_dropped=80, model_ms=[45.0])
    too_short_to_tell = LiveStats(frames_shown=5, frames_captured=10, frames_dropped=5, model_ms=[45.0])
    assert slow_model_hint(keeping_up) is None and slow_model_hint(too_short_to_tell) is None
    hint = slow_model_hint(falling_behind, ["starry_night-fast"])
    assert "45 ms/frame" in hint and "33%" in hint and "--size" in hint and "starry_night-fast-lite" in hint
    assert "starry_night-fast-lite" not in slow_model_hint(falling_behind, ["starry_night-fast-lite"])


def test_threads_option_reaches_the_stylizer(tmp_path, model_file, capsys):
    clip = write_test_clip(tmp_path / "cam.mp4", width=64, height=48, frames=5, audio=False)
    code = main(["live", "--camera", str(clip.path), "--model", str(model_file), "--no-display", "--threads", "0"])
    assert code == 2 and "--threads must be at least 1" in capsys.readouterr().err
    code = main(["live", "--camera", str(clip.path), "--model", str(model_file), "--no-display", "--threads", "1",
                 "--frames", "3"])
    assert code == 0 and "3 frames shown" in capsys.readouterr().err
