"""Helpers for the ``vidstyle serve`` tests (fixtures in conftest.py): a headless Chromium driven over
the DevTools protocol, fake-camera Y4M files, and a server started as a real subprocess.

Chromium is Debian's ``chromium`` package (``.ci/run`` installs it), driven through
``--remote-debugging-pipe``: JSON messages on file descriptors 3 and 4, no extra Python package.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

import numpy as np

# Server start-up: importing torch and building the first model (seconds on a busy 2-core machine).
SERVER_START_TIMEOUT_S = 120.0

# aioice never offers 127.0.0.1 as an ICE candidate; a browser and a server on the same machine without a
# routable interface could then never connect. The test server offers exactly the loopback address, and
# Chromium is allowed loopback candidates, so WebRTC runs over 127.0.0.1 whatever the machine's network.
LOOPBACK_SERVER = (
    "import sys, aioice.ice\n"
    "aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ['127.0.0.1']\n"
    "from vidstyle.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


# The session's test server: the server's camera plays a looped clip of pattern frames (each carries its
# index as a barcode, so a test can rebuild the input of any frame it sees), behind an access token.
TOKEN = "test-token-123"
MAX_CLIENTS = 3
MODELS = ["starry_night-fast-painted", "mosaic-fast-painted"]
CLIP_SIZE = (640, 480)
CLIP_FPS = 30
CLIP_FRAMES = 120
# The fake camera's loop (4 s): a frame's index tells its capture apart from others up to 2 s away.
CAMERA_FRAMES = 120


def chromium_binary() -> Optional[str]:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class CDPError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one page, driven over the DevTools protocol on a pipe.

    camera_y4m: a Y4M file the fake camera plays (getUserMedia is granted without a prompt).
    """

    def __init__(self, binary: str, profile: Path, camera_y4m: Optional[Path] = None, size=(1280, 900)) -> None:
        args = [
            binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio",
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows", "--autoplay-policy=no-user-gesture-required",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
            f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}", "--remote-debugging-pipe",
            "about:blank",
        ]
        if camera_y4m is not None:
            args.insert(1, f"--use-file-for-fake-video-capture={camera_y4m}")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds() -> None:
            # Chromium reads commands on fd 3 and writes replies on fd 4.
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        profile.mkdir(parents=True, exist_ok=True)
        self.log = profile.with_name(profile.name + "-chromium.log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         preexec_fn=child_fds, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._replies: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self.events: list[dict] = []
        self.console: list[str] = []
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self.session: Optional[str] = None
        target = self.call("Target.createTarget", url="about:blank", session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True, session=False)["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1, mobile=False)

    def _read_loop(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._lock:
                    for q in self._replies.values():
                        q.put({"error": {"message": "chromium closed the pipe"}})
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        q = self._replies.get(message["id"])
                    if q is not None:
                        q.put(message)
                else:
                    if message.get("method") == "Runtime.consoleAPICalled":
                        params = message["params"]
                        self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
                    self.events.append(message)

    def call(self, method: str, wait: float = 30.0, session: bool = True, **params: Any) -> dict:
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
            reply: queue.Queue = queue.Queue()
            self._replies[message_id] = reply
        message = {"id": message_id, "method": method, "params": params}
        if session and self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        try:
            answer = reply.get(timeout=wait)
        except queue.Empty:
            raise CDPError(f"{method}: no answer within {wait} s") from None
        finally:
            with self._lock:
                self._replies.pop(message_id, None)
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result", {})

    def goto(self, url: str, timeout: float = 30.0) -> None:
        seen = len(self.events)
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == "Page.loadEventFired" for e in self.events[seen:]):
                return
            time.sleep(0.05)
        raise CDPError(f"{url} did not finish loading within {timeout} s")

    def js(self, expression: str, timeout: float = 30.0) -> Any:
        """Evaluate ``expression`` in the page (awaiting a promise) and return its JSON value."""
        result = self.call("Runtime.evaluate", wait=timeout + 5, expression=expression, awaitPromise=True,
                           returnByValue=True, timeout=int(timeout * 1000))
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"page script failed: {text}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.1) -> Any:
        """Poll a page expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(interval)
        raise CDPError(f"timed out after {timeout} s waiting for {expression!r} (last value {value!r}); "
                       f"console: {self.console[-5:]}")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.call("Browser.close", session=False, wait=5)
        except CDPError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass


def make_media(folder: Path) -> dict[str, Path]:
    """The clip the server's camera loops and the Y4M the fake browser camera plays, in ``folder``."""
    from vidstyle.io.synthetic import pattern_frame, write_test_clip

    clip = write_test_clip(folder / "clip.mp4", *CLIP_SIZE, fps=CLIP_FPS, frames=CLIP_FRAMES, audio=False).path
    # The fake camera: CAMERA_FRAMES pattern frames, looped by Chromium.
    frames = [pattern_frame(i, *CLIP_SIZE, fps=CLIP_FPS) for i in range(CAMERA_FRAMES)]
    y4m = write_y4m(folder / "camera.y4m", frames, fps=CLIP_FPS)
    return {"folder": folder, "clip": clip, "y4m": y4m}


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """Write (H, W, 3) uint8 RGB frames as a 4:2:0 Y4M (``C420``) for Chromium's fake camera."""
    import cv2

    height, width = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420\n".encode())
        for image in frames:
            yuv = cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420)  # planar Y, U, V: exactly Y4M's C420 layout
            f.write(b"FRAME\n")
            f.write(yuv.tobytes())
    return path


class Server:
    """``vidstyle serve`` in a subprocess (offering ICE candidates on loopback), on a free port."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.log_path = cwd / f"serve-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LOOPBACK_SERVER, "serve", "--port", "0", *args],
            cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, env=env,
            # The default SIGINT disposition, so Ctrl-C works even when pytest runs in the background.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.url = self._wait_for_url()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            found = re.search(r"open (http://\S+)", self.log())
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                raise RuntimeError(f"vidstyle serve exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"vidstyle serve did not start within {SERVER_START_TIMEOUT_S} s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def reference_frame(index: int) -> np.ndarray:
    """The input frame ``index`` of the test media (both the clip and the fake camera)."""
    from vidstyle.io.synthetic import pattern_frame

    return pattern_frame(index, *CLIP_SIZE, fps=CLIP_FPS)


def difference_from_input(image: np.ndarray) -> tuple[int, float]:
    """(frame index read from the barcode, mean absolute difference from that input frame below the barcode)."""
    import cv2

    from vidstyle.io.synthetic import INDEX_BAND_FRACTION, read_frame_index

    if image.shape[:2] != (CLIP_SIZE[1], CLIP_SIZE[0]):
        image = cv2.resize(image, CLIP_SIZE, interpolation=cv2.INTER_AREA)
    index = read_frame_index(image)
    band = int(CLIP_SIZE[1] * INDEX_BAND_FRACTION) + 4
    ref = reference_frame(index)
    return index, float(np.abs(image[band:].astype(np.int16) - ref[band:].astype(np.int16)).mean())
