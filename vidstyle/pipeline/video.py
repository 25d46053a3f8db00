"""``stylize_video``: a video file in, a stylized video file out, with its frames, timing and audio kept."""
from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from vidstyle.errors import InputError, ModelError, OutputError, VidstyleError
from vidstyle.io.audio import AudioCopy
from vidstyle.io.codecs import container_for, resolve_codec
from vidstyle.io.encoder import EncoderSettings, VideoFileSink
from vidstyle.io.file import FileSource, is_url, parse_size
from vidstyle.io.folder import ImageFolderSink
from vidstyle.models.registry import temporal_model
from vidstyle.pipeline.modes import TEMPORAL_MODES
from vidstyle.pipeline.runner import OrderedPipeline, PipelineStats
from vidstyle.runtime import create_stylizer
from vidstyle.runtime.base import Stylizer
from vidstyle.types import Frame
from vidstyle.utils import validate
from vidstyle.utils.device import resolve_device
from vidstyle.utils.files import atomic_output, check_output_path

# GPU file mode: frames per network call, and decoder/encoder threads (capped by the machine's cores).
GPU_BATCH = 8
GPU_CODEC_THREADS = 8
PostProcessor = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class VideoOptions:
    """Options of :func:`stylize_video` (the ``vidstyle video`` flags).

    backend, device, strength, threads, precision: passed to ``vidstyle.runtime.create_stylizer``
        (with any further ``runtime_options``).
    codec, crf, preset, encode_threads: the output encoder (see ``vidstyle.io.encoder``).
    long_side / size: process (and write) at another resolution; size is (width, height) or "WxH".
    start / end: cut, in seconds of the input. audio: copy the input's audio.
    keep_partial: on Ctrl-C or an error, finish and keep a playable file of what was done.
    strict: stop at the first damaged packet of the input (InputError) instead of skipping it, as FFmpeg does
        by default: undecodable packets are skipped with a warning (counted in the result) and a file that
        ends in damaged or missing data is stylized up to there.
    overwrite: replace an existing output (never the input).
    temporal: none | smooth (flow-guided blending after the network, strength ``smooth_blend``)
        | trained (the model's temporal variant) | optimize (offline optimisation, needs ``style``).
    post: an extra ``post(original, stylized) -> stylized`` hook run after the stylizer.
    progress: show a progress bar on stderr.
    batch_size: frames per network call (None: 1 on the CPU, where batching gains nothing, and
        GPU_BATCH on CUDA). On CUDA the decoder and encoder also get GPU_CODEC_THREADS threads each,
        since the CPU cores are free for them there.
    cluster: render on a Ray cluster (``vidstyle.pipeline.cluster``): "local:N", "ray://HOST:PORT", "auto",
        or a ``ClusterOptions``; the output is the same file a single-process render writes.
    Used by the cluster's segments (one render of a part of the timeline):
    write_from: frames before this input time (seconds) are processed, so temporal state builds up
        (warm-up), but not written. pts_offset: subtract this from every timestamp instead of the first kept
        frame's (a segment keeps the whole render's timeline). on_frame: called after each frame processed.
    """

    backend: str = "auto"
    device: str = "auto"
    strength: float = 1.0
    threads: Optional[int] = None
    precision: str = "auto"
    codec: str = "auto"
    crf: Optional[int] = None
    preset: Optional[str] = None
    encode_threads: int = 1
    decode_threads: int = 1
    long_side: Optional[int] = None
    size: Optional[Any] = None
    start: Optional[float] = None
    end: Optional[float] = None
    audio: bool = True
    keep_partial: bool = False
    overwrite: bool = False
    temporal: str = "none"
    smooth_blend: Optional[float] = None
    style: Optional[str] = None
    long_term: Optional[list[int]] = None
    passes: Optional[int] = None
    steps: Optional[int] = None
    post: Optional[PostProcessor] = None
    progress: bool = True
    queue_size: int = 8
    batch_size: Optional[int] = None
    runtime_options: dict = field(default_factory=dict)
    strict: bool = False
    cluster: Optional[Any] = None
    write_from: Optional[float] = None
    pts_offset: Optional[int] = None
    on_frame: Optional[Callable[[], None]] = None


