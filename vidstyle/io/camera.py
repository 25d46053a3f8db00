"""Camera source (OpenCV ``VideoCapture``): device index, /dev/videoN path or stream URL."""
from __future__ import annotations

import sys
import time
from fractions import Fraction
from typing import Iterator, Optional

import numpy as np

from vidstyle.errors import InputError
from vidstyle.io.opencv_log import quiet_opencv
from vidstyle.types import Frame, StreamInfo

# Camera frames are stamped with the capture clock in milliseconds.
CAMERA_TIME_BASE = Fraction(1, 1000)


def parse_camera(device: str | int) -> int | str:
    """'0' -> 0 (an index); '/dev/video2', URLs and GStreamer pipelines stay strings."""
    if isinstance(device, int):
        return device
    text = str(device).strip()
    return int(text) if text.isdigit() else text


class CameraSource:
    """Frames from a camera as (H, W, 3) uint8 RGB, stamped with the capture time.

    ``size`` (width, height) and ``fps`` are requests: the driver may pick the nearest mode,
    and :attr:`info` reports what it chose. When the camera stops delivering (unplugged,
    taken by another program) the source retries for ``reconnect_seconds`` and then raises
    InputError, so the caller can finish a recording cleanly.
    """

    def __init__(
        self,
        device: str | int = 0,
        size: Optional[tuple[int, int]] = None,
        fps: Optional[float] = None,
        reconnect_seconds: float = 3.0,
    ) -> None:
        quiet_opencv()
        import cv2

        self._cv2 = cv2
        self.device = parse_camera(device)
        self.size = size
        self.fps = fps
        self.reconnect_seconds = reconnect_seconds
        self._closed = False
        self._capture = self._open()
        if self._capture is None:
            raise InputError(f"cannot open camera {self.device}: no such device, no permission, or in use by another program")
        ok, first = self._capture.read()
        if not ok or first is None:
            self._capture.release()
            raise InputError(f"camera {self.device} opened but delivers no frames")
        self._first: Optional[np.ndarray] = first
        self.height, self.width = first.shape[:2]

    def _open(self):
        cv2 = self._cv2
        # A local device on Linux goes straight to V4L2: probing the other backends only adds error lines.
        local = isinstance(self.device, int) or str(self.device).startswith("/dev/video")
        if local and sys.platform.startswith("linux"):
            capture = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        else:
            capture = cv2.VideoCapture(self.device)
        if not capture.isOpened():
            capture.release()
            return None
        if self.size is not None:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        if self.fps:
            capture.set(cv2.CAP_PROP_FPS, float(self.fps))
        # Keep the driver's own queue short: stale frames are latency.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return capture

    @property
    def info(self) -> StreamInfo:
        reported = self._capture.get(self._cv2.CAP_PROP_FPS) if self._capture is not None else 0
        fps = Fraction(reported).limit_denominator(1001) if reported and reported > 0 else None
        return StreamInfo(width=self.width, height=self.height, fps=fps, time_base=CAMERA_TIME_BASE)

    def _read(self) -> Optional[np.ndarray]:
        if self._first is not None:
            image, self._first = self._first, None
            return image
        ok, image = self._capture.read()
        return image if ok and image is not None else None

    def _reconnect(self) -> Optional[np.ndarray]:
        """Reopen the device until it delivers again or ``reconnect_seconds`` pass."""
        deadline = time.monotonic() + self.reconnect_seconds
        while not self._closed and time.monotonic() < deadline:
            self._capture.release()
            time.sleep(0.25)
            capture = self._open()
            if capture is None:
                continue
            self._capture = capture
            ok, image = capture.read()
            if ok and image is not None:
                return image
        return None

    def __iter__(self) -> Iterator[Frame]:
        cv2 = self._cv2
        start: Optional[float] = None
        index = 0
        while not self._closed:
            bgr = self._read()
            if bgr is None:
                bgr = self._reconnect()
                if bgr is None:
                    if self._closed:
                        return
                    raise InputError(
                        f"camera {self.device} stopped delivering frames and did not come back within "
                        f"{self.reconnect_seconds:g} s (unplugged?)"
                    )
            now = time.perf_counter()
            if start is None:
                start = now
            image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            if image.shape[:2] != (self.height, self.width):
                image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
            yield Frame(image=image, pts=round((now - start) * 1000), time_base=CAMERA_TIME_BASE, index=index, wallclock=now)
            index += 1

    def close(self) -> None:
        self._closed = True
        if self._capture is not None:
            self._capture.release()

    def __enter__(self) -> "CameraSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
