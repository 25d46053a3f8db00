"""``--temporal smooth``: hold still what the scene holds still by blending each stylized frame
with the previous *output* warped into the current frame.

Flow is computed on the original (unstylized) frames, which are the honest record of motion,
at a reduced resolution with DIS. Where the previous frame's pixel is visible in the current
one (forward–backward consistent and photometrically matching), the output is
``(1 − blend)·stylized + blend·warped_previous_output``; elsewhere (disoccluded regions, objects
that moved in, scene cuts) it is the fresh stylized frame, so moving things leave no trails.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidstyle.flow.estimate import FlowConfig, FlowEstimator, full_resolution_sample_map
from vidstyle.flow.occlusion import disocclusion_mask
from vidstyle.flow.warp import sample_points


_INTERPOLATIONS = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}


@dataclass(frozen=True)
class StabilizerConfig:
    """Settings of :class:`FlowStabilizer`.

    blend: weight of the warped previous output where it is visible, in [0, 1).
        0 turns smoothing off; 0.8 keeps a static scene very still (noise variance × ~0.1).
    preset, scale: DIS preset and the resolution factor flow is computed at.
    photometric_threshold: a visible pixel must also match in the originals: |I_t − warp(I_{t−1})|
        in 0–255 luma above this counts as occluded (catches flow errors the round trip misses).
    scene_cut_fraction: when more than this fraction of pixels is occluded, restart (a cut).
    interpolation: how the previous output is resampled, "linear" or "cubic". Every frame resamples the
        history again, so bilinear's slight blur accumulates and softens the brush strokes a little;
        cubic keeps more texture for about 1 ms more per 640×480 frame.
    """

    blend: float = 0.8
    preset: str = "ultrafast"
    scale: float = 0.5
    photometric_threshold: float = 24.0
    scene_cut_fraction: float = 0.6
    interpolation: str = "linear"

    def __post_init__(self) -> None:
        if not 0.0 <= self.blend < 1.0:
            raise ValueError(f"blend must be in [0, 1), got {self.blend}")
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {', '.join(_INTERPOLATIONS)}, got {self.interpolation!r}")


class FlowStabilizer:
    """Stateful post-processor: ``stabilizer(original, stylized) -> output``, all (H, W, 3) uint8 RGB.

    Call it once per frame, in order. The first frame (and the first after :meth:`reset`, a
    size change or a scene cut) passes through unchanged.
    """

    def __init__(
        self,
        blend: float = 0.8,
        preset: str = "ultrafast",
        scale: float = 0.5,
        photometric_threshold: float = 24.0,
        scene_cut_fraction: float = 0.6,
        interpolation: str = "linear",
    ) -> None:
        self.config = StabilizerConfig(blend, preset, scale, photometric_threshold, scene_cut_fraction, interpolation)
        self._flow = FlowEstimator(FlowConfig(method="dis", preset=preset, scale=scale))
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame (call between unrelated clips)."""
        self._prev_gray: np.ndarray | None = None
        self._prev_output: np.ndarray | None = None
        self.last_visible_fraction: float = 0.0

    def __call__(self, original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if original.shape[:2] != stylized.shape[:2]:
            # The stylizer may work at another size; flow is measured on the originals at the output's size.
            original = cv2.resize(original, (stylized.shape[1], stylized.shape[0]), interpolation=cv2.INTER_AREA)
        gray = self._flow.prepare(original)
        prev_gray, prev_output = self._prev_gray, self._prev_output
        self._prev_gray = gray
        if self.config.blend == 0.0 or prev_gray is None or prev_output is None or prev_output.shape != stylized.shape:
            self._prev_output = stylized
            self.last_visible_fraction = 0.0
            return stylized

        # Flow current→previous (to pull the previous output into the current frame) and back, at low resolution.
        flow_cp = self._flow.flow_prepared(gray, prev_gray)
        flow_pc = self._flow.flow_prepared(prev_gray, gray)
        points = sample_points(flow_cp)  # shared by the round-trip check and the photometric check
        occluded = disocclusion_mask(flow_cp, flow_pc, points=points)
        photometric = cv2.absdiff(gray, cv2.remap(prev_gray, *points, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
        occluded |= photometric > self.config.photometric_threshold
        self.last_visible_fraction = 1.0 - float(occluded.mean())
        if self.last_visible_fraction < 1.0 - self.config.scene_cut_fraction:
            self._prev_output = stylized
            return stylized

        h, w = stylized.shape[:2]
        sample_map = full_resolution_sample_map(flow_cp, w, h)
        # Fixed-point maps make the full-size remap about a quarter cheaper than float maps.
        map_xy, map_frac = cv2.convertMaps(sample_map, None, cv2.CV_16SC2)
        warped_prev = cv2.remap(
            prev_output, map_xy, map_frac, _INTERPOLATIONS[self.config.interpolation], borderMode=cv2.BORDER_REPLICATE
        )
        # One weight everywhere, then the fresh frame copied over the occluded pixels: a per-pixel weighted
        # blend (cv2.blendLinear) costs several times more at 640×480 and would only soften the mask edge.
        output = cv2.addWeighted(stylized, 1.0 - self.config.blend, warped_prev, self.config.blend, 0.0)
        if occluded.any():
            occluded_full = cv2.resize(occluded.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
            cv2.copyTo(stylized, occluded_full, output)
        self._prev_output = output
        return output
