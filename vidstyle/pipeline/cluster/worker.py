"""What runs on the cluster's workers: an actor that holds the networks and renders segments.

Nothing here is pickled code from the caller: Ray imports this module on every worker (vidstyle must be
installed there), and the files a render needs (the model, the style image, the input video when the worker
cannot read the caller's copy) travel as bytes named by their sha256.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from vidstyle.errors import InputError
from vidstyle.utils.files import atomic_output
from vidstyle.utils.hashing import file_sha256

# Seconds between a worker's progress reports.
REPORT_EVERY = 0.5


@dataclass(frozen=True)
class ShippedFile:
    """A file a render needs: the caller's path (used when the worker sees the same bytes there) and, when
    the worker may not, ``ref``: a one-element list holding the Ray object of its bytes (in a list, so Ray
    hands the reference to the task instead of fetching the bytes before it is needed)."""

    name: str
    sha256: str
    size: int
    path: str
    ref: Optional[list] = None


class FileStore:
    """Turns ShippedFiles into local paths on a worker: the caller's own path when it holds the same bytes,
    else the shipped bytes written once into a folder of files named by their hash."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.gettempdir()) / "vidstyle-cluster" / "files"
        self._checked: dict[tuple, str] = {}

    def local(self, shipped: ShippedFile) -> Path:
        own = Path(shipped.path)
        with contextlib.suppress(OSError):
            stat = own.stat()
            key = (str(own), stat.st_size, stat.st_mtime_ns)
            if stat.st_size == shipped.size:
                if key not in self._checked:
                    self._checked[key] = file_sha256(own)
                if self._checked[key] == shipped.sha256:
                    return own
        stored = self.folder / f"{shipped.sha256}{Path(shipped.name).suffix}"
        if stored.is_file() and stored.stat().st_size == shipped.size:
            return stored
        if not shipped.ref:
            raise InputError(f"a worker cannot read {shipped.path}; give a path every node sees, or let vidstyle "
                             "ship the file (it does when the cluster has other nodes)")
        import ray

        data = ray.get(shipped.ref[0])
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_output(stored) as tmp:
            tmp.write_bytes(data)
        return stored


class ProgressBoard:
    """Frames processed so far per segment (a Ray actor with no CPU of its own): workers report, the caller
    reads. A retried segment starts again from 0."""

    def __init__(self) -> None:
        self.done: dict[int, int] = {}

    def report(self, segment: int, frames: int) -> None:
        self.done[segment] = frames

    def snapshot(self) -> dict[int, int]:
        return dict(self.done)


