"""Consecutive video frames with DIS optical flow and occlusion masks, for the temporal loss on real motion.

Ruder et al. 2018 train the temporal term on real video: ‖net(cur) − warp(net(prev), flow)‖² over the
pixels visible in both frames. :class:`VideoFramePairs` builds a bounded pool of such pairs once, from a
folder of videos, and serves random batches of it.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch

from vidstyle.errors import InputError
from vidstyle.flow.estimate import FlowEstimator
from vidstyle.flow.occlusion import visibility_mask
from vidstyle.io.file import FileSource
from vidstyle.train.data import VIDEO_EXTENSIONS, find_files

# A pair where less than this fraction of the frame is visible in the previous one is a scene cut
# or a flow failure: it would teach nothing but add noise.
MIN_VISIBLE_FRACTION = 0.25


def find_videos(folder: str | os.PathLike) -> list[Path]:
    """All video files under ``folder`` (recursive, sorted for reproducibility)."""
    return find_files(folder, VIDEO_EXTENSIONS, "video data")


def share_budget(capacities: list[int], total: int) -> list[int]:
    """Split ``total`` as evenly as possible, nobody getting more than its capacity (water-filling):
    what a short video cannot use goes to the longer ones."""
    shares = [0] * len(capacities)
    remaining = total
    order = sorted(range(len(capacities)), key=capacities.__getitem__)
    for rank, i in enumerate(order):
        shares[i] = min(capacities[i], remaining // (len(order) - rank))
        remaining -= shares[i]
    return shares


@dataclass
class FramePair:
    """One stored training pair (CPU tensors, compact dtypes).

    prev, cur: (3, S, S) uint8 RGB. flow: (2, S, S) float16, pixels, cur -> prev: cur(x) ≈ prev(x + flow(x)).
    mask: (1, S, S) uint8 in {0, 1}, 1 where the pixel of cur is visible in prev and the flow is trusted.
    """

    prev: torch.Tensor
    cur: torch.Tensor
    flow: torch.Tensor
    mask: torch.Tensor


class VideoFramePairs:
    """A pool of up to ``max_pairs`` (prev, cur, flow, mask) crops from consecutive frames of real videos.

    Videos are found recursively under ``folder`` (mp4, mkv, mov, webm, avi, m4v) and decoded by
    :class:`vidstyle.io.file.FileSource`, upright (display rotation applied). The budget is shared evenly
    between videos and each video's pairs are spread over its whole length (every k-th consecutive pair), so
    memory stays bounded whatever the video length: 11·size² bytes a pair (512 pairs: 92 MB at 128 px,
    369 MB at 256 px).

    Each pair: both frames downscaled (never upscaled) so the short side is ``size``, the same random
    ``size``×``size`` crop of both (reflect-padded when a frame is smaller), DIS flow from the current crop
    to the previous one and a visibility mask (forward–backward check + motion boundaries,
    :func:`vidstyle.flow.occlusion.visibility_mask`). Unreadable videos are skipped with a warning.
    """

    def __init__(self, folder: str | os.PathLike, size: int, max_pairs: int = 512, seed: int = 0,
                 flow_preset: str = "medium") -> None:
        if max_pairs < 1:
            raise InputError(f"the video pair pool needs at least one pair, got max_pairs={max_pairs}")
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.estimator = FlowEstimator(preset=flow_preset)
        self.pairs: list[FramePair] = []
        paths = find_videos(folder)
        if not paths:
            raise InputError(f"no videos ({', '.join(sorted(e[1:] for e in VIDEO_EXTENSIONS))}) under {folder}")
        probed = {path: found for path in paths if (found := self._probe(path)) is not None}
        budgets = share_budget([capacity for capacity, _ in probed.values()], max_pairs)
        self.videos_used = 0
        for (path, (capacity, frame_size)), budget in zip(probed.items(), budgets):
            before = len(self.pairs)
            self._collect(path, capacity, frame_size, budget)
            self.videos_used += len(self.pairs) > before
        if not self.pairs:
            raise InputError(f"no usable frame pairs in the videos under {folder} (unreadable or single-frame files?)")

    def __len__(self) -> int:
        return len(self.pairs)

    # -- building the pool ---------------------------------------------------------------------------------

    def _probe(self, path: Path) -> Optional[tuple[int, tuple[int, int]]]:
        """How many consecutive pairs the video has (from its header) and the (width, height) its frames are
        decoded at: upright, the short side downscaled to ``size``. None: unreadable, skipped with a warning."""
        try:
            with FileSource(path) as source:
                frames = source.info.frame_count
                width, height = source.width, source.height
        except InputError as exc:
            warnings.warn(f"skipping unreadable training video {path}: {exc}", stacklevel=3)
            return None
        scale = min(1.0, self.size / min(width, height))
        frame_size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # Unknown length (rare: raw streams): let it compete for a full share, taken from its start.
        return (max(0, frames - 1) if frames else 1 << 30), frame_size

    def _collect(self, path: Path, capacity: int, frame_size: tuple[int, int], budget: int) -> None:
        """Add up to ``budget`` pairs of ``path``: pairs (o + j·k, o + j·k + 1) with k = capacity // budget."""
        if budget <= 0:
            return
        stride = max(1, capacity // budget)
        offset = stride // 2
        taken = 0
        try:
            for prev, cur in self._consecutive_frames(path, frame_size, stride, offset):
                if self._add_pair(prev, cur):
                    taken += 1
                    if taken >= budget:
                        break
        except InputError as exc:
            warnings.warn(f"training video {path} is corrupt after {taken} pairs, keeping those: {exc}", stacklevel=3)
        if taken == 0:
            warnings.warn(f"skipping training video {path}: no usable pair of consecutive frames", stacklevel=3)

    def _consecutive_frames(self, path: Path, frame_size: tuple[int, int], stride: int,
                            offset: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(frame i, frame i+1) for i = offset, offset + stride, …: (H, W, 3) uint8 RGB of ``frame_size``.

        Every frame is decoded (codecs need that) but only the frames of a pair are converted to RGB.
        """

        def in_a_pair(index: int) -> bool:
            return index >= offset and (index - offset) % stride in (0, 1 % stride)

        with FileSource(path, size=frame_size, select=in_a_pair, threads=os.cpu_count() or 2) as source:
            prev = None
            for frame in source:
                if prev is not None and frame.index == prev.index + 1:
                    yield prev.image, frame.image
                    prev = None
                if (frame.index - offset) % stride == 0:
                    prev = frame

    def _add_pair(self, prev: np.ndarray, cur: np.ndarray) -> bool:
        """Crop both frames alike, compute flow and mask, store; False when too little is visible."""
        prev, cur = self._same_random_crop(prev, cur)
        flow_cur_prev, flow_prev_cur = self.estimator.bidirectional(cur, prev)
        mask = visibility_mask(flow_cur_prev, flow_prev_cur)
        if mask.mean() < MIN_VISIBLE_FRACTION:
            return False
        self.pairs.append(FramePair(
            prev=torch.from_numpy(prev).permute(2, 0, 1).contiguous(),
            cur=torch.from_numpy(cur).permute(2, 0, 1).contiguous(),
            flow=torch.from_numpy(flow_cur_prev).permute(2, 0, 1).to(torch.float16).contiguous(),
            mask=torch.from_numpy(mask.astype(np.uint8)).unsqueeze(0),
        ))
        return True

    def _same_random_crop(self, prev: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The same random size×size window of both frames, reflect-padding frames smaller than that."""
        s = self.size
        h, w = cur.shape[:2]
        if h < s or w < s:
            pad = ((0, max(0, s - h)), (0, max(0, s - w)), (0, 0))
            prev, cur = np.pad(prev, pad, mode="reflect"), np.pad(cur, pad, mode="reflect")
            h, w = cur.shape[:2]
        y, x = int(self.rng.integers(0, h - s + 1)), int(self.rng.integers(0, w - s + 1))
        return (np.ascontiguousarray(prev[y:y + s, x:x + s]), np.ascontiguousarray(cur[y:y + s, x:x + s]))

    # -- serving -------------------------------------------------------------------------------------------

    def pair(self, index: int, flip: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Pair ``index`` as float tensors: prev, cur (3, S, S) in [0, 1], flow (2, S, S) pixels cur -> prev,
        mask (1, S, S) in {0, 1}. ``flip`` mirrors it horizontally (the flow's x component changes sign)."""
        p = self.pairs[index]
        prev, cur = p.prev.float().div_(255), p.cur.float().div_(255)
        flow, mask = p.flow.float(), p.mask.float()
        if flip:
            prev, cur, flow, mask = prev.flip(-1), cur.flip(-1), flow.flip(-1), mask.flip(-1)
            flow[0].neg_()
        return prev, cur, flow, mask

    def batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                                           torch.Tensor]:
        """Random pairs, each flipped horizontally half of the time: prev, cur (B, 3, S, S) float in [0, 1],
        flow (B, 2, S, S) float pixels cur -> prev (``move(prev, flow)`` ≈ cur), mask (B, 1, S, S) in {0, 1}."""
        indices = torch.randint(len(self.pairs), (batch_size,), generator=generator).tolist()
        flips = (torch.rand(batch_size, generator=generator) < 0.5).tolist()
        samples = [self.pair(i, f) for i, f in zip(indices, flips)]
        return tuple(torch.stack(parts) for parts in zip(*samples))  # type: ignore[return-value]

