"""Keeping OpenCV's own log lines (backend probing, a missing camera) off the user's terminal."""
from __future__ import annotations

import os


def quiet_opencv() -> None:
    """Silence OpenCV's logging unless the user set ``OPENCV_LOG_LEVEL`` themselves.

    A missing camera otherwise prints a dozen warnings from the backends OpenCV tries before our own
    one-line error. The environment variable is read when cv2 is first imported; the call covers an
    earlier import.
    """
    if "OPENCV_LOG_LEVEL" in os.environ:
        return
    os.environ["OPENCV_LOG_LEVEL"] = "SILENT"
    import cv2

    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is not None:
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)
