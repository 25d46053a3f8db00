"""Plain data types passed between sources, stylizers and sinks."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Optional

import numpy as np


@dataclass
class Frame:
    """One video frame.

    image: (H, W, 3) uint8 RGB array, C-contiguous.
    pts: presentation timestamp in units of ``time_base`` (None when unknown,
        e.g. a camera frame before a clock is attached).
    time_base: seconds per pts tick.
    index: 0-based position of the frame in its source.
    wallclock: ``time.perf_counter()`` when the frame was captured (live latency).
    """

    image: np.ndarray
    pts: Optional[int]
    time_base: Fraction
    index: int
    wallclock: float = 0.0

    @property
    def time(self) -> Optional[float]:
        """Presentation time in seconds, or None."""
        return None if self.pts is None else float(self.pts * self.time_base)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    def with_image(self, image: np.ndarray) -> "Frame":
        """Same timing, new pixels (a stylized copy)."""
        return replace(self, image=image)


@dataclass
class StreamInfo:
    """What a source knows about its video stream before decoding it."""

    width: int
    height: int
    fps: Optional[Fraction] = None
    time_base: Fraction = Fraction(1, 1000)
    frame_count: Optional[int] = None
    duration: Optional[float] = None
    rotation: int = 0
    has_audio: bool = False
    extra: dict = field(default_factory=dict)
