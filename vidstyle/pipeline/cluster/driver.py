"""``stylize_video`` on a Ray cluster: plan segments, render them on workers, join them, keep what is done.

The caller's process plans the segments at keyframes (:mod:`.plan`), starts one actor per worker
(:class:`.worker.SegmentWorker`, which holds the networks), hands each idle worker the next segment and
writes every finished segment into a cache folder beside the output. When all are there it joins them by
stream copy and remuxes the input's audio (:mod:`.join`) into the output, under a temporary name renamed when
complete, then removes the cache. A worker that dies is restarted by Ray and its segment tried again;
Ctrl-C kills the workers and leaves the finished segments for the next run of the same command.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import signal
import socket
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import urlparse

import numpy as np

from vidstyle import __version__
from vidstyle.errors import InputError, OutputError, VidstyleError
from vidstyle.io.audio import AudioCopy
from vidstyle.io.file import is_url
from vidstyle.models.registry import find_model, temporal_model
from vidstyle.pipeline.cluster.join import join_segments
from vidstyle.pipeline.cluster.options import (
    MIN_SEGMENT_FRAMES,
    OPTIMIZE_FADE,
    SEGMENTS_PER_WORKER,
    ClusterOptions,
    warmup_frames,
)
from vidstyle.pipeline.cluster.plan import Plan, Segment, plan_segments
from vidstyle.pipeline.cluster.worker import ProgressBoard, SegmentWorker, ShippedFile
from vidstyle.utils.files import atomic_output
from vidstyle.utils.hashing import file_sha256

INSTALL_HINT = "pip install 'vidstyle[cluster]'"
# Seconds to wait for a ray:// address to answer before saying it cannot be reached.
CONNECT_TIMEOUT = 5.0
# Options of stylize_video that every segment's render shares (the rest are the segment's or the caller's).
SEGMENT_OPTIONS = ("backend", "device", "strength", "precision", "codec", "crf", "preset", "long_side", "size",
                   "temporal", "smooth_blend", "long_term", "passes", "steps", "runtime_options", "strict",
                   "batch_size", "threads")


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError(f"--cluster needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def cluster_options(value: Any) -> ClusterOptions:
    return value if isinstance(value, ClusterOptions) else ClusterOptions(spec=str(value))


@contextlib.contextmanager
def connect(cluster: ClusterOptions) -> Iterator[Any]:
    """Ray, initialised for ``cluster``: a new local instance (shut down on exit), a ray:// client or the
    running cluster ``auto`` finds. A Ray already initialised in this process is used as it is."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    # ray.init installs its own SIGTERM handler (it exits); keep the caller's (vidstyle's: SIGTERM acts as Ctrl-C).
    own_sigterm = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    try:
        if cluster.kind == "local":
            ray.init(num_cpus=cluster.workers * cluster.worker_cpus if cluster.workers else None,
                     include_dashboard=False, **quiet)
        elif cluster.kind == "client":
            _check_reachable(cluster.address)
            ray.init(address=cluster.address, **quiet)
        else:
            ray.init(address="auto", **quiet)
    except VidstyleError:
        raise
    except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, grpc errors ...
        where = "a Ray cluster on this machine (start one with `ray start --head`)" if cluster.kind == "auto" \
            else cluster.address or "a local Ray instance"
        raise InputError(f"cannot connect to {where}: {_first_line(exc)}") from None
    if own_sigterm is not None:
        signal.signal(signal.SIGTERM, own_sigterm)
    try:
        yield ray
    finally:
        ray.shutdown()


def _check_reachable(address: str) -> None:
    parsed = urlparse(address)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise InputError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _model_file(model: Any, temporal: str) -> Optional[Path]:
    """The model file the workers load (the temporal variant for --temporal trained); for optimize, the
    model that starts each frame, None when there is none."""
    if temporal == "optimize" and model is None:
        return None
    if not isinstance(model, (str, Path)):
        raise InputError("--cluster takes a model name or a .safetensors file (workers load it themselves)")
    if temporal == "trained":
        variant = temporal_model(model)
        return find_model(variant if isinstance(variant, (str, Path)) else model)
    return find_model(model)


def _ship(ray: Any, path: Path, share: bool) -> ShippedFile:
    """``path`` as workers get it: by path on this machine, and as Ray-stored bytes when ``share``."""
    path = path.resolve()
    ref = [ray.put(path.read_bytes())] if share else None
    return ShippedFile(name=path.name, sha256=file_sha256(path), size=path.stat().st_size, path=str(path), ref=ref)


