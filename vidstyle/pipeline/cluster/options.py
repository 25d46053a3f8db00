"""Where a render runs (``--cluster``) and how it is cut into segments."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Optional

from vidstyle.errors import InputError
from vidstyle.utils import validate

# Segments per worker when the length is not given: enough to even out uneven segments and late starters.
SEGMENTS_PER_WORKER = 3
MIN_SEGMENT_FRAMES = 8
# --temporal optimize keeps whatever brush strokes its first frame chose, so two segments never agree at a
# join, however long a warm-up: instead the segments overlap by OPTIMIZE_FADE frames and are cross-faded there
# (docs/design.md), with no warm-up.
OPTIMIZE_WARMUP = 0
OPTIMIZE_FADE = 8
# --temporal smooth forgets its history geometrically (weight blend**k after k frames): warm up until what a
# segment cannot know weighs under half a grey level (1/510).
SMOOTH_RESIDUAL = 1.0 / 510.0
DEFAULT_SMOOTH_BLEND = 0.8


@dataclass
class ClusterOptions:
    """How a video render is spread over a Ray cluster.

    spec: "local:N" (a Ray instance on this machine with N workers), "ray://HOST:PORT" (a running cluster's
        client address), or "auto" (the cluster ``ray start`` runs on this machine).
    workers: how many workers (actors, each holding the networks); None: N for local:N, else one per GPU
        when the cluster has GPUs, else one per ``worker_cpus`` CPUs.
    worker_cpus: CPUs (and inference threads) per worker.
    segment_frames: frames per segment; None: about SEGMENTS_PER_WORKER segments per worker.
    warmup_frames: frames decoded and processed before each segment so temporal state is built up;
        None: 0 for none/trained, enough for smooth's history to fade, OPTIMIZE_WARMUP for optimize.
    fade_frames: frames cross-faded at each join of --temporal optimize; None: OPTIMIZE_FADE.
    cache_dir: where finished segments are kept; None: ``.NAME.cluster-cache`` beside the output.
    keep_cache: keep the finished segments after a complete render.
    retries: times a segment is tried again after its worker dies (Ray restarts the worker).
    """

    spec: str = "local:2"
    workers: Optional[int] = None
    worker_cpus: int = 1
    segment_frames: Optional[int] = None
    warmup_frames: Optional[int] = None
    fade_frames: Optional[int] = None
    cache_dir: Optional[str] = None
    keep_cache: bool = False
    retries: int = 3

    def __post_init__(self) -> None:
        self.kind, self.address, local_workers = parse_spec(self.spec)
        if self.workers is None:
            self.workers = local_workers
        self.workers = validate.optional_integer("--workers", self.workers, low=1, high=4096)
        self.worker_cpus = validate.integer("--worker-cpus", self.worker_cpus, low=1, high=1024)
        self.segment_frames = validate.optional_integer("--segment-frames", self.segment_frames, low=1)
        self.warmup_frames = validate.optional_integer("--warmup-frames", self.warmup_frames, low=0, high=10_000)
        self.fade_frames = validate.optional_integer("--fade-frames", self.fade_frames, low=0, high=10_000)
        self.retries = validate.integer("retries", self.retries, low=0, high=100)


_LOCAL = re.compile(r"local(?::(\d+))?$")


def parse_spec(spec: str) -> tuple[str, Optional[str], Optional[int]]:
    """("local", None, N) for local[:N], ("client", "ray://HOST:PORT", None), ("auto", "auto", None);
    InputError for anything else."""
    text = str(spec).strip()
    match = _LOCAL.match(text)
    if match:
        workers = int(match.group(1)) if match.group(1) else None
        if workers is not None and workers < 1:
            raise InputError(f"--cluster {text}: the number of local workers must be at least 1")
        return "local", None, workers
    if text == "auto":
        return "auto", "auto", None
    if re.match(r"ray://[^:/\s]+:\d+/?$", text):
        return "client", text.rstrip("/"), None
    raise InputError(f"--cluster {text!r}: use local:N, ray://HOST:PORT or auto")


def warmup_frames(temporal: str, smooth_blend: Optional[float], given: Optional[int]) -> int:
    """Frames processed before each segment's first frame for this temporal mode."""
    if given is not None:
        return given
    if temporal == "smooth":
        blend = DEFAULT_SMOOTH_BLEND if smooth_blend is None else smooth_blend
        return 0 if blend <= 0 else math.ceil(math.log(SMOOTH_RESIDUAL) / math.log(blend))
    if temporal == "optimize":
        return OPTIMIZE_WARMUP
    return 0