class SegmentWorker:
    """A Ray actor that renders segments with ``vidstyle.pipeline.video.stylize_video`` and keeps the stylizer
    it builds for the first one, so the network is loaded once per worker (again only after a restart).

    options: ``stylize_video`` options shared by every segment (codec, size, temporal, ...).
    """

    def __init__(self, options: dict[str, Any]) -> None:
        self.files = FileStore()
        self.options = dict(options)
        self.stylizer = None
        self._model: Optional[str] = None

    def _stylizer(self, model: Optional[ShippedFile]) -> Any:
        from vidstyle.pipeline.video import VideoOptions, make_stylizer

        if model is None:
            return None
        if self._model != model.sha256:
            self.close()
            runtime = {k: self.options[k] for k in ("backend", "device", "threads", "strength", "precision",
                                                   "runtime_options") if k in self.options}
            self.stylizer = make_stylizer(str(self.files.local(model)), VideoOptions(**runtime))
            self._model = model.sha256
        return self.stylizer

    def render(self, segment: dict, source: ShippedFile, model: Optional[ShippedFile], style: Optional[ShippedFile],
               pts_offset: int, suffix: str, board: Any) -> dict:
        """Render one segment (a dict of :class:`~vidstyle.pipeline.cluster.plan.Segment`) of ``source`` into an
        encoded file of the output's container; returns its bytes, frame count and where it ran.
        model: the model file (for --temporal optimize the one that starts each frame, or None); style: the
        style image of --temporal optimize."""
        import ray

        from vidstyle.pipeline.video import stylize_video

        started = time.perf_counter()
        src = self.files.local(source)
        optimize = self.options.get("temporal") == "optimize"
        stylizer = None if optimize else self._stylizer(model)
        options = dict(self.options)
        if style is not None:
            options["style"] = str(self.files.local(style))
        index = segment["index"]
        processed = [0]
        last_report = [0.0]

        def on_frame() -> None:
            processed[0] += 1
            now = time.perf_counter()
            if now - last_report[0] >= REPORT_EVERY:
                last_report[0] = now
                board.report.remote(index, processed[0])

        board.report.remote(index, 0)
        folder = Path(tempfile.mkdtemp(prefix="vidstyle-segment-"))
        fades: dict[str, Any] = {}
        try:
            out = folder / f"segment{suffix}"
            if optimize:
                start_model = str(self.files.local(model)) if model is not None else None
                result, fades = _optimize_segment(segment, src, out, options, pts_offset, on_frame, start_model)
            else:
                result = stylize_video(
                    src, out, stylizer, **options,
                    start=segment["decode_from"], end=segment["end"],
                    write_from=segment["start"] if segment["warmup"] else None,
                    pts_offset=pts_offset, audio=False, progress=False, keep_partial=False, overwrite=True,
                    on_frame=on_frame,
                )
            data = out.read_bytes()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        board.report.remote(index, processed[0])
        return {
            "index": index,
            "data": data,
            "frames": result.frames_out,
            "width": result.width,
            "height": result.height,
            "cropped_to_even": result.cropped_to_even,
            "packets_skipped": result.packets_skipped,
            "node": ray.get_runtime_context().get_node_id(),
            "pid": os.getpid(),
            "seconds": time.perf_counter() - started,
            **fades,
        }

    def close(self) -> None:
        if self.stylizer is not None:
            self.stylizer.close()
        self.stylizer, self._model = None, None


def _optimize_segment(segment: dict, src: Path, out: Path, options: dict[str, Any], pts_offset: int,
                      on_frame: Any, start_model: Optional[str] = None) -> tuple[Any, dict[str, Any]]:
    """--temporal optimize for one segment: its warm-up, own frames and tail optimised as one sequence; the
    frames after its fade are encoded into ``out``, the fade's and the tail's are returned as images
    ({"head": [...], "tail": [...]}) for the caller to cross-fade with the neighbours'. start_model: the
    model file whose output starts each frame (None: the photo)."""
    from vidstyle.pipeline.video import VideoOptions, VideoResult, optimize_options
    from vidstyle.temporal.optimize import optimize_frames, read_frames, write_video
    from vidstyle.utils.image import as_uint8_image

    video_options = VideoOptions(**{**options, "start": segment["decode_from"], "end": segment["decode_to"],
                                    "audio": False, "pts_offset": pts_offset, "progress": False})
    settings = optimize_options(video_options, start_model)
    frames = read_frames(src, settings)
    warm, own, fade, tail = segment["warmup"], segment["frames"], segment["fade"], segment["tail"]
    if len(frames) != warm + own + tail:
        raise InputError(f"segment {segment['index'] + 1} decoded {len(frames)} frames where its packets list "
                         f"{warm + own + tail} (a damaged input?); render it without --cluster")
    images, _, _ = optimize_frames([f.image for f in frames], as_uint8_image(options["style"], "style"), settings,
                                   progress=lambda _event: on_frame())
    body = slice(warm + fade, warm + own)
    written = write_video(frames[body], images[body], src, out, settings)
    height, width = images[0].shape[:2]
    result = VideoResult(output=out, frames_in=own, frames_out=written + fade, seconds=0.0, fps=0.0,
                         model_fps=0.0, width=width, height=height)
    return result, {"head": images[warm:warm + fade], "tail": images[warm + own:]}
