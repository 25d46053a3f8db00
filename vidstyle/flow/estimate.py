"""Dense optical flow between two frames: OpenCV DIS (three presets) and Farneback.

Convention (Middlebury): the flow from frame1 to frame2 is an (H, W, 2) float32 array of
(dx, dy) in pixels such that frame1(x) ≈ frame2(x + flow(x)). To bring frame2 into
frame1's coordinates, warp frame2 backward with this flow (:func:`vidstyle.flow.warp.warp_image`).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidstyle.flow.warp import pixel_grid

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
FLOW_METHODS = ("dis", "farneback")

# DIS works on patches of 8–12 px over an image pyramid; below this it has nothing to match.
_MIN_FLOW_SIDE = 16


@dataclass(frozen=True)
class FlowConfig:
    """How flow is computed.

    method: "dis" or "farneback".
    preset: DIS preset, "ultrafast" | "fast" | "medium" (ignored by Farneback).
    scale: compute the flow on frames resized by this factor (0 < scale <= 1), then upsample
        the field and rescale its vectors to the full resolution. 0.5 costs about a quarter.
    """

    method: str = "dis"
    preset: str = "fast"
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.method not in FLOW_METHODS:
            raise ValueError(f"unknown flow method {self.method!r}; use one of {', '.join(FLOW_METHODS)}")
        if self.preset not in DIS_PRESETS:
            raise ValueError(f"unknown DIS preset {self.preset!r}; use one of {', '.join(DIS_PRESETS)}")
        if not 0.0 < self.scale <= 1.0:
            raise ValueError(f"flow scale must be in (0, 1], got {self.scale}")


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB or (H, W) uint8 -> (H, W) uint8 luma, C-contiguous."""
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    raise ValueError(f"expected an (H, W, 3) RGB or (H, W) gray image, got shape {image.shape}")


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """(width, height) of a frame resized by ``scale``, never below the smallest size flow can use."""
    if scale >= 1.0:
        return width, height
    return (
        min(width, max(_MIN_FLOW_SIDE, round(width * scale))),
        min(height, max(_MIN_FLOW_SIDE, round(height * scale))),
    )


def resize_flow(flow: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resample an (h, w, 2) flow field to (height, width, 2), rescaling the vectors to the new pixel size."""
    h, w = flow.shape[:2]
    if (w, h) == (width, height):
        return flow
    out = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    out[..., 0] *= width / w
    out[..., 1] *= height / h
    return out


class FlowEstimator:
    """Computes flow between frames of one size; keeps the OpenCV objects between calls.

    ``estimator(frame1, frame2)`` returns the (H, W, 2) float32 flow from frame1 to frame2
    at the frames' full resolution, whatever ``config.scale`` is. Frames are (H, W, 3) uint8
    RGB or (H, W) uint8 gray. Not thread-safe: use one estimator per thread.
    """

    def __init__(self, config: FlowConfig | None = None, **overrides) -> None:
        if config is None:
            config = FlowConfig(**overrides)
        elif overrides:
            raise TypeError("pass either a FlowConfig or keyword settings, not both")
        self.config = config
        self._dis = cv2.DISOpticalFlow_create(DIS_PRESETS[config.preset]) if config.method == "dis" else None

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """The (h, w) uint8 gray image flow is computed on: luma, resized by ``config.scale``.

        Callers that reuse a frame for several flows (forward and backward) prepare it once
        and pass the result to :meth:`flow_prepared`.
        """
        gray = to_gray(frame)
        h, w = gray.shape
        size = scaled_size(w, h, self.config.scale)
        if size != (w, h):
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        return gray

    def flow_prepared(self, gray1: np.ndarray, gray2: np.ndarray, full_size: tuple[int, int] | None = None) -> np.ndarray:
        """Flow between two images from :meth:`prepare`; ``full_size`` = (width, height) to upsample to."""
        if gray1.shape != gray2.shape:
            raise ValueError(f"frames differ in size: {gray1.shape} vs {gray2.shape}")
        if self._dis is not None:
            flow = self._dis.calc(gray1, gray2, None)
        else:
            flow = cv2.calcOpticalFlowFarneback(
                gray1, gray2, None, pyr_scale=0.5, levels=4, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0
            )
        if full_size is not None:
            flow = resize_flow(flow, *full_size)
        return flow

    def __call__(self, frame1: np.ndarray, frame2: np.ndarray) -> np.ndarray:
        if frame1.shape[:2] != frame2.shape[:2]:
            raise ValueError(f"frames differ in size: {frame1.shape[:2]} vs {frame2.shape[:2]}")
        h, w = frame1.shape[:2]
        return self.flow_prepared(self.prepare(frame1), self.prepare(frame2), (w, h))

    def bidirectional(self, frame1: np.ndarray, frame2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(flow frame1→frame2, flow frame2→frame1), both (H, W, 2) float32; for occlusion checks."""
        h, w = frame1.shape[:2]
        g1, g2 = self.prepare(frame1), self.prepare(frame2)
        return self.flow_prepared(g1, g2, (w, h)), self.flow_prepared(g2, g1, (w, h))


def estimate_flow(
    frame1: np.ndarray, frame2: np.ndarray, method: str = "dis", preset: str = "fast", scale: float = 1.0
) -> np.ndarray:
    """One-off flow from frame1 to frame2: (H, W, 2) float32 with frame1(x) ≈ frame2(x + flow(x))."""
    return FlowEstimator(FlowConfig(method=method, preset=preset, scale=scale))(frame1, frame2)


def full_resolution_sample_map(flow: np.ndarray, width: int, height: int) -> np.ndarray:
    """The (height, width, 2) float32 cv2.remap map (x + dx, y + dy) for a low-resolution (h, w, 2) flow.

    Equivalent to resizing the flow and adding the pixel grid, in one resize: a bilinear resize
    reproduces the (linear) grid exactly except on the outermost row and column (off by < 1/scale − 1 px).
    """
    h, w = flow.shape[:2]
    sx, sy = width / w, height / h
    xs, ys = pixel_grid(h, w)
    # Position each low-res pixel samples from, in full-resolution pixel coordinates (half-pixel centres).
    low_map = np.empty((h, w, 2), np.float32)
    low_map[..., 0] = (xs + flow[..., 0] + 0.5) * sx - 0.5
    low_map[..., 1] = (ys + flow[..., 1] + 0.5) * sy - 0.5
    return cv2.resize(low_map, (width, height), interpolation=cv2.INTER_LINEAR)
