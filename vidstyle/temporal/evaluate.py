"""How stable and how stylized a stylized video is.

Warping error (Lai et al. 2018): for each t ≥ 1, the flow from original frame t to t−1 is computed
on the *originals*; the occlusion mask comes from its forward–backward consistency check; then

    E_warp(t) = Σ_x M_t(x) · ‖S_t(x) − S_{t−1}(x + F_{t→t−1}(x))‖² / (3 · Σ_x M_t(x))

with S in [0, 1] RGB (the masked mean squared difference per channel). The video's E_warp is the
mean over t. Alongside it, the mean style loss (Gram matrices of VGG19 at the Gatys layers against
the style image) and content loss (relu4_2 against the original frame), so a lower E_warp cannot
be bought with a washed-out style unnoticed.
"""
from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path
from dataclasses import asdict, dataclass
from typing import Iterable, Iterator

import cv2
import numpy as np
import torch
from PIL import Image

from vidstyle.errors import InputError
from vidstyle.flow.estimate import FlowConfig, FlowEstimator
from vidstyle.flow.occlusion import visibility_mask
from vidstyle.flow.warp import warp_image
from vidstyle.losses import GATYS_CONTENT_LAYERS, GATYS_STYLE_LAYERS, VGG19Features, content_loss, gram_matrix, style_loss
from vidstyle.utils import validate
from vidstyle.utils.device import resolve_device
from vidstyle.utils.image import load_image, resize_long_side, to_tensor


# Frames smaller than this on a side are refused: VGG19's pooling and DIS flow need some room.
MIN_FRAME_SIDE = 16


@dataclass(frozen=True)
class EvaluationOptions:
    """Settings of :func:`evaluate_temporal`.

    flow_preset, flow_scale: DIS settings for the flow between originals ("medium" at full size is the
        most accurate of the three presets; see benchmarks/flow_epe.py).
    motion_boundaries: also leave motion boundaries out of the mask (Ruder et al.); off by default,
        as in Lai et al., who mask occlusions only.
    max_frames: evaluate only the first N frames.
    loss_every: compute style/content losses on every k-th frame (VGG19 is the slow part).
    loss_long_side: frames are shrunk so their long side is at most this for VGG19; the style image is
        resized to the frames' long side.
    device: where VGG19 runs ("auto", "cpu", "cuda").
    """

    flow_preset: str = "medium"
    flow_scale: float = 1.0
    motion_boundaries: bool = False
    max_frames: int | None = None
    loss_every: int = 1
    loss_long_side: int = 384
    device: str = "auto"

    def __post_init__(self) -> None:
        validate.finite("--flow-scale", self.flow_scale, 0.0, 1.0, low_open=True)
        validate.optional_integer("--max-frames", self.max_frames, low=2)
        validate.integer("--loss-every", self.loss_every, 1)
        validate.side("loss_long_side", self.loss_long_side, MIN_FRAME_SIDE)


def warping_error_map(stylized_prev: np.ndarray, stylized_cur: np.ndarray, flow_cur_to_prev: np.ndarray) -> np.ndarray:
    """(H, W) float32 squared difference, averaged over RGB in [0, 1], between stylized frame t and
    stylized frame t−1 warped to t by the (H, W, 2) flow t→t−1 (unmasked)."""
    warped = warp_image(stylized_prev, flow_cur_to_prev).astype(np.float32) * (1.0 / 255.0)
    diff = stylized_cur.astype(np.float32) * (1.0 / 255.0) - warped
    return (diff * diff).mean(axis=2)


def frame_warping_error(
    stylized_prev: np.ndarray, stylized_cur: np.ndarray, flow_cur_to_prev: np.ndarray, visible: np.ndarray
) -> float:
    """E_warp(t) for one pair: (H, W, 3) uint8 stylized frames, the (H, W, 2) flow t→t−1 and an (H, W)
    visibility mask in [0, 1]. Returns the masked MSE in [0, 1] RGB (0.0 when nothing is visible)."""
    sq = warping_error_map(stylized_prev, stylized_cur, flow_cur_to_prev)
    weight = float(visible.sum())
    return float((sq * visible).sum() / weight) if weight > 0 else 0.0


