"""The one interface every inference backend implements: uint8 RGB frames in, uint8 RGB frames out."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Sequence

import numpy as np


class Stylizer(ABC):
    """Turns (H, W, 3) uint8 RGB images into stylized (H, W, 3) uint8 RGB images of the same size.

    Implementations own their colour conversion and scaling so it happens once per frame.
    They are used from one worker thread at a time.
    """

    name: str = "stylizer"
    # Filled in by create_stylizer: the model's registry name, its metadata and the backend chosen.
    model_name: str = ""
    metadata: dict = {}
    backend: str = ""
    # Numeric precision the backend runs in, and the bf16-vs-fp32 check behind precision="auto".
    precision: str = "fp32"
    precision_check: dict | None = None

    @abstractmethod
    def stylize(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (H, W, 3) uint8 RGB."""

    def stylize_batch(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Stylize several frames; backends that gain from batching override this."""
        return [self.stylize(im) for im in images]

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.stylize(image)

    def close(self) -> None:
        """Release backend resources (sessions, GPU memory)."""


class BatchGraphStylizer(Stylizer):
    """A backend whose compiled graph takes a (B, H, W, 3) uint8 batch and returns one of the same shape.

    Subclasses implement ``_run``; single frames and same-sized batches share one call path.
    """

    @abstractmethod
    def _run(self, batch: np.ndarray) -> np.ndarray:
        """(B, H, W, 3) uint8 RGB -> (B, H, W, 3) uint8 RGB."""

    def stylize(self, image: np.ndarray) -> np.ndarray:
        return self._run(np.ascontiguousarray(image)[None])[0]

    def stylize_batch(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        if not images:
            return []
        if all(im.shape == images[0].shape for im in images):
            return list(self._run(np.stack(images)))
        return [self.stylize(im) for im in images]


class FunctionStylizer(Stylizer):
    """Wraps a plain function; ``FunctionStylizer(lambda im: im)`` measures pipeline overhead alone."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray], name: str = "function") -> None:
        self.fn = fn
        self.name = name

    def stylize(self, image: np.ndarray) -> np.ndarray:
        return self.fn(image)
