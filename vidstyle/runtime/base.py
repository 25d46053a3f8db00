"""The one interface every inference backend implements: uint8 RGB frames in, uint8 RGB frames out."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Sequence

import numpy as np

from vidstyle.models.styles import StyleMix, mix_vector, model_style_mix

# The networks' reflection padding and instance norm need a few pixels at 1/4 resolution: smaller frames are
# mirrored out to this size before the network and cropped back after (1x1, 2x3 ... work like any frame).
MIN_NETWORK_SIDE = 16


def pad_to_network_size(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> the same image mirrored out (at the bottom and right) to MIN_NETWORK_SIDE on each
    side when it is smaller; crop the stylized result back with ``[:H, :W]``."""
    h, w = image.shape[:2]
    if h >= MIN_NETWORK_SIDE and w >= MIN_NETWORK_SIDE:
        return image
    return np.pad(image, ((0, max(0, MIN_NETWORK_SIDE - h)), (0, max(0, MIN_NETWORK_SIDE - w)), (0, 0)),
                  mode="symmetric")


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
    # Float32 bytes of the network's largest activation per frame pixel (runtime.tiling), set by
    # create_stylizer (0: unknown). A backend holds about two such activations at once.
    activation_bytes_per_pixel: float = 0.0
    # A multi-style model's style names (empty for a one-style model) and the mix now in use.
    styles: list[str] = []
    style_mix: dict[str, float] = {}
    # What a backend running a multi-style graph passes as its "style" input (see hold_styles).
    style_input: "StyleInput | None" = None

    def set_style(self, mix: StyleMix) -> None:
        """Switch a multi-style model to ``mix`` (``"a"``, ``"a=0.6,b=0.4"`` or {name: weight}) from the next
        frame on: no reload, no recompilation. Raises InputError for a one-style model or a bad mix."""
        self._apply_style(model_style_mix(mix, self.styles, self.model_name or self.name))

    def _apply_style(self, mix: dict[str, float]) -> None:
        """Use the normalised ``mix`` (backends: a new ``style_input`` row; wrappers override this)."""
        if self.style_input is None:
            raise NotImplementedError(f"{type(self).__name__} cannot switch styles")
        self.style_input.set(mix)
        self.style_mix = dict(mix)

    def hold_styles(self, styles: Sequence[str]) -> None:
        """For backends: the network holds ``styles`` (none: a one-style network); start on the first."""
        if styles:
            self.style_input = StyleInput(styles)
            self.styles = list(styles)
            self.style_mix = dict(self.style_input.mix)

    def peak_bytes(self, height: int, width: int, frames: int = 1) -> float:
        """Memory one call on ``frames`` frames of ``height`` × ``width`` is estimated to allocate (the uint8
        frames in and out, the activations): commands check it against the memory limit before loading."""
        return frames * height * width * (6.0 + 2.0 * self.activation_bytes_per_pixel)

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


class StyleInput:
    """The style weights a multi-style graph takes as its second input: a (1, S) float32 row over ``styles``.

    A backend keeps one and passes ``vector`` with every call, so switching styles changes an array,
    never the compiled graph.
    """

    def __init__(self, styles: Sequence[str]) -> None:
        self.styles = list(styles)
        self.mix: dict[str, float] = {self.styles[0]: 1.0} if self.styles else {}
        self.vector = mix_vector(self.styles, self.mix)

    def set(self, mix: dict[str, float]) -> None:
        self.mix = dict(mix)
        self.vector = mix_vector(self.styles, mix)


class BatchGraphStylizer(Stylizer):
    """A backend whose compiled graph takes a (B, H, W, 3) uint8 batch and returns one of the same shape.

    Subclasses implement ``_run``; single frames and same-sized batches share one call path.
    """

    @abstractmethod
    def _run(self, batch: np.ndarray) -> np.ndarray:
        """(B, H, W, 3) uint8 RGB -> (B, H, W, 3) uint8 RGB."""

    def stylize(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        return self._run(np.ascontiguousarray(pad_to_network_size(image))[None])[0][:h, :w]

    def stylize_batch(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        if not images:
            return []
        if all(im.shape == images[0].shape for im in images) and min(images[0].shape[:2]) >= MIN_NETWORK_SIDE:
            return list(self._run(np.stack(images)))
        return [self.stylize(im) for im in images]


class FunctionStylizer(Stylizer):
    """Wraps a plain function; ``FunctionStylizer(lambda im: im)`` measures pipeline overhead alone."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray], name: str = "function") -> None:
        self.fn = fn
        self.name = name

    def stylize(self, image: np.ndarray) -> np.ndarray:
        return self.fn(image)