@dataclass
class VideoResult:
    """What :func:`stylize_video` wrote."""

    output: Path
    frames_in: int
    frames_out: int
    seconds: float
    fps: float
    model_fps: float
    width: int
    height: int
    audio_streams: int = 0
    audio_transcoded: bool = False
    cropped_to_even: bool = False
    interrupted: bool = False
    packets_skipped: int = 0  # undecodable input packets left out (their frames are missing)
    ended_early: Optional[str] = None  # why the input stopped before its end (damaged or cut-short data)
    cluster: Optional[dict] = None  # with --cluster: workers, segments (where each ran), resumed segments


def _options(options: dict) -> VideoOptions:
    known = {f.name for f in dataclasses.fields(VideoOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown stylize_video options: {', '.join(unknown)}")
    opts = VideoOptions(**options)
    if opts.temporal not in TEMPORAL_MODES:
        raise InputError(f"unknown --temporal {opts.temporal!r}: use one of {', '.join(TEMPORAL_MODES)}")
    if isinstance(opts.size, str):
        opts.size = parse_size(opts.size)
    if opts.size is not None and opts.long_side is not None:
        raise InputError("give --size or --long-side, not both")
    validate_video_options(opts)
    return opts


def validate_video_options(opts: VideoOptions) -> None:
    """InputError for any option outside its range (NaN, negative, absurd sizes), before any work."""
    opts.strength = validate.finite("--strength", opts.strength, 0.0, 1.0)
    opts.threads = validate.threads(opts.threads)
    opts.crf = validate.optional_integer("--crf", opts.crf, low=0, high=63)
    opts.long_side = validate.optional_integer("--long-side", opts.long_side, low=1, high=validate.MAX_SIDE)
    if opts.size is not None:
        opts.size = validate.frame_size("--size", *opts.size)
    opts.start = validate.optional_finite("--start", opts.start, low=0.0)
    opts.end = validate.optional_finite("--end", opts.end, low=0.0, low_open=True)
    if opts.start is not None and opts.end is not None and opts.end <= opts.start:
        raise InputError(f"--end ({opts.end:g}) must be after --start ({opts.start:g})")
    opts.smooth_blend = validate.optional_finite("--smooth-blend", opts.smooth_blend, low=0.0, high=1.0, high_open=True)
    opts.passes = validate.optional_integer("--passes", opts.passes, low=1, high=100)
    opts.steps = validate.optional_integer("--steps", opts.steps, low=0)
    opts.batch_size = validate.optional_integer("--batch", opts.batch_size, low=1, high=256)
    opts.queue_size = validate.integer("queue_size", opts.queue_size, low=1)
    opts.encode_threads = validate.threads(opts.encode_threads, "encode_threads")
    opts.decode_threads = validate.threads(opts.decode_threads, "decode_threads")


def make_stylizer(model: Any, opts: VideoOptions) -> Stylizer:
    """A Stylizer for ``model``: used as is when it already is one, else built by the runtime."""
    if isinstance(model, Stylizer):
        return model
    return create_stylizer(
        model, backend=opts.backend, device=opts.device, threads=opts.threads, strength=opts.strength,
        **{"precision": opts.precision, **opts.runtime_options},
    )


def _smooth_post(opts: VideoOptions) -> PostProcessor:
    from vidstyle.flow.stabilize import FlowStabilizer  # imported on use: most renders do not need it

    return FlowStabilizer() if opts.smooth_blend is None else FlowStabilizer(blend=opts.smooth_blend)


def optimize_options(opts: VideoOptions, model: Any = None) -> Any:
    """The ``OptimizeOptions`` of --temporal optimize for these video options (InputError when they do not fit).

    model: a feed-forward model (name or path) that starts each frame (``OptimizeOptions.init_model``), or None.
    """
    from vidstyle.temporal.optimize import OptimizeOptions  # imported on use: VGG19 and more

    if not opts.style:
        raise InputError("--temporal optimize needs --style STYLE_IMAGE")
    if opts.size is not None:
        raise InputError("--temporal optimize takes --long-side, not --size")
    wanted = {
        "long_term": tuple(opts.long_term) if opts.long_term else None,
        "passes": opts.passes,
        "steps": opts.steps,
        "size": opts.long_side,  # the optimiser renders at a long side, not an exact size
        "start": opts.start,
        "end": opts.end,
        "audio": opts.audio,
        "write_from": opts.write_from,
        "pts_offset": opts.pts_offset,
        "init_model": _model_reference(model),
    }
    return OptimizeOptions(**{k: v for k, v in wanted.items() if v is not None})


def _model_reference(model: Any) -> Optional[str]:
    """A model name or path as the optimiser takes it; None for no model."""
    if model is None:
        return None
    if not isinstance(model, (str, os.PathLike)):
        raise InputError("--temporal optimize takes a model name or a .safetensors file to start from")
    return str(model)


def _render_optimized(src: Path, dst: Path, model: Any, opts: VideoOptions) -> VideoResult:
    from vidstyle.temporal.optimize import render_optimized_video  # imported on use: VGG19 and more

    settings = optimize_options(opts, model)
    progress: Any = opts.progress
    if opts.on_frame is not None:
        on_frame = opts.on_frame

        def progress(_event: Any) -> None:
            on_frame()
    report = render_optimized_video(src, dst, opts.style, settings, progress=progress,
                                    overwrite=opts.overwrite) or {}
    frames = int(report.get("frames", 0))
    seconds = float(report.get("seconds", 0.0))
    width, height = (report.get("size") or [0, 0])[:2]
    return VideoResult(
        output=dst, frames_in=frames, frames_out=frames, seconds=seconds,
        fps=frames / seconds if seconds else 0.0, model_fps=0.0, width=int(width), height=int(height),
    )


def _runs_on_gpu(model: Any, opts: VideoOptions) -> bool:
    if isinstance(model, Stylizer):
        device = getattr(model, "device", None)
        return getattr(device, "type", None) == "cuda"
    try:
        return resolve_device(opts.device).type == "cuda"
    except VidstyleError:
        return False  # create_stylizer reports the bad device with its own message


def _use_gpu_file_mode(opts: VideoOptions) -> None:
    """Batch frames for the GPU and give decoding and encoding the CPU cores the network does not need."""
    codec_threads = max(1, min(GPU_CODEC_THREADS, (os.cpu_count() or 2) // 2))
    if opts.batch_size is None:
        opts.batch_size = int(opts.runtime_options.get("batch_size", GPU_BATCH))
    opts.runtime_options.setdefault("batch_size", opts.batch_size)
    opts.decode_threads = max(opts.decode_threads, codec_threads)
    opts.encode_threads = max(opts.encode_threads, codec_threads)
    opts.queue_size = max(opts.queue_size, 2 * opts.batch_size)


def _progress_bar(total: Optional[int], enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="frame", desc="stylizing", file=sys.stderr, dynamic_ncols=True, smoothing=0.1)


def stylize_video(src: str | os.PathLike, dst: str | os.PathLike, model: Any, **options: Any) -> VideoResult:
    """Stylize every frame of the video ``src`` with ``model`` and write ``dst``.

    model: a registry name, a ``.safetensors`` path, a loaded model or a ready :class:`Stylizer`. With
        ``temporal="optimize"``: a name or path whose output starts each frame's optimisation, or None to
        start from the photo.
    dst: .mp4/.mkv/.webm/.mov (encoded, audio copied), or a folder path without extension
        (one PNG per frame). options: see :class:`VideoOptions`.

    Frames keep their timestamps (variable frame rate too) and order; none is dropped or
    duplicated. The output appears under its final name only when complete (or, with
    ``keep_partial``, when stopped but playable). Raises InputError/OutputError/ModelError
    for bad input; KeyboardInterrupt propagates after the cleanup.
    """
    opts = _options(options)
    # A URL stays a string: Path would collapse its "//".
    src_path: Any = str(src) if is_url(src) else Path(src)
    dst_path = Path(dst)
    is_folder_output = dst_path.suffix == ""
    if not is_folder_output:
        container_for(dst_path)  # an unsupported extension fails before any work
        resolve_codec(dst_path, opts.codec)
    check_output_path(dst_path, inputs=(src_path, opts.style), overwrite=opts.overwrite, folder=is_folder_output)

    if opts.cluster is not None:
        from vidstyle.pipeline.cluster import render_on_cluster  # imported on use: Ray is optional

        return render_on_cluster(src_path, dst_path, model, opts)
    if opts.temporal == "optimize":
        if is_url(src_path) or not src_path.exists():
            raise InputError(f"file not found: {src_path} (--temporal optimize reads a local file)")
        return _render_optimized(src_path, dst_path, model, opts)

    on_gpu = _runs_on_gpu(model, opts)
    if on_gpu:
        _use_gpu_file_mode(opts)
    elif opts.batch_size is None:
        opts.batch_size = 1
    source = FileSource(
        src_path, size=opts.size, long_side=opts.long_side, start=opts.start, end=opts.end,
        threads=opts.decode_threads, strict=opts.strict, on_warning=_warn,
    )
    try:
        if opts.temporal == "trained":
            model = temporal_model(model)
        stylizer = make_stylizer(model, opts)
        post = opts.post
        if opts.temporal == "smooth":
            post = _smooth_post(opts)
        try:
            _fit_frames_in_memory(source.info.width, source.info.height, stylizer, opts)
            return _run(source, stylizer, post, src_path, dst_path, opts, is_folder_output)
        finally:
            if stylizer is not model:
                stylizer.close()
    finally:
        source.close()


# Frames held besides the two queues and a batch: the source's and the encoder's own, the one being written.
FRAMES_IN_FLIGHT = 4
# Bytes per pixel of --temporal smooth: optical flow both ways, its warps and masks (float32).
SMOOTH_BYTES_PER_PIXEL = 64


def _fit_frames_in_memory(width: int, height: int, stylizer: Stylizer, opts: VideoOptions) -> None:
    """Shorten the queues for very large frames, then refuse (naming the limit) a render that would still need
    more memory than allowed: decoded and stylized frames in flight, the network's call, the flow blending."""
    limit = validate.memory_limit()
    frame = width * height * 3
    # The queues may take a quarter of the limit; two frames each at least.
    opts.queue_size = max(2, min(opts.queue_size, int(limit / 4 / (2 * frame))))
    needed = (frame * (2 * opts.queue_size + opts.batch_size + FRAMES_IN_FLIGHT)
              + stylizer.peak_bytes(height, width, opts.batch_size)
              + (width * height * SMOOTH_BYTES_PER_PIXEL if opts.temporal == "smooth" else 0))
    validate.check_memory(needed, f"stylizing {width}x{height} frames",
                          "use --long-side or --size to process them smaller")


def _warn(message: str) -> None:
    print(f"vidstyle: warning: {message}", file=sys.stderr)


def _process_function(stylizer: Stylizer, post: Optional[PostProcessor]) -> Callable[[list[Frame]], list[Frame]]:
    def process(frames: list[Frame]) -> list[Frame]:
        images = [f.image for f in frames]
        stylized = stylizer.stylize_batch(images) if len(images) > 1 else [stylizer.stylize(images[0])]
        if post is not None:
            stylized = [post(original, styled) for original, styled in zip(images, stylized)]
        return [f.with_image(image) for f, image in zip(frames, stylized)]

    return process


def _writer(sink: Any, write_from: Optional[float]) -> Callable[[Frame], None]:
    """The sink's write, leaving out the warm-up frames before ``write_from`` (seconds of input time)."""
    if write_from is None:
        return sink.write

    def write(frame: Frame) -> None:
        if frame.time is None or frame.time >= write_from - 1e-9:
            sink.write(frame)

    return write


def _frame_callback(bar: Any, on_frame: Optional[Callable[[], None]]) -> Optional[Callable[[Frame], None]]:
    if bar is None and on_frame is None:
        return None

    def after_frame(_frame: Frame) -> None:
        if bar is not None:
            bar.update(1)
        if on_frame is not None:
            on_frame()

    return after_frame


def _run(
    source: FileSource,
    stylizer: Stylizer,
    post: Optional[PostProcessor],
    src_path: Path,
    dst_path: Path,
    opts: VideoOptions,
    is_folder_output: bool,
) -> VideoResult:
    info = source.info
    # With a cut the output starts at 0: shift video and audio by the first kept frame's time.
    cut = opts.start is not None
    pts_offset = opts.pts_offset if opts.pts_offset is not None else (source.first_pts if cut else 0)
    shift = float(pts_offset * source.time_base)

    bar = _progress_bar(info.frame_count, opts.progress)
    interrupted = False
    # The partial output gets the final name only once it is finished and playable (never on a full disk).
    finished_partial: list[bool] = []
    with atomic_output(dst_path, keep_partial=lambda: bool(finished_partial)) as tmp:
        audio = None
        if opts.audio and info.has_audio and not is_folder_output:
            audio = AudioCopy(src_path, start=opts.start, end=opts.end, shift=shift)
        if is_folder_output:
            sink = ImageFolderSink(tmp)
        else:
            settings = EncoderSettings(codec=opts.codec, crf=opts.crf, preset=opts.preset, threads=opts.encode_threads)
            sink = VideoFileSink(
                tmp, fps=info.fps, settings=settings, audio=audio, pts_offset=pts_offset, display_path=dst_path
            )
        pipeline = OrderedPipeline(
            source, _process_function(stylizer, post), _writer(sink, opts.write_from), queue_size=opts.queue_size,
            batch_size=opts.batch_size, on_frame=_frame_callback(bar, opts.on_frame),
        )
        try:
            stats = pipeline.run()
        except BaseException as exc:
            interrupted = isinstance(exc, KeyboardInterrupt)
            if opts.keep_partial:
                try:
                    for frame in pipeline.drain():  # stylized already: keep them too
                        sink.write(frame)
                        if bar is not None:
                            bar.update(1)
                except Exception:  # noqa: BLE001 - the sink itself failed; keep what it has
                    pass
            if bar is not None:
                bar.close()
            if opts.keep_partial and sink.frames_written > 0:
                try:
                    sink.close(audio_until_video_end=True)  # playable file of what was done
                except BaseException:
                    sink.abort()
                    print(f"vidstyle: the partial output could not be finished; nothing kept at {dst_path}",
                          file=sys.stderr)
                    raise
                finished_partial.append(True)
                print(f"vidstyle: kept {sink.frames_written} frames in {dst_path}", file=sys.stderr)
            else:
                sink.abort()
            raise
        sink.close()
        if bar is not None:
            bar.total = bar.n  # the header's count is an estimate (mkv: often one more than decodes)
            bar.refresh()
            bar.close()
        if stats.frames_out == 0:
            raise InputError(f"no frames decoded from {src_path}")
        warm_up = stats.frames_out - getattr(sink, "frames_written", stats.frames_out) if opts.write_from is not None else 0
    return VideoResult(
        output=dst_path,
        frames_in=stats.frames_in - warm_up,
        frames_out=stats.frames_out - warm_up,
        seconds=stats.seconds,
        fps=stats.fps,
        model_fps=stats.process_fps,
        width=info.width,
        height=info.height,
        audio_streams=len(audio.streams) if audio else 0,
        audio_transcoded=bool(audio and audio.transcoded),
        cropped_to_even=getattr(sink, "cropped", False),
        interrupted=interrupted,
        packets_skipped=source.skipped_packets,
        ended_early=source.stopped_short(),
    )


__all__ = ["stylize_video", "VideoOptions", "VideoResult", "PipelineStats", "make_stylizer", "optimize_options"]
