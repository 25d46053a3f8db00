"""`vidstyle live`: headless from a file camera, and a real window under Xvfb (skipped without Xvfb)."""
from __future__ import annotations

import os
import select
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


def test_camera_that_does_not_exist_is_one_clear_line(model_file, capfd):
    # capfd: OpenCV logs straight to file descriptor 2, past Python's sys.stderr.
    for camera in ("/dev/video-missing", "7"):
        code = main(["live", "--camera", camera, "--model", str(model_file), "--no-display"])
        lines = capfd.readouterr().err.splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("vidstyle: error: cannot open camera"), lines


def test_virtual_camera_without_a_loopback_device_is_one_line_and_leaves_no_file(tmp_path, model_file, capfd):
    if list(Path("/dev").glob("video*")):
        pytest.skip("a video device exists: the virtual camera may open")
    clip = write_test_clip(tmp_path / "cam.mp4", width=64, height=48, frames=10, audio=False)
    code = main(["live", "--camera", str(clip.path), "--model", str(model_file), "--no-display", "--virtual-cam",
                 "--record", str(tmp_path / "rec.mp4")])
    lines = capfd.readouterr().err.splitlines()
    assert code == 2 and len(lines) == 1 and "virtual" in lines[0].lower(), lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cam.mp4"]


def test_fit_option_keeps_the_aspect_ratio_of_a_file_camera(tmp_path, model_file, capsys):
    clip = write_test_clip(tmp_path / "wide.mp4", width=160, height=90, frames=30, audio=False)
    code = main(["live", "--camera", str(clip.path), "--model", str(model_file), "--no-display", "--frames", "3",
                 "--size", "96x96", "--record", str(tmp_path / "rec.mp4")])
    assert code == 0
    rec = probe_video(tmp_path / "rec.mp4", keep_images=True)
    assert (rec.width, rec.height) == (96, 96)
    # 96x54 of picture between two black bars of 21 rows.
    assert rec.images[0][:19].max() < 20 and rec.images[0][-19:].max() < 20 and rec.images[0][25:70].std() > 5
    with pytest.raises(SystemExit) as exit_info:
        main(["live", "--camera", str(clip.path), "--model", str(model_file), "--no-display", "--size", "96x96",
              "--fit", "zoom"])
    assert exit_info.value.code == 2 and "invalid choice: 'zoom'" in capsys.readouterr().err


def test_a_file_camera_that_runs_out_says_so(tmp_path, model_file, capsys):
    clip = write_test_clip(tmp_path / "cam.mp4", width=64, height=48, frames=8, audio=False)
    code = main(["live", "--camera", str(clip.path), "--model", str(model_file), "--no-display"])
    err = capsys.readouterr().err.splitlines()
    assert code == 0 and err[-1] == f"live: end of source: {clip.path} has no more frames"


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
    # -displayfd: Xvfb picks a free display number and writes it once it accepts clients (tests running
    # side by side never share a display).
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                              pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    ready, _, _ = select.select([read_end], [], [], 30.0)
    number = os.read(read_end, 32).decode().strip() if ready else ""
    if not number or server.poll() is not None:
        server.kill()
        server.wait()
        os.close(read_end)
        pytest.skip("Xvfb did not start")
    display = f":{number}"
    yield display  # the pipe stays open meanwhile: Xvfb dies of SIGPIPE if it writes to a closed one
    server.terminate()
    server.wait(timeout=10)
    os.close(read_end)


def _x(display: str, *args: str) -> str:
    return subprocess.run(list(args), env=dict(os.environ, DISPLAY=display), capture_output=True, text=True, timeout=20).stdout


def _screen(display: str) -> np.ndarray:
    for _ in range(5):  # xwd now and then fails with BadMatch while a window is being mapped or resized
        done = subprocess.run(["xwd", "-root", "-silent", "-display", display], capture_output=True, timeout=20)
        if done.returncode == 0 and done.stdout:
            return read_xwd(done.stdout)
        time.sleep(0.1)
    raise AssertionError(f"xwd failed: {done.stderr.decode(errors='replace').strip()}")


def write_still_clip(path: Path, image: np.ndarray, seconds: float, fps: int = 30) -> Path:
    """A clip showing one picture: what the window shows can be told apart as the picture or its stylized copy."""
    from fractions import Fraction

    from vidstyle.io.encoder import EncoderSettings, VideoFileSink
    from vidstyle.types import Frame

    sink = VideoFileSink(path, fps=Fraction(fps), settings=EncoderSettings(crf=12, preset="ultrafast"))
    for i in range(round(seconds * fps)):
        sink.write(Frame(image=image, pts=i, time_base=Fraction(1, fps), index=i))
    sink.close()
    return path


