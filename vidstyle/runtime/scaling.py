"""Run a stylizer at a reduced resolution and bring the result back to the frame's size."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from vidstyle.runtime.base import Stylizer
from vidstyle.utils.image import blend


def scaled_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """(width, height) with the longer side equal to ``long_side`` (never upscales)."""
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class ScaledStylizer(Stylizer):
    """Stylizes frames at ``long_side`` pixels on their longer side and scales the result back.

    The network's cost falls with the square of the scale; the strength blend with the original
    runs at full resolution so the original's detail survives at strength < 1.
    """

    def __init__(self, inner: Stylizer, long_side: int, strength: float = 1.0) -> None:
        self.inner = inner
        self.long_side = int(long_side)
        self.strength = float(strength)
        self.name = f"{inner.name}@{long_side}"
        self.precision = inner.precision
        self.precision_check = inner.precision_check

    @property
    def styles(self) -> list[str]:  # type: ignore[override]
        return self.inner.styles

    @property
    def style_mix(self) -> dict[str, float]:  # type: ignore[override]
        return self.inner.style_mix

    def _apply_style(self, mix: dict[str, float]) -> None:
        self.inner.set_style(mix)

    def _restore(self, original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        h, w = original.shape[:2]
        if stylized.shape[:2] != (h, w):
            stylized = cv2.resize(stylized, (w, h), interpolation=cv2.INTER_LINEAR)
        return blend(original, stylized, self.strength)

    def _shrink(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        size = scaled_size(w, h, self.long_side)
        return image if size == (w, h) else cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    def stylize(self, image: np.ndarray) -> np.ndarray:
        return self._restore(image, self.inner.stylize(self._shrink(image)))

    def stylize_batch(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        small = self.inner.stylize_batch([self._shrink(im) for im in images])
        return [self._restore(im, s) for im, s in zip(images, small)]

    def peak_bytes(self, height: int, width: int, frames: int = 1) -> float:
        small_w, small_h = scaled_size(width, height, self.long_side)
        # The full-size frames in and out, the resized result and the float blend, beside the inner call.
        return self.inner.peak_bytes(small_h, small_w, frames) + frames * height * width * 21.0

    def close(self) -> None:
        self.inner.close()
