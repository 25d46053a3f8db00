"""Virtual camera sink (pyvirtualcam, optional): the stylized stream as a webcam for other programs."""
from __future__ import annotations

import numpy as np

from vidstyle.errors import DeviceError
from vidstyle.types import Frame


class VirtualCameraSink:
    """Sends (height, width, 3) uint8 RGB frames to a virtual camera (v4l2loopback, OBS, ...).

    Raises DeviceError when pyvirtualcam is not installed or no loopback device exists.
    """

    def __init__(self, width: int, height: int, fps: float = 30.0, device: str | None = None) -> None:
        try:
            import pyvirtualcam
        except ImportError:
            raise DeviceError("--virtual-cam needs pyvirtualcam: pip install 'vidstyle[virtualcam]'") from None
        self.width, self.height = width, height
        try:
            self._camera = pyvirtualcam.Camera(
                width=width, height=height, fps=float(fps), fmt=pyvirtualcam.PixelFormat.RGB, device=device
            )
        except (RuntimeError, ValueError) as exc:
            hint = "" if "modprobe" in str(exc) else " (on Linux: sudo modprobe v4l2loopback exclusive_caps=1)"
            raise DeviceError(f"no virtual camera available: {str(exc).splitlines()[0]}{hint}") from None
        self.device = self._camera.device

    def write(self, frame: Frame | np.ndarray) -> None:
        image = frame.image if isinstance(frame, Frame) else frame
        if image.shape[:2] != (self.height, self.width):
            import cv2

            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        self._camera.send(np.ascontiguousarray(image))

    def close(self) -> None:
        self._camera.close()
