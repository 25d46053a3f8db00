"""What the live window shows: strength blend, split view, fitting a picture into ``--size``."""
from __future__ import annotations

from typing import Optional

import numpy as np

from vidstyle.errors import InputError
from vidstyle.utils.image import blend  # noqa: F401  (the live view blends with it; re-exported)

# How a picture of another shape goes into the requested size: the whole picture with black bars,
# the centre filling the size, or the picture stretched to it.
FIT_MODES = ("letterbox", "crop", "stretch")


def split_view(original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Left half original, right half stylized, with a thin divider."""
    out = stylized.copy()
    half = out.shape[1] // 2
    out[:, :half] = original[:, :half]
    out[:, max(0, half - 1) : half + 1] = 255
    return out


def overlay_lines(model: str, strength: float, fps: Optional[float] = None, latency_ms: Optional[float] = None,
                  recording: bool = False, loading: Optional[str] = None, paused: bool = False,
                  notice: Optional[str] = None) -> list[str]:
    """The text the live window draws over the picture.

    fps/latency_ms: None before the first stylized frame (then only what is happening is shown).
    loading: the model being loaded in the background; notice: a one-off message (snapshot saved ...).
    """
    lines = []
    if fps is not None:
        lines.append(f"{fps:4.1f} fps  latency {latency_ms or 0.0:3.0f} ms")
        lines.append(f"{model}  strength {strength:.1f}" + ("  REC" if recording else ""))
    if loading is not None:
        lines.append(f"loading {loading}...")  # the window's font has no ellipsis character
    if paused:
        lines.append("PAUSED  (space: resume)")
    if notice:
        lines.append(notice)
    return lines


class Fit:
    """Puts (H, W, 3) pictures of one shape into a requested (width, height).

    letterbox: the picture is scaled to fit inside the size; the model sees only the picture
        (:meth:`prepare`) and :meth:`finish` adds the black bars afterwards, so bars stay black.
    crop: scaled to cover the size, the centre cut out. stretch: scaled to the size, shape ignored.
    With no size, both steps pass pictures through.
    """

    def __init__(self, width: int, height: int, size: Optional[tuple[int, int]] = None, mode: str = "letterbox") -> None:
        if mode not in FIT_MODES:
            raise InputError(f"--fit must be one of {', '.join(FIT_MODES)}, not {mode!r}")
        self.mode = mode
        self.canvas = tuple(size) if size is not None else (int(width), int(height))
        self._plan(int(width), int(height))

    def _plan(self, width: int, height: int) -> None:
        self.source = (width, height)
        cw, ch = self.canvas
        if self.mode == "letterbox":
            scale = min(cw / width, ch / height)
            self.content = (min(cw, max(1, round(width * scale))), min(ch, max(1, round(height * scale))))
            self._scaled = self.content
        elif self.mode == "crop":
            scale = max(cw / width, ch / height)
            self._scaled = (max(cw, round(width * scale)), max(ch, round(height * scale)))
            self.content = self.canvas
        else:
            self._scaled = self.content = self.canvas

    @property
    def passthrough(self) -> bool:
        return self.source == self.content == self.canvas

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """A source picture (source size) -> the picture the model sees (:attr:`content` size)."""
        if (image.shape[1], image.shape[0]) != self.source:
            self._plan(image.shape[1], image.shape[0])  # a camera that changed mode: fit what arrives
        if self._scaled != self.source:
            import cv2

            shrinking = self._scaled[0] * self._scaled[1] < self.source[0] * self.source[1]
            image = cv2.resize(image, self._scaled, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        if self._scaled != self.content:
            x = (self._scaled[0] - self.content[0]) // 2
            y = (self._scaled[1] - self.content[1]) // 2
            image = np.ascontiguousarray(image[y : y + self.content[1], x : x + self.content[0]])
        return image

    def finish(self, image: np.ndarray) -> np.ndarray:
        """A (content size) picture -> the (canvas size) picture shown and recorded, bars added."""
        if self.content == self.canvas:
            return image
        cw, ch = self.canvas
        out = np.zeros((ch, cw, 3), np.uint8)
        x = (cw - image.shape[1]) // 2
        y = (ch - image.shape[0]) // 2
        out[y : y + image.shape[0], x : x + image.shape[1]] = image
        return out