class WarpingErrorMeter:
    """Streams pairs (original, stylized) in frame order and accumulates E_warp(t).

    Frames are (H, W, 3) uint8 RGB; the stylized frame may have another size than the original
    (the original is then resized to it, since flow must live on the stylized grid).
    """

    def __init__(self, flow: FlowConfig | None = None, motion_boundaries: bool = False) -> None:
        self.flow = FlowEstimator(flow or FlowConfig(preset="medium"))
        self.motion_boundaries = motion_boundaries
        self.errors: list[float] = []
        self.visible_fractions: list[float] = []
        self._prev: tuple[np.ndarray, np.ndarray] | None = None

    def update(self, original: np.ndarray, stylized: np.ndarray) -> float | None:
        """Add frame t; returns E_warp(t), or None for the first frame."""
        h, w = stylized.shape[:2]
        if original.shape[:2] != (h, w):
            original = cv2.resize(original, (w, h), interpolation=cv2.INTER_AREA)
        prev, self._prev = self._prev, (original, stylized)
        if prev is None:
            return None
        prev_original, prev_stylized = prev
        flow_cp, flow_pc = self.flow.bidirectional(original, prev_original)
        visible = visibility_mask(flow_cp, flow_pc, motion_boundaries=self.motion_boundaries)
        err = frame_warping_error(prev_stylized, stylized, flow_cp, visible)
        self.errors.append(err)
        self.visible_fractions.append(float(visible.mean()))
        return err

    @property
    def mean(self) -> float:
        """Mean E_warp over the frames seen (0.0 for fewer than two frames)."""
        return float(np.mean(self.errors)) if self.errors else 0.0