class LiveWindow:
    """`vidstyle live` in a subprocess on an Xvfb display, with its window found, read and typed into."""

    def __init__(self, display: str, args: list[str]) -> None:
        self.display = display
        env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="xcb")
        self.proc = subprocess.Popen([sys.executable, "-m", "vidstyle", "live", *args], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.window = ""
        deadline = time.monotonic() + 120
        while not self.window and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.1)
            found = _x(display, "xdotool", "search", "--name", "^vidstyle$").split()[:1]
            self.window = found[0] if found else ""
        if not self.window:
            self.close()
            raise AssertionError("no window appeared: " + self.proc.stderr.read())
        # What it shows as soon as it has its size (Qt maps it at a default size, then applies the frame's).
        self.first_picture = self.picture()
        deadline = time.monotonic() + 5
        while self.first_picture.shape[:2] != (240, 320) and time.monotonic() < deadline:
            time.sleep(0.05)
            self.first_picture = self.picture()
        _x(display, "xdotool", "windowfocus", "--sync", self.window)

    def picture(self) -> np.ndarray:
        """What the window shows, (H, W, 3) uint8 RGB."""
        geometry = _x(self.display, "xdotool", "getwindowgeometry", "--shell", self.window)
        values = dict(line.split("=") for line in geometry.split())
        x, y, w, h = (int(values[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
        return _screen(self.display)[y : y + h, x : x + w]

    def wait_for(self, check, seconds: float = 180.0) -> np.ndarray:
        """The first picture for which ``check(picture)`` holds (the model may still be loading at first)."""
        deadline = time.monotonic() + seconds
        picture = None
        while time.monotonic() < deadline and self.proc.poll() is None:
            picture = self.picture()
            if check(picture):
                return picture
            time.sleep(0.3)
        ended = self.proc.poll() is not None
        seen = "nothing" if picture is None else (
            f"last picture {picture.shape[1]}x{picture.shape[0]}, mean {picture.mean():.1f}, mean difference from "
            f"the first {np.abs(picture.astype(int) - self.first_picture.astype(int)).mean():.1f}"
            if picture.shape == self.first_picture.shape else f"last picture {picture.shape[1]}x{picture.shape[0]}")
        self.close()
        raise AssertionError(f"the window never showed what was expected ({seen})"
                             + (" (vidstyle live ended): " if ended else ": ") + self.proc.stderr.read())

    def keys(self, *names: str) -> None:
        """Type keys at once, with no pause between them."""
        _x(self.display, "xdotool", "key", "--delay", "0", *names)

    def quit(self) -> str:
        self.keys("q")
        self.proc.wait(timeout=60)
        assert self.proc.returncode == 0
        return self.proc.stderr.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _closer(picture: np.ndarray, a: np.ndarray, b: np.ndarray, rows: slice = slice(60, None)) -> bool:
    """True when ``picture`` (below the overlay) is much closer to ``a`` than to ``b``."""
    error_a = np.abs(picture[rows].astype(int) - a[rows]).mean()
    error_b = np.abs(picture[rows].astype(int) - b[rows]).mean()
    return error_a < 0.5 * error_b


@pytest.fixture
def still_scene(tmp_path, model_file):
    """A still 320x240 clip, its decoded picture and that picture stylized by ``model_file``."""
    from vidstyle.io.file import FileSource
    from vidstyle.io.synthetic import synthetic_scene
    from vidstyle.runtime.factory import create_stylizer

    clip = write_still_clip(tmp_path / "still.mp4", synthetic_scene(240, 320), seconds=5.0)
    with FileSource(clip) as source:
        picture = next(iter(source)).image
    return clip, picture, create_stylizer(str(model_file), device="cpu").stylize(picture)


@pytest.mark.slow
def test_window_opens_on_the_first_frame_shows_the_stylized_camera_and_split_view(tmp_path, model_file, xvfb,
                                                                                  still_scene):
    clip, picture, stylized = still_scene
    live = LiveWindow(xvfb, ["--camera", str(clip), "--loop", "--model", str(model_file), "--snapshot-dir", str(tmp_path)])
    try:
        # Never an empty window: it opens with the first camera frame (captioned "loading ..." until the model is ready).
        assert live.first_picture.shape == (240, 320, 3) and live.first_picture[60:].std() > 10, "the window opened blank"
        live.wait_for(lambda shown: _closer(shown, stylized, picture))  # the stylized stream, not the camera

        # s: split view, the left half shows the camera itself; c: a snapshot lands in --snapshot-dir.
        live.keys("s", "c")
        left, right = slice(0, 150), slice(170, 320)
        live.wait_for(lambda shown: _closer(shown[:, left], picture[:, left], stylized[:, left])
                      and _closer(shown[:, right], stylized[:, right], picture[:, right]), seconds=20)
        deadline = time.monotonic() + 20
        while not list(tmp_path.glob("vidstyle-snapshot-*.png")) and time.monotonic() < deadline:
            time.sleep(0.2)
        [snapshot] = tmp_path.glob("vidstyle-snapshot-*.png")

        err = live.quit()
        assert "frames shown" in err and f"live: snapshot {snapshot}" in err
    finally:
        live.close()


@pytest.mark.slow
def test_window_keys_typed_at_once_all_count_and_pause_says_so(tmp_path, model_file, xvfb, still_scene):
    clip, picture, stylized = still_scene
    live = LiveWindow(xvfb, ["--camera", str(clip), "--loop", "--model", str(model_file), "--snapshot-dir", str(tmp_path)])
    try:
        live.wait_for(lambda shown: _closer(shown, stylized, picture))
        # Three [ (strength 1.0 -> 0.7) and a snapshot, with no time between them: OpenCV's waitKey alone kept
        # only the last key typed while a frame was being stylized.
        live.keys("bracketleft", "bracketleft", "bracketleft", "c")
        deadline = time.monotonic() + 20
        while not list(tmp_path.glob("vidstyle-snapshot-*.png")) and time.monotonic() < deadline:
            time.sleep(0.2)
        [snapshot] = tmp_path.glob("vidstyle-snapshot-*.png")
        from PIL import Image

        shot = np.asarray(Image.open(snapshot).convert("RGB")).astype(float)
        direction = stylized.astype(float) - picture
        strength = float(((shot - picture) * direction).sum() / (direction * direction).sum())
        assert strength == pytest.approx(0.7, abs=0.05)

        # Space: the overlay gains a PAUSED line; its dark box (two lines of 17 rows at this size) grows by one.
        from vidstyle.pipeline.live.session import NOTICE_SECONDS

        time.sleep(NOTICE_SECONDS + 0.5)  # the "saved snapshot" line is gone
        running = live.picture()
        live.keys("space")
        time.sleep(1.0)
        paused = live.picture()
        band = slice(44, 57)
        assert np.median(paused[band, :100]) < 0.6 * np.median(running[band, :100])  # white letters aside
        time.sleep(1.0)
        live.keys("space")
        err = live.quit()
        assert "s paused" in err
    finally:
        live.close()


def test_summary_suggests_a_lighter_model_only_when_frames_were_skipped():
    from vidstyle.cli.live import slow_model_hint
    from vidstyle.pipeline.live import LiveStats

    keeping_up = LiveStats(frames_shown=238, frames_captured=240, frames_dropped=2, model_ms=[20.0])
    falling_behind = LiveStats(frames_shown=160, frames_captured=240, frames_dropped=80, model_ms=[45.0])
    too_short_to_tell = LiveStats(frames_shown=5, frames_captured=10, frames_dropped=5, model_ms=[45.0])
    assert slow_model_hint(keeping_up) is None and slow_model_hint(too_short_to_tell) is None
    hint = slow_model_hint(falling_behind, ["starry_night-fast-painted"])
    assert "45 ms/frame" in hint and "33%" in hint and "--size" in hint and "starry_night-fast-painted-lite" in hint
    assert "e.g. zoo-lite" in slow_model_hint(falling_behind, ["zoo"])  # the same paintings, lighter
    for lite in ("starry_night-fast-painted-lite", "zoo-lite", "my_painting-fast-lite"):
        assert "lighter model" not in slow_model_hint(falling_behind, [lite])


def test_threads_option_reaches_the_stylizer(tmp_path, model_file, capsys):
    clip = write_test_clip(tmp_path / "cam.mp4", width=64, height=48, frames=5, audio=False)
    code = main(["live", "--camera", str(clip.path), "--model", str(model_file), "--no-display", "--threads", "0"])
    assert code == 2 and "--threads must be at least 1" in capsys.readouterr().err
    code = main(["live", "--camera", str(clip.path), "--model", str(model_file), "--no-display", "--threads", "1",
                 "--frames", "3"])
    assert code == 0 and "3 frames shown" in capsys.readouterr().err


def test_loop_plays_a_file_camera_again_and_again(tmp_path, model_file, capfd):
    clip = write_test_clip(tmp_path / "cam.mp4", width=64, height=48, frames=6, fps=30, audio=False)
    code = main(["live", "--camera", str(clip.path), "--model", str(model_file), "--no-display", "--loop",
                 "--frames", "15"])
    assert code == 0 and "15 frames shown" in capfd.readouterr().err
    code = main(["live", "--camera", "/dev/video-missing", "--model", str(model_file), "--no-display", "--loop"])
    lines = capfd.readouterr().err.splitlines()
    assert code == 2 and lines == ["vidstyle: error: --loop plays a video file again and again; /dev/video-missing is not a file"]