def _workers_may_be_elsewhere(ray: Any) -> bool:
    """True when a worker may not see this machine's files: a ray:// client, or more than one node."""
    with contextlib.suppress(Exception):
        if ray.util.client.ray.is_connected():
            return True
    return sum(1 for node in ray.nodes() if node.get("Alive")) > 1


def _resources(ray: Any, cluster: ClusterOptions, device: str) -> tuple[int, dict]:
    """How many workers to start and the Ray resources each asks for."""
    total = ray.cluster_resources()
    gpus = float(total.get("GPU", 0)) if device != "cpu" else 0.0
    cpus = float(total.get("CPU", 1))
    if cluster.workers is not None:
        workers = cluster.workers
    elif gpus >= 1:
        workers = int(gpus)
    else:
        workers = max(1, int(cpus // cluster.worker_cpus))
    need: dict[str, Any] = {"num_cpus": cluster.worker_cpus}
    if gpus:
        need["num_gpus"] = min(1.0, gpus / workers)
    return workers, need


def _render_key(sources: list[Optional[ShippedFile]], opts: Any, warmup: int, fade: int) -> str:
    h = hashlib.sha256()
    for shipped in sources:
        h.update((shipped.sha256 if shipped else "-").encode())
    settings = {name: getattr(opts, name) for name in SEGMENT_OPTIONS if name != "threads"}
    settings.update(start=opts.start, end=opts.end, warmup=warmup, fade=fade, version=__version__)
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


class SegmentCache:
    """Finished segments of one render: ``NAME.SUFFIX`` (the encoded video) and ``NAME.json`` (what it holds)."""

    def __init__(self, folder: Path, suffix: str) -> None:
        self.folder, self.suffix = folder, suffix
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the segment cache {folder}: {exc.strerror or exc}") from None

    def video(self, segment: Segment) -> Path:
        return self.folder / f"{segment.name}{self.suffix}"

    def load(self, segment: Segment) -> Optional[dict]:
        meta = self.folder / f"{segment.name}.json"
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(meta.read_text())
            if self.video(segment).stat().st_size == info["bytes"] and (
                    not (segment.fade or segment.tail) or self.fades(segment).is_file()):
                return info
        return None

    def fades(self, segment: Segment) -> Path:
        return self.folder / f"{segment.name}.fades.npz"

    def save(self, segment: Segment, result: dict) -> dict:
        data = result.pop("data")
        head, tail = result.pop("head", None), result.pop("tail", None)
        with atomic_output(self.video(segment)) as tmp:
            tmp.write_bytes(data)
        if head or tail:  # --temporal optimize: the frames cross-faded with the neighbours'
            with atomic_output(self.fades(segment)) as tmp, open(tmp, "wb") as f:
                np.savez(f, head=np.array(head or [], dtype=np.uint8), tail=np.array(tail or [], dtype=np.uint8))
        info = {**result, "bytes": len(data)}
        with atomic_output(self.folder / f"{segment.name}.json") as tmp:
            tmp.write_text(json.dumps(info))
        return info

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.folder.parent.rmdir()  # only when empty: other renders may keep theirs there


def default_cache_folder(dst: Path) -> Path:
    return dst.parent / f".{dst.name}.cluster-cache"


def render_on_cluster(src: Any, dst: Path, model: Any, opts: Any) -> Any:
    """Render ``src`` into ``dst`` as ``stylize_video`` does, split into segments over a Ray cluster.

    opts: the caller's ``VideoOptions`` (``opts.cluster``: a spec string or :class:`ClusterOptions`).
    The output has the frames, timestamps and audio of a single-process render; with --temporal none its
    pixels are the same too. Returns a ``VideoResult`` whose ``cluster`` entry says where segments ran.
    """
    from vidstyle.pipeline.video import VideoResult

    cluster = cluster_options(opts.cluster)
    if is_url(src):
        raise InputError("--cluster reads a local file (workers are sent its bytes), not a URL")
    src = Path(src)
    if not src.is_file():
        raise InputError(f"file not found: {src}")
    if dst.suffix == "":
        raise InputError("--cluster writes a video file (.mp4, .mkv, .webm, .mov), not a folder of frames")
    if opts.keep_partial:
        raise InputError("--keep-partial does not apply to --cluster: finished segments are kept for a re-run")
    if opts.post is not None:
        raise InputError("--cluster runs no post-processing hook (workers run vidstyle's own code only)")
    if opts.temporal == "optimize":
        if not opts.style:
            raise InputError("--temporal optimize needs --style STYLE_IMAGE")
        if opts.size is not None:
            raise InputError("--temporal optimize takes --long-side, not --size")
    model_path = _model_file(model, opts.temporal)
    warmup = warmup_frames(opts.temporal, opts.smooth_blend, cluster.warmup_frames)
    started = time.perf_counter()

    with connect(cluster) as ray:
        share = _workers_may_be_elsewhere(ray)
        source = _ship(ray, src, share)
        model_file = _ship(ray, model_path, True) if model_path is not None else None
        style_file = _ship(ray, Path(opts.style), True) if opts.temporal == "optimize" else None
        workers, need = _resources(ray, cluster, opts.device)
        fade = (OPTIMIZE_FADE if cluster.fade_frames is None else cluster.fade_frames) \
            if opts.temporal == "optimize" else 0
        plan = plan_segments(src, cluster.segment_frames, warmup, opts.start, opts.end,
                             segments=workers * SEGMENTS_PER_WORKER,
                             min_frames=max(MIN_SEGMENT_FRAMES, warmup, 2 * fade), fade=fade)
        key = _render_key([source, model_file, style_file], opts, warmup, fade)
        cache_root = Path(cluster.cache_dir) if cluster.cache_dir else default_cache_folder(dst)
        cache = SegmentCache(cache_root / key, dst.suffix)
        # The whole render's timeline: shifted to start at 0 when cut (and always by optimize), like a single run.
        cut = opts.start is not None or opts.temporal == "optimize"
        pts_offset = plan.first_pts if cut else 0
        segment_options = {name: getattr(opts, name) for name in SEGMENT_OPTIONS}
        segment_options["threads"] = opts.threads or cluster.worker_cpus
        segment_options["encode_threads"] = segment_options["decode_threads"] = 1
        if opts.temporal == "trained":
            segment_options["temporal"] = "none"  # the workers load the temporal variant itself
        done = {s.index: info for s in plan.segments if (info := cache.load(s)) is not None}
        resumed = len(done)
        _Scheduler(ray, plan, cache, done, workers, need, cluster, opts.progress).run(
            model_file, style_file, segment_options, source, pts_offset, dst.suffix)

        audio = None
        if opts.audio and _has_audio(src):
            shift = float(pts_offset * plan.time_base)
            audio = AudioCopy(src, start=opts.start, end=opts.end, shift=shift)
        parts = _parts(plan, cache, src, opts, pts_offset)
        with atomic_output(dst) as tmp:
            join_segments(parts, tmp, audio=audio, display_path=dst)
        if not cluster.keep_cache:
            cache.remove()

    infos = [done[s.index] for s in plan.segments]
    frames = sum(int(i["frames"]) for i in infos)
    seconds = time.perf_counter() - started
    nodes = {node: k for k, node in enumerate(dict.fromkeys(i["node"] for i in infos))}
    return VideoResult(
        output=dst, frames_in=frames, frames_out=frames, seconds=seconds, fps=frames / seconds if seconds else 0.0,
        model_fps=0.0, width=int(infos[0]["width"]), height=int(infos[0]["height"]),
        audio_streams=len(audio.streams) if audio else 0, audio_transcoded=bool(audio and audio.transcoded),
        cropped_to_even=bool(infos[0].get("cropped_to_even")),
        packets_skipped=sum(int(i.get("packets_skipped", 0)) for i in infos),
        cluster={
            "workers": workers, "nodes": len(nodes), "warmup": warmup, "resumed": resumed,
            "keyframes": plan.keyframes, "cache": str(cache.folder),
            "segments": [{**s.to_dict(), "node": nodes[done[s.index]["node"]], "pid": done[s.index]["pid"],
                          "seconds": done[s.index]["seconds"]} for s in plan.segments],
        },
    )


def _parts(plan: Plan, cache: SegmentCache, src: Path, opts: Any, pts_offset: int) -> list[Path]:
    """The files to join, in order: each segment's own, preceded by its cross-fade with the one before when it
    has one (the previous segment's tail blended linearly into its head, encoded here like a segment)."""
    parts = []
    for previous, segment in zip([None, *plan.segments], plan.segments):
        if segment.fade and previous is not None:
            with np.load(cache.fades(previous)) as before, np.load(cache.fades(segment)) as after:
                tail, head = before["tail"].astype(np.float32), after["head"].astype(np.float32)
            weights = [(j + 1) / (segment.fade + 1) for j in range(segment.fade)]
            images = [np.clip(np.rint((1 - w) * a + w * b), 0, 255).astype(np.uint8)
                      for w, a, b in zip(weights, tail, head)]
            parts.append(_encode_fade(plan, segment, images, src, cache, opts, pts_offset))
        parts.append(cache.video(segment))
    return parts


def _encode_fade(plan: Plan, segment: Segment, images: list, src: Path, cache: SegmentCache, opts: Any,
                 pts_offset: int) -> Path:
    import dataclasses

    from vidstyle.pipeline.video import optimize_options
    from vidstyle.temporal.optimize import write_video
    from vidstyle.types import Frame

    settings = optimize_options(dataclasses.replace(opts, audio=False, pts_offset=pts_offset, write_from=None,
                                                    cluster=None))
    frames = [Frame(image=image, pts=plan.pts[segment.first + j], time_base=plan.time_base, index=segment.first + j)
              for j, image in enumerate(images)]
    out = cache.folder / f"{segment.name}.fade{cache.suffix}"
    write_video(frames, images, src, out, settings)
    return out


def _has_audio(path: Path) -> bool:
    import av

    with av.open(str(path)) as container:
        return bool(container.streams.audio)


class _Scheduler:
    """Hands segments to idle workers, collects them into the cache and shows one progress bar."""

    def __init__(self, ray: Any, plan: Plan, cache: SegmentCache, done: dict, workers: int, need: dict,
                 cluster: ClusterOptions, progress: bool) -> None:
        self.ray, self.plan, self.cache, self.done = ray, plan, cache, done
        self.workers, self.need, self.cluster = workers, need, cluster
        passes = 1
        self.units = {s.index: (s.frames + s.warmup + s.tail) * passes for s in plan.segments}
        self.bar = None
        if progress:
            from tqdm import tqdm

            self.bar = tqdm(total=plan.frames, unit="frame", desc=f"stylizing on {workers} workers",
                            file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

    def run(self, model_file, style_file, options: dict, source: ShippedFile, pts_offset: int, suffix: str) -> None:
        ray = self.ray
        pending = deque(s for s in self.plan.segments if s.index not in self.done)
        if options.get("temporal") == "optimize" and options.get("passes"):
            self.units = {k: v * int(options["passes"]) for k, v in self.units.items()}
        self._show({})
        if not pending:
            self._close()
            return
        actor_class = ray.remote(SegmentWorker).options(
            max_restarts=self.cluster.retries, max_task_retries=self.cluster.retries, **self.need)
        board = ray.remote(ProgressBoard).options(num_cpus=0).remote()
        actors = [actor_class.remote(options)
                  for _ in range(min(self.workers, len(pending)))]
        idle = list(actors)
        running: dict[Any, tuple[Any, Segment]] = {}
        attempts: dict[int, int] = {}
        try:
            while pending or running:
                while pending and idle:
                    actor, segment = idle.pop(), pending.popleft()
                    ref = actor.render.remote(segment.to_dict(), source, model_file, style_file, pts_offset, suffix, board)
                    running[ref] = (actor, segment)
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
                for ref in ready:
                    actor, segment = running.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        cause = getattr(exc, "cause", None)
                        if isinstance(cause, VidstyleError):
                            raise cause from None
                        raise
                    except ray.exceptions.RayActorError as exc:
                        # Ray's own restarts and retries are spent: this worker is gone; others carry on.
                        attempts[segment.index] = attempts.get(segment.index, 0) + 1
                        if attempts[segment.index] > self.cluster.retries or len(actors) == 1:
                            raise VidstyleError(f"segment {segment.index + 1} failed on every try; the last "
                                                f"worker error: {_first_line(exc)}") from None
                        actors.remove(actor)
                        with contextlib.suppress(Exception):
                            ray.kill(actor, no_restart=True)
                        pending.appendleft(segment)
                        continue
                    self.done[segment.index] = self.cache.save(segment, result)
                    idle.append(actor)
                self._show(ray.get(board.snapshot.remote()))
        finally:
            for actor in [*actors, board]:
                with contextlib.suppress(Exception):
                    ray.kill(actor, no_restart=True)
            self._close()

    def _show(self, reports: dict) -> None:
        if self.bar is None:
            return
        frames = 0.0
        for s in self.plan.segments:
            if s.index in self.done:
                frames += s.frames
            elif s.index in reports:
                frames += s.frames * min(1.0, reports[s.index] / max(1, self.units[s.index]))
        self.bar.n = int(frames)
        self.bar.refresh()

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
