"""On-screen display window (OpenCV highgui) returning the key pressed."""
from __future__ import annotations

import os
import sys
from collections import deque
from typing import Optional

import numpy as np

from vidstyle.errors import DeviceError
from vidstyle.io.opencv_log import quiet_opencv

# Tries at finding our X11 window for the key listener (it is named once shown) before settling for waitKey.
_X11_ATTACH_TRIES = 20


def display_available() -> bool:
    """False on a Linux machine without an X11/Wayland display (servers, CI)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class DisplayWindow:
    """A resizable window showing (H, W, 3) uint8 RGB images.

    :meth:`show` draws a frame and returns the key ``waitKey`` saw meanwhile (an int, -1 for none; OpenCV
    keeps one pending key, so keys typed quickly overwrite each other there); :meth:`keys` returns every
    key pressed since its last call, in order (on X11 none is lost, however fast they come: see
    :mod:`vidstyle.io.x11keys`); :attr:`closed` turns true when the user closes the window.
    """

    def __init__(self, title: str = "vidstyle") -> None:
        # opencv-python's bundled Qt ships no fonts and warns on every start; point it at the system's.
        if "QT_QPA_FONTDIR" not in os.environ and os.path.isdir("/usr/share/fonts/truetype/dejavu"):
            os.environ["QT_QPA_FONTDIR"] = "/usr/share/fonts/truetype/dejavu"
        quiet_opencv()
        import cv2

        if not display_available():
            raise DeviceError("no display available (DISPLAY is not set); use --no-display to run headless")
        self._cv2 = cv2
        self.title = title
        self._shown = False
        self._keys: deque[int] = deque()
        self._x11 = None
        self._x11_tries = 0
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL)
        except cv2.error as exc:
            raise DeviceError(f"cannot open a window: {str(exc).strip().splitlines()[-1]}") from None

    def show(self, image: Optional[np.ndarray], wait_ms: int = 1) -> int:
        """Draw ``image`` (None: keep the picture, just handle events); returns waitKey's key or -1."""
        cv2 = self._cv2
        if image is not None:
            if not self._shown:
                cv2.resizeWindow(self.title, image.shape[1], image.shape[0])
                self._shown = True
            cv2.imshow(self.title, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        key = cv2.waitKey(max(1, wait_ms))
        key = -1 if key < 0 else key & 0xFF
        self._collect(key)
        return key

    def keys(self) -> list[int]:
        """Every key pressed since the last call, oldest first."""
        self._collect(-1)
        keys = list(self._keys)
        self._keys.clear()
        return keys

    def _collect(self, waitkey_key: int) -> None:
        if self._x11 is None and self._shown and self._x11_tries < _X11_ATTACH_TRIES:
            from vidstyle.io.x11keys import X11KeyListener

            self._x11_tries += 1
            self._x11 = X11KeyListener.attach(self.title)
        if self._x11 is not None:
            self._keys.extend(self._x11.poll())  # the same keys reach waitKey too, at most the last of them
        elif waitkey_key >= 0:
            self._keys.append(waitkey_key)

    @property
    def closed(self) -> bool:
        if not self._shown:
            return False
        try:
            return self._cv2.getWindowProperty(self.title, self._cv2.WND_PROP_VISIBLE) < 1
        except self._cv2.error:
            return True

    def close(self) -> None:
        if self._x11 is not None:
            self._x11.close()
            self._x11 = None
        try:
            self._cv2.destroyWindow(self.title)
            self._cv2.waitKey(1)
        except self._cv2.error:
            pass


def draw_overlay(image: np.ndarray, lines: list[str], scale: Optional[float] = None) -> np.ndarray:
    """A copy of ``image`` (H, W, 3 uint8 RGB) with ``lines`` of text in a dark box at the top left."""
    import cv2

    out = image.copy()
    scale = scale or max(0.4, min(out.shape[:2]) / 900)
    thickness = 1 if scale < 0.8 else 2
    line_height = int(22 * scale / 0.5)
    width = max((cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)[0][0] for t in lines), default=0)
    box = out[: line_height * len(lines) + 8, : width + 12]
    box[:] = (box * 0.4).astype(np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(out, text, (6, line_height * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out
