"""``--temporal optimize``: the offline, flicker-free render of Ruder et al. 2016.

Every frame is a Gatys et al. optimisation (:class:`vidstyle.gatys.GatysEngine`) that starts from the
previous stylized frame warped into it by optical flow, and adds a temporal loss that keeps it equal to
that warped frame wherever the previous frame's pixel is visible:

    L_temporal = Σ_{j ∈ J} γ · mean(c_long_j · (x − ω_{i−j}(x_{i−j}))²)

with ω the backward warp by the flow i → i−j computed on the *original* frames, c the occlusion mask of
the forward–backward consistency check and motion boundaries, and (long-term, ``long_term=(1, 2, 4)``)
c_long_j = max(c_j − Σ_{k ∈ J, k < j} c_k, 0), so every pixel is held to its nearest visible past.
Multi-pass refinement (``passes``) then sweeps the video alternately backward and forward; each frame
starts from δ·c·ω(neighbour) + (1 − δ·c)·(its previous-pass result), which spreads consistency both ways.

With ``init_model`` (a feed-forward transform network of the same painting), the first frame starts from
the network's output instead of the photo, and every later one from c·ω(previous) + (1 − c)·net(frame):
the pixels the previous result cannot reach start stylized, so a few steps per frame suffice where the
photo needs dozens (docs/design.md).

Every finished frame is written to a cache folder beside the output, keyed by a hash of the input,
the style and the settings; running the same command again after an interruption resumes from there.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Union

import cv2
import numpy as np
import torch
from PIL import Image

from vidstyle import __version__
from vidstyle.errors import InputError, OutputError
from vidstyle.flow.estimate import DIS_PRESETS, FlowConfig, FlowEstimator
from vidstyle.flow.occlusion import visibility_mask
from vidstyle.flow.warp import flow_to_tensor, warp_tensor
from vidstyle.gatys.engine import GatysEngine, GatysTargets, normalisers
from vidstyle.gatys.options import GatysOptions
from vidstyle.losses import temporal_loss
from vidstyle.types import Frame
from vidstyle.utils.files import atomic_output, check_output_path
from vidstyle.utils.hashing import hash_file
from vidstyle.utils.image import as_uint8_image, resize_long_side, to_tensor, to_uint8

StyleInput = Union[str, os.PathLike, np.ndarray]
ProgressCallback = Callable[["FrameEvent"], None]


# The temporal loss weight γ when a frame starts from the photo, and when it starts from a network's output.
PHOTO_START_TEMPORAL_WEIGHT = 2e3
NETWORK_START_TEMPORAL_WEIGHT = 5e2


@dataclass
class OptimizeOptions:
    """Settings of :func:`render_optimized_video`.

    size: long side of the render in pixels (the input is resized; VGG19 cost grows with the area).
    steps: optimiser steps per frame in the first pass; first_frame_steps for the very first frame
        (it starts from the content, not from a warped neighbour), default 2 × steps.
    passes: number of sweeps (1 = forward only; 2 = forward then backward, ...).
    pass_steps: steps per frame in passes after the first (default steps // 2).
    temporal_weight: γ, the weight of each temporal term (the loss is a mean over pixels in [0, 1]); None:
        2e3, or 5e2 with ``init_model`` (each frame then starts stylized and steady, and a lower weight leaves
        its few steps free for the style: at 640×360 and 6 steps a frame, 1.05× the style loss of per-frame
        Gatys at 5e2 and 1.10× at 1e3, E_warp 0.04× either way; docs/benchmarks.md).
    long_term: the frame distances J held to, e.g. (1, 2, 4); () means short-term only, i.e. (1,).
    pass_blend: δ, how much of the warped neighbour seeds a frame in passes after the first.
    init_model: a feed-forward model (registry name or .safetensors path) whose output starts the first
        frame and fills the pixels the warped previous result does not reach; None: start from the photo.
    flow_preset: DIS preset for the flow between original frames.
    gatys: the per-frame optimisation settings (weights, layers, optimiser, device); its size and
        steps are ignored in favour of the fields above.
    start, end: cut of the input, in seconds; max_frames: at most this many frames.
    cache_dir: where finished frames are kept; None: ``.NAME.optimize-cache`` beside the output.
    keep_cache: keep the cache after a complete render (it is removed by default).
    audio: copy the input's audio into the output.
    write_from: frames before this input time (seconds) are rendered, as warm-up for the temporal loss, but
        not written. pts_offset: subtract this from the timestamps written instead of the first frame's
        (a segment of a render split over a cluster keeps the whole render's timeline).
    """

    size: int = 256
    steps: int = 60
    first_frame_steps: int | None = None
    passes: int = 1
    pass_steps: int | None = None
    temporal_weight: float | None = None
    long_term: tuple[int, ...] = ()
    pass_blend: float = 0.5
    init_model: str | None = None
    flow_preset: str = "medium"
    gatys: GatysOptions = field(default_factory=GatysOptions)
    start: float | None = None
    end: float | None = None
    max_frames: int | None = None
    cache_dir: str | None = None
    keep_cache: bool = False
    audio: bool = True
    write_from: float | None = None
    pts_offset: int | None = None

    def __post_init__(self) -> None:
        if self.size < 16:
            raise InputError(f"--size must be at least 16 pixels, got {self.size}")
        if self.steps < 1 or (self.first_frame_steps is not None and self.first_frame_steps < 1):
            raise InputError("--steps must be at least 1")
        if self.passes < 1:
            raise InputError(f"--passes must be at least 1, got {self.passes}")
        if self.pass_steps is not None and self.pass_steps < 1:
            raise InputError("--pass-steps must be at least 1")
        self.long_term = tuple(sorted({int(j) for j in self.long_term}))
        if any(j < 1 for j in self.long_term):
            raise InputError(f"--long-term distances must be 1 or more, got {','.join(map(str, self.long_term))}")
        if self.temporal_weight is None:
            self.temporal_weight = NETWORK_START_TEMPORAL_WEIGHT if self.init_model else PHOTO_START_TEMPORAL_WEIGHT
        if self.temporal_weight < 0:
            raise InputError("--temporal-weight must be 0 or more")
        if not 0.0 <= self.pass_blend <= 1.0:
            raise InputError("pass blend must be in [0, 1]")
        if self.flow_preset not in DIS_PRESETS:
            raise InputError(f"unknown flow preset {self.flow_preset!r}; use one of {', '.join(DIS_PRESETS)}")
        if self.max_frames is not None and self.max_frames < 1:
            raise InputError("--max-frames must be at least 1")

    @property
    def distances(self) -> tuple[int, ...]:
        """The frame distances J of the temporal loss (always including 1)."""
        return tuple(sorted({1, *self.long_term}))

    def steps_for(self, pass_index: int, first_in_pass: bool) -> int:
        if pass_index > 0:
            return self.pass_steps if self.pass_steps is not None else max(1, self.steps // 2)
        if first_in_pass:
            return self.first_frame_steps if self.first_frame_steps is not None else 2 * self.steps
        return self.steps

    def result_settings(self) -> dict:
        """Everything that changes the rendered pixels (the cache key); cut, cache and audio settings excluded
        except the cut, which changes which frames exist."""
        d = asdict(self)
        for name in ("cache_dir", "keep_cache", "audio", "write_from", "pts_offset"):
            d.pop(name)
        gatys = d.pop("gatys")
        for name in ("size", "steps", "save_every", "device", "scales", "init"):
            gatys.pop(name, None)
        d["gatys"] = gatys
        return d


@dataclass
class FrameEvent:
    """What a progress callback hears after each frame."""

    pass_index: int
    passes: int
    frame_index: int
    frames: int
    cached: bool
    seconds: float
    eta_seconds: float | None


def cache_key(src: Path, style: np.ndarray, options: OptimizeOptions) -> str:
    """Hex digest of the input file's bytes, the style pixels, the init model's bytes and the settings that
    shape the result."""
    h = hashlib.sha256()
    hash_file(src, h)
    if options.init_model is not None:
        from vidstyle.models.registry import find_model

        hash_file(find_model(options.init_model), h)
    h.update(np.ascontiguousarray(style).tobytes())
    h.update(str(style.shape).encode())
    h.update(json.dumps(options.result_settings(), sort_keys=True, default=str).encode())
    h.update(__version__.encode())
    return h.hexdigest()[:20]


class FrameCache:
    """Finished frames as PNG files ``pass{p}_{index:06d}.png`` in one folder; writes are atomic."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the frame cache {folder}: {exc.strerror or exc}") from None

    def path(self, pass_index: int, frame_index: int) -> Path:
        return self.folder / f"pass{pass_index}_{frame_index:06d}.png"

    def load(self, pass_index: int, frame_index: int) -> np.ndarray | None:
        p = self.path(pass_index, frame_index)
        if not p.is_file():
            return None
        image = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if image is None:  # a damaged file: compute the frame again
            return None
        return np.ascontiguousarray(image[..., ::-1])

    def save(self, pass_index: int, frame_index: int, image: np.ndarray) -> None:
        p = self.path(pass_index, frame_index)
        with atomic_output(p) as tmp:
            if not cv2.imwrite(str(tmp), np.ascontiguousarray(image[..., ::-1])):
                raise OutputError(f"cannot write the cached frame {p}")

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        parent = self.folder.parent
        if parent.name.endswith(".optimize-cache"):
            try:
                parent.rmdir()  # only when empty: other renders may keep theirs there
            except OSError:
                pass


def default_cache_folder(dst: Path) -> Path:
    return dst.parent / f".{dst.name}.optimize-cache"


class _Progress:
    """Per-frame progress: frames done and ETA from the mean time per computed optimiser step."""

    def __init__(self, progress: bool | ProgressCallback, total_steps: int, passes: int, frames: int) -> None:
        self.callback = progress if callable(progress) else None
        self.print = progress is True
        self.total_steps = total_steps
        self.passes, self.frames = passes, frames
        self.steps_left = total_steps
        self.computed_steps = 0
        self.computed_seconds = 0.0
        self.done = 0

    def __call__(self, pass_index: int, frame_index: int, steps: int, cached: bool, seconds: float) -> None:
        self.steps_left -= steps
        self.done += 1
        if not cached:
            self.computed_steps += steps
            self.computed_seconds += seconds
        eta = None
        if self.computed_steps:
            eta = self.steps_left * self.computed_seconds / self.computed_steps
        event = FrameEvent(pass_index, self.passes, frame_index, self.frames, cached, seconds, eta)
        if self.print:
            eta_text = "?" if eta is None else _duration(eta)
            state = "cached" if cached else f"{seconds:.1f} s"
            print(
                f"optimize: pass {pass_index + 1}/{self.passes} frame {frame_index + 1}/{self.frames} ({state}); "
                f"{self.done}/{self.passes * self.frames} done, ETA {eta_text}",
                file=sys.stderr,
                flush=True,
            )
        if self.callback is not None:
            self.callback(event)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class _FlowBank:
    """Flows between original frames and their visibility masks, computed once each, as tensors."""

    def __init__(self, originals: list[np.ndarray], preset: str, device: torch.device) -> None:
        self.originals = originals
        self.estimator = FlowEstimator(FlowConfig(method="dis", preset=preset))
        self.device = device
        self._flows: dict[tuple[int, int], np.ndarray] = {}

    def flow(self, a: int, b: int) -> np.ndarray:
        """(H, W, 2) flow from original frame a to frame b."""
        if (a, b) not in self._flows:
            fw, bw = self.estimator.bidirectional(self.originals[a], self.originals[b])
            self._flows[(a, b)], self._flows[(b, a)] = fw, bw
        return self._flows[(a, b)]

    def warp_into(self, image: np.ndarray, source: int, target: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Frame ``source``'s (H, W, 3) uint8 image warped onto frame ``target``'s grid, as a (1, 3, H, W)
        tensor in [0, 1], and the (1, 1, H, W) mask c (1 where the source pixel is visible and trusted)."""
        flow_ts = self.flow(target, source)
        mask = visibility_mask(flow_ts, self.flow(source, target), motion_boundaries=True)
        warped = warp_tensor(to_tensor(image, self.device), flow_to_tensor(flow_ts, self.device))
        return warped, torch.from_numpy(mask).to(self.device).view(1, 1, *mask.shape)


def _init_stylizer(model: str | None, device: torch.device):
    """A Stylizer for ``init_model`` on the optimisation's device (None for no model)."""
    if model is None:
        return None
    from vidstyle.runtime import create_stylizer

    backend = "torch" if device.type == "cuda" else "auto"
    return create_stylizer(model, backend=backend, device=str(device), threads=torch.get_num_threads())


def long_term_masks(masks: list[torch.Tensor]) -> list[torch.Tensor]:
    """Ruder et al.'s long-term weights: c_long_j = max(c_j − Σ_{k nearer than j} c_k, 0).

    ``masks`` are the visibility masks of the neighbours, nearest first, each (1, 1, H, W) in [0, 1];
    a pixel is held only to the nearest neighbour that sees it.
    """
    out: list[torch.Tensor] = []
    covered: torch.Tensor | None = None
    for mask in masks:
        out.append(mask if covered is None else (mask - covered).clamp_min(0.0))
        covered = mask if covered is None else covered + mask
    return out


def read_frames(src: Path, options: OptimizeOptions) -> list[Frame]:
    from vidstyle.io.file import FileSource

    frames: list[Frame] = []
    with FileSource(src, long_side=options.size, start=options.start, end=options.end) as source:
        for frame in source:
            frames.append(frame)
            if options.max_frames is not None and len(frames) >= options.max_frames:
                break
    return frames


def write_video(frames: list[Frame], images: list[np.ndarray], src: Path, dst: Path, options: OptimizeOptions) -> int:
    """Encode the frames (those from ``options.write_from`` on) into ``dst``; returns how many were written."""
    from vidstyle.io.audio import AudioCopy
    from vidstyle.io.encoder import EncoderSettings, VideoFileSink

    if options.write_from is not None:
        kept = [(f, im) for f, im in zip(frames, images) if f.time is None or f.time >= options.write_from - 1e-9]
        frames, images = [f for f, _ in kept], [im for _, im in kept]
        if not frames:
            raise InputError(f"no frames of {src} after {options.write_from:g} s")
    first = frames[0]
    pts_offset = options.pts_offset if options.pts_offset is not None else (first.pts or 0)
    offset_seconds = float(pts_offset * first.time_base)
    with atomic_output(dst) as tmp:
        audio = AudioCopy(src, start=options.start, end=options.end, shift=offset_seconds) if options.audio else None
        # No B-frames (x264 "ultrafast"): with frame reordering the MP4 edit list written by the sink can end
        # before the last displayed frame, which players then drop. A low CRF makes up for the fast preset.
        settings = EncoderSettings(preset="ultrafast", crf=16)
        sink = VideoFileSink(
            tmp, settings=settings, audio=audio if audio else None, pts_offset=pts_offset, display_path=dst
        )
        try:
            for frame, image in zip(frames, images):
                sink.write(frame.with_image(image))
            sink.close()
        except BaseException:
            sink.abort()
            raise
    return len(frames)


def optimize_frames(
    originals: list[np.ndarray],
    style_image: np.ndarray,
    options: OptimizeOptions,
    cache: FrameCache | None = None,
    progress: bool | ProgressCallback = False,
) -> tuple[list[np.ndarray], int, int]:
    """Optimise the (H, W, 3) uint8 frames ``originals`` (in order, at their render size) into stylized frames.

    cache: finished frames are saved there and read back instead of computed. progress: as for
    :func:`render_optimized_video`. Returns the frames of the last pass, and how many frame optimisations
    ran and how many came from the cache.
    """
    n = len(originals)
    h, w = originals[0].shape[:2]
    gatys = options.gatys.updated(size=options.size, steps=options.steps)
    if gatys.seed is not None:
        torch.manual_seed(gatys.seed)
    engine = GatysEngine(gatys)
    device = engine.device
    style_long = max(16, round(options.size * gatys.style_scale))
    style_tensor = to_tensor(np.array(resize_long_side(Image.fromarray(style_image), style_long)), device)
    first_targets = engine.targets(to_tensor(originals[0], device), [style_tensor])
    style_grams, style_norm = first_targets.style_grams, first_targets.style_norm

    flows = _FlowBank(originals, options.flow_preset, device)
    start_net = _init_stylizer(options.init_model, device)

    def fresh_start(i: int) -> torch.Tensor:
        """Frame i's start where no neighbour reaches: the init model's output, else the photo."""
        image = originals[i] if start_net is None else start_net.stylize(originals[i])
        return to_tensor(image, device)

    total_steps = sum(
        options.steps_for(p, k == 0) for p in range(options.passes) for k in range(n)
    )
    report = _Progress(progress, total_steps, options.passes, n)
    computed = cached = 0
    previous_pass: list[np.ndarray] | None = None

    for p in range(options.passes):
        forward = p % 2 == 0
        order = range(n) if forward else range(n - 1, -1, -1)
        direction = 1 if forward else -1
        current: list[np.ndarray | None] = [None] * n
        for k, i in enumerate(order):
            steps = options.steps_for(p, k == 0)
            hit = cache.load(p, i) if cache is not None else None
            if hit is not None and hit.shape[:2] == (h, w):
                current[i] = hit
                cached += 1
                report(p, i, steps, True, 0.0)
                continue
            t0 = time.perf_counter()
            content = to_tensor(originals[i], device)
            content_feats = engine.content_targets(content)
            targets = GatysTargets(
                content_feats,
                style_grams,
                normalisers(content_feats) if gatys.normalize_layers else {},
                style_norm,
            )
            # Neighbours already finished in this pass, nearest first, with their long-term masks.
            neighbours = [
                flows.warp_into(current[j], j, i)
                for j in (i - direction * dist for dist in options.distances)
                if 0 <= j < n and current[j] is not None
            ]
            masks = long_term_masks([mask for _, mask in neighbours])
            warped_terms = [(warped, mask) for (warped, _), mask in zip(neighbours, masks)]

            # warped_terms[0], when present, is the distance-1 neighbour: it was finished just before.
            if previous_pass is None:
                if not warped_terms:
                    init = fresh_start(i)
                elif start_net is None:
                    init = warped_terms[0][0]
                else:
                    nearest_warped, nearest_mask = warped_terms[0]
                    init = nearest_mask * nearest_warped + (1.0 - nearest_mask) * fresh_start(i)
            else:
                own = to_tensor(previous_pass[i], device)
                if warped_terms:
                    nearest_warped, nearest_mask = warped_terms[0]
                    weight = options.pass_blend * nearest_mask
                    init = weight * nearest_warped + (1.0 - weight) * own
                else:
                    init = own

            extra = None
            if warped_terms and options.temporal_weight > 0:
                gamma = options.temporal_weight

                def extra(image: torch.Tensor, _terms=warped_terms, _gamma=gamma) -> torch.Tensor:
                    total = image.new_zeros(())
                    for warped_j, mask_j in _terms:
                        total = total + temporal_loss(image, warped_j, mask_j)
                    return _gamma * total

            result = engine.optimize(init, targets, steps=steps, extra_loss=extra)
            image = to_uint8(result)
            if cache is not None:
                cache.save(p, i, image)
            current[i] = image
            computed += 1
            report(p, i, steps, False, time.perf_counter() - t0)
        previous_pass = [im for im in current]  # type: ignore[misc]

    assert previous_pass is not None
    return previous_pass, computed, cached


def render_optimized_video(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    style: StyleInput,
    options: OptimizeOptions | None = None,
    progress: bool | ProgressCallback = True,
    overwrite: bool = False,
) -> dict:
    """Render ``src`` into ``dst`` with the temporally consistent optimisation of Ruder et al. 2016.

    An existing ``dst`` is replaced only with ``overwrite`` (never ``src`` or the style image).

    style: a style image path or an (H, W, 3) uint8 RGB array.
    progress: True prints one line per frame (frames done, ETA) on stderr; a callable receives a
        :class:`FrameEvent` per frame instead (raising from it stops the render; the cache keeps what is done).

    Returns {"frames", "size", "computed", "cached", "seconds", "cache"}: the frames written, and how many
    frame optimisations ran and how many were read from the cache of an earlier, interrupted run.
    """
    options = options or OptimizeOptions()
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise InputError(f"file not found: {src}")
    check_output_path(dst, inputs=(src, style if isinstance(style, (str, os.PathLike)) else None), overwrite=overwrite)
    style_image = as_uint8_image(style, "style")

    frames = read_frames(src, options)
    key = cache_key(src, style_image, options)
    cache_root = Path(options.cache_dir) if options.cache_dir else default_cache_folder(dst)
    cache = FrameCache(cache_root / key)
    started = time.perf_counter()
    images, computed, cached = optimize_frames([f.image for f in frames], style_image, options, cache, progress)
    h, w = images[0].shape[:2]
    written = write_video(frames, images, src, dst, options)
    if not options.keep_cache:
        cache.remove()
    return {
        "frames": written,
        "size": [w, h],
        "computed": computed,
        "cached": cached,
        "seconds": time.perf_counter() - started,
        "cache": str(cache.folder),
    }