def _resize_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Shrink (never enlarge) an (H, W, 3) uint8 image so its long side is at most ``long_side``."""
    if max(image.shape[:2]) <= long_side:
        return image
    return np.array(resize_long_side(Image.fromarray(image), long_side))


class StyleContentMeter:
    """Mean Gatys style loss (against a style image) and content loss (against the original frame).

    VGG19 at GATYS_STYLE_LAYERS and GATYS_CONTENT_LAYERS. Frames are shrunk to at most ``long_side``;
    the style image is resized to the same long side as the frames, as Gatys et al. optimisation does
    (style_scale 1), so the brush strokes are compared at the scale the viewer sees them. Each term is
    relative, so layers count alike and values read the same for any size: the style loss is the mean over
    layers of mean((G − G_style)²) / mean(G_style²), the content loss mean((F − F_orig)²) / mean(F_orig²).
    0 is a perfect match; 1 is as far as an all-black image.
    """

    def __init__(self, style: np.ndarray | None, long_side: int = 384, device: str = "auto") -> None:
        self.device = resolve_device(device)
        self.long_side = long_side
        self.style = style
        self.layers = tuple(dict.fromkeys(tuple(GATYS_STYLE_LAYERS) + tuple(GATYS_CONTENT_LAYERS)))
        self.vgg = VGG19Features(self.layers).to(self.device).eval()
        self.style_losses: list[float] = []
        self.content_losses: list[float] = []
        self._style_targets: dict[int, tuple[dict[str, torch.Tensor], dict[str, float]]] = {}

    def style_targets(self, long_side: int) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
        """Gram targets of the style image at ``long_side`` and the per-layer weights 1 / (L · mean(G²))."""
        if long_side not in self._style_targets:
            assert self.style is not None
            style = np.array(resize_long_side(Image.fromarray(self.style), long_side))
            feats = self.vgg(to_tensor(style, self.device), self.layers)
            grams = {name: gram_matrix(feats[name]) for name in GATYS_STYLE_LAYERS}
            weights = {name: 1.0 / (len(grams) * max(float(g.pow(2).mean()), 1e-12)) for name, g in grams.items()}
            self._style_targets[long_side] = (grams, weights)
        return self._style_targets[long_side]

    @torch.inference_mode()
    def update(self, original: np.ndarray, stylized: np.ndarray) -> None:
        """Add one frame pair ((H, W, 3) uint8 RGB each; sizes may differ)."""
        stylized = _resize_long_side(stylized, self.long_side)
        h, w = stylized.shape[:2]
        original = cv2.resize(original, (w, h), interpolation=cv2.INTER_AREA)
        batch = torch.cat([to_tensor(stylized, self.device), to_tensor(original, self.device)])
        feats = self.vgg(batch, self.layers)
        target = feats[GATYS_CONTENT_LAYERS[0]][1:]
        c_loss = content_loss(feats[GATYS_CONTENT_LAYERS[0]][:1], target) / max(float(target.pow(2).mean()), 1e-12)
        self.content_losses.append(float(c_loss))
        if self.style is not None:
            grams, weights = self.style_targets(max(h, w))
            frame_feats = {k: feats[k][:1] for k in GATYS_STYLE_LAYERS}
            self.style_losses.append(float(style_loss(frame_feats, grams, weights)))


def evaluate_frames(
    originals: Iterable[np.ndarray],
    stylized: Iterable[np.ndarray],
    style: np.ndarray | None = None,
    options: EvaluationOptions | None = None,
    losses: bool = True,
    progress: bool = False,
    total: int | None = None,
) -> dict:
    """Evaluate paired frame sequences ((H, W, 3) uint8 RGB). See :func:`evaluate_temporal` for the result.

    progress: a progress bar with an ETA on stderr, counting to ``total`` frames (when known).
    """
    options = options or EvaluationOptions()
    bar = None
    meter = WarpingErrorMeter(FlowConfig(preset=options.flow_preset, scale=options.flow_scale), options.motion_boundaries)
    quality = StyleContentMeter(style, options.loss_long_side, options.device) if losses else None
    count = 0
    size = None
    for original, styl in itertools.zip_longest(originals, stylized):
        if options.max_frames is not None and count >= options.max_frames:
            break
        if original is None or styl is None:
            longer = "original" if styl is None else "stylized"
            raise InputError(f"the videos differ in length: the {longer} one has more than {count} frames")
        if count == 0 and min(*styl.shape[:2], *original.shape[:2]) < MIN_FRAME_SIDE:
            raise InputError(f"frames of {original.shape[1]}x{original.shape[0]} (stylized {styl.shape[1]}x"
                             f"{styl.shape[0]}) are too small to measure: at least {MIN_FRAME_SIDE}x{MIN_FRAME_SIDE}")
        if progress and bar is None:  # once the first pair passed its checks: a refusal prints no bar
            from tqdm import tqdm

            bar = tqdm(total=total, unit="frame", desc="evaluating", file=sys.stderr, dynamic_ncols=True)
        meter.update(original, styl)
        if quality is not None and count % options.loss_every == 0:
            quality.update(original, styl)
        size = (int(styl.shape[1]), int(styl.shape[0]))
        count += 1
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if count < 2:
        raise InputError(f"need at least two frames to measure temporal consistency, got {count}")
    result = {
        "frames": count,
        "size": list(size),
        "warping_error": meter.mean,
        "warping_error_per_frame": meter.errors,
        "visible_fraction": float(np.mean(meter.visible_fractions)),
        "options": asdict(options),
    }
    if quality is not None:
        result["content_loss"] = float(np.mean(quality.content_losses))
        result["style_loss"] = float(np.mean(quality.style_losses)) if quality.style_losses else None
    return result


def read_video_frames(path: str | os.PathLike, long_side: int | None = None) -> Iterator[np.ndarray]:
    """(H, W, 3) uint8 RGB frames of a video file, upright, optionally resized so the long side is ``long_side``."""
    from vidstyle.io.file import FileSource

    with FileSource(path, long_side=long_side) as source:
        for frame in source:
            yield frame.image


def evaluate_temporal(
    original_path: str | os.PathLike,
    stylized_path: str | os.PathLike,
    style: str | os.PathLike | np.ndarray | None = None,
    options: EvaluationOptions | None = None,
    progress: bool = False,
    **changes,
) -> dict:
    """Warping error and style/content losses of a stylized video against its original.

    The two videos' lengths are compared from their headers first, so a mismatch is reported before any
    frame is processed (an exact mismatch the headers cannot show is still caught while reading).
    progress: a progress bar with an ETA on stderr.

    Args:
        original_path, stylized_path: video files with the same frames in the same order
            (the stylized one may have another size; the originals are resized to it).
        style: the style image (path or (H, W, 3) uint8) for the style loss; without it style_loss is None.
        options: :class:`EvaluationOptions`; keyword ``changes`` override its fields.

    Returns a dict: frames, size [w, h], warping_error (mean E_warp, [0,1] RGB MSE),
    warping_error_per_frame, visible_fraction (mean share of pixels the mask keeps),
    style_loss, content_loss, options.
    """
    options = options or EvaluationOptions()
    if changes:
        options = EvaluationOptions(**{**asdict(options), **changes})
    style_image = load_image(style) if isinstance(style, (str, os.PathLike)) else style
    total = _matching_length(original_path, stylized_path, options.max_frames)
    return evaluate_frames(read_video_frames(original_path), read_video_frames(stylized_path), style_image, options,
                           progress=progress, total=total)


def _matching_length(original_path: str | os.PathLike, stylized_path: str | os.PathLike,
                     max_frames: int | None) -> int | None:
    """The frames to evaluate by the headers (None when a header does not say); InputError when the two
    headers' frame counts differ by more than the one frame a duration-based estimate may be off."""
    from vidstyle.io.file import FileSource

    counts = []
    for path in (original_path, stylized_path):
        with FileSource(path) as source:
            counts.append(source.info.frame_count)
    if None in counts:
        return max_frames
    original, stylized = counts
    if max_frames is not None:
        original, stylized = min(original, max_frames), min(stylized, max_frames)
    if abs(original - stylized) > 1:
        raise InputError(f"the videos differ in length: {Path(original_path).name} has {counts[0]} frames, "
                         f"{Path(stylized_path).name} {counts[1]} (by their headers); evaluate a stylized copy of "
                         "the same clip, or --max-frames")
    return min(original, stylized)
