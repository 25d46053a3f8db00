"""Video file (or URL) source: PyAV decoding with rotation, resizing, cutting and real-time pacing."""
from __future__ import annotations

import math
import os
import time
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Optional

import av
import av.error
import numpy as np

from vidstyle.errors import InputError
from vidstyle.types import Frame, StreamInfo
from vidstyle.utils import validate

_URL_PREFIXES = ("http://", "https://", "rtsp://", "rtmp://", "udp://", "tcp://", "srt://", "file:")


# Damaged packets warned about one by one; the rest are only counted (the summary gives the total).
MAX_DAMAGE_WARNINGS = 5


def is_url(path: str | os.PathLike) -> bool:
    return str(path).startswith(_URL_PREFIXES)


def parse_size(text: str) -> tuple[int, int]:
    """'640x480' -> (640, 480); raises InputError on anything else."""
    try:
        width, height = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise InputError(f"size must look like WIDTHxHEIGHT (e.g. 640x480), got {text!r}") from None
    return validate.frame_size("--size", width, height)


def target_size(
    width: int, height: int, size: Optional[tuple[int, int]] = None, long_side: Optional[int] = None
) -> tuple[int, int]:
    """The processing size for a (width, height) frame given ``--size`` or ``--long-side``."""
    if size is not None:
        return size
    if long_side is not None:
        validate.side("--long-side", long_side)
        scale = long_side / max(width, height)
        return max(1, round(width * scale)), max(1, round(height * scale))
    return width, height


def rotate_image(image: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a display rotation (degrees counter-clockwise, a multiple of 90) to an (H, W, 3) image."""
    quarter_turns = (round(rotation / 90)) % 4
    return np.ascontiguousarray(np.rot90(image, k=quarter_turns)) if quarter_turns else image


def header_duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> Optional[float]:
    """The stream's duration in seconds from the header, else the container's; None when neither is stored."""
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def header_frame_count(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> Optional[int]:
    """Frames in the stream from its header: the stored count, else duration × frame rate rounded up
    (mkv and webm store no count); None when neither is known. An estimate: decoding may yield one fewer."""
    if stream.frames:
        return int(stream.frames)
    fps = stream.average_rate or stream.guessed_rate or stream.base_rate
    duration = header_duration(container, stream)
    if duration is None or not fps:
        return None
    return max(0, math.ceil(duration * float(fps)))


class FileSource:
    """Decode a video file or URL into :class:`Frame` objects.

    Frames come out upright (the container's display rotation applied, like a player does),
    as (H, W, 3) uint8 RGB, with the stream's own ``pts`` and ``time_base`` so variable frame
    rate survives. ``size``/``long_side`` rescale (in the displayed orientation); ``start``/``end``
    (seconds) cut. ``realtime`` paces delivery at the stream's timestamps, like a camera.
    ``select(index)``, when given, picks the frames to yield by their decode index (0-based after
    ``start``): the others are decoded, as codecs need, but never converted to RGB.

    Raises InputError at construction for a missing, unreadable or video-less file, and while
    iterating for a stream that turns out to be corrupt or truncated.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        size: Optional[tuple[int, int]] = None,
        long_side: Optional[int] = None,
        start: Optional[float] = None,
        end: Optional[float] = None,
        realtime: bool = False,
        loop: bool = False,
        threads: int = 2,
        select: Optional[Callable[[int], bool]] = None,
        strict: bool = False,
        on_warning: Optional[Callable[[str], None]] = None,
    ) -> None:
        self.path = str(path)
        self.select = select
        # Damaged input, as FFmpeg treats it: undecodable packets are skipped (counted, warned about) and a
        # stream that ends in damage ends there; ``strict`` makes either an InputError instead.
        self.strict = strict
        self.on_warning = on_warning
        self.skipped_packets = 0
        self.ended_early: Optional[str] = None
        self.last_time: Optional[float] = None  # seconds of the last frame decoded so far
        self.realtime = realtime
        self.loop = loop
        self.start = start
        self.end = end
        self.threads = threads
        if start is not None and end is not None and end <= start:
            raise InputError(f"--end ({end}) must be after --start ({start})")
        if not is_url(self.path):
            p = Path(self.path)
            if not p.exists():
                raise InputError(f"file not found: {p}")
            if p.is_dir():
                raise InputError(f"expected a video file, got a folder: {p}")
        self._container = self._open()
        self._stream = self._container.streams.video[0]
        self._closed = False

        # Decode the first frame now: it carries the rotation, and a file that cannot be
        # decoded at all should fail here, before any output is created.
        self._frames = self._decoded_frames()
        first = next(self._frames, None)
        if first is None:
            where = f" after {start}s" if start else ""
            raise InputError(f"no decodable video frames in {self.path}{where} (corrupt, truncated or empty file?)")
        self._first = first
        self.rotation = int(first.rotation or 0) % 360
        coded_w, coded_h = first.width, first.height
        shown_w, shown_h = (coded_h, coded_w) if self.rotation in (90, 270) else (coded_w, coded_h)
        self.width, self.height = target_size(shown_w, shown_h, size, long_side)
        # swscale works on the stored (unrotated) orientation.
        self._decode_size = (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)
        self._needs_resize = self._decode_size != (coded_w, coded_h)

    def _open(self):
        try:
            container = av.open(self.path, "r", timeout=10.0 if is_url(self.path) else None)
        except av.error.FileNotFoundError:
            raise InputError(f"file not found: {self.path}") from None
        except av.error.FFmpegError as exc:
            if is_url(self.path):
                raise InputError(f"cannot open {self.path}: {_reason(exc)}") from None
            raise InputError(f"cannot read {self.path}: not a video file, or corrupt/truncated ({_reason(exc)})") from None
        if not container.streams.video:
            container.close()
            raise InputError(f"no video stream in {self.path}")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            container.close()
            raise InputError(f"unsupported video codec in {self.path}: this FFmpeg build has no decoder for it")
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = max(1, int(self.threads))
        return container

    @property
    def info(self) -> StreamInfo:
        """Size (as yielded), nominal fps, time base, frame count estimate, duration, rotation, audio."""
        stream = self._stream
        fps = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = Fraction(fps) if fps else None
        duration = header_duration(self._container, stream)
        frame_count = header_frame_count(self._container, stream)
        if (self.start is not None or self.end is not None) and duration is not None and fps:
            span = min(duration, self.end or duration) - (self.start or 0.0)
            frame_count = max(0, math.ceil(span * fps))
        return StreamInfo(
            width=self.width,
            height=self.height,
            fps=fps,
            time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 1000),
            frame_count=frame_count,
            duration=duration,
            rotation=self.rotation,
            has_audio=bool(self._container.streams.audio),
            extra={"codec": stream.codec_context.name, "format": self._container.format.name},
        )

    @property
    def first_pts(self) -> int:
        """pts of the first frame this source yields (after ``start``), in ``time_base`` units."""
        return int(self._first.pts)

    @property
    def time_base(self) -> Fraction:
        return Fraction(self._stream.time_base)

    def _decoded_frames(self) -> Iterator[av.VideoFrame]:
        """Decoded av.VideoFrames inside [start, end), with faults turned into InputError."""
        stream = self._stream
        if self.start:
            # Seek to the keyframe before start, then drop frames until start.
            try:
                self._container.seek(int(self.start / stream.time_base), stream=stream, backward=True)
            except av.error.FFmpegError:
                pass  # unseekable input: decode from the beginning and drop frames instead
        index = 0
        packets = self._container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as exc:  # the container itself is damaged or cut short
                self._damaged(f"the video ends in damaged or missing data after {index} frames ({_reason(exc)})")
                self.ended_early = _reason(exc)
                return
            try:
                frames = packet.decode()  # the last (empty) packet flushes the decoder
            except av.error.FFmpegError as exc:
                self.skipped_packets += 1
                at = f" at {float(packet.pts * packet.time_base):.2f} s" if packet.pts is not None else ""
                self._damaged(f"skipped an undecodable packet{at} after {index} frames ({_reason(exc)})")
                continue
            for frame in frames:
                if frame.pts is None:
                    continue  # cannot be placed in time; FFmpeg gives pts for every sane stream
                t = frame.pts * frame.time_base
                if self.start is not None and t < self.start - 1e-9:
                    continue
                if self.end is not None and t >= self.end - 1e-9:
                    return
                index += 1
                self.last_time = float(t)
                yield frame

    def stopped_short(self) -> Optional[str]:
        """Why the stream ended before the end its header promises (damage, or a file cut short that FFmpeg
        reads up to the cut without an error), or None. Call once decoding has finished."""
        if self.ended_early is not None:
            return self.ended_early
        duration = header_duration(self._container, self._stream)
        if duration is None or self.last_time is None or self.start is not None:
            return None
        expected_end = min(duration, self.end) if self.end is not None else duration
        # A margin for audio that outlasts the video (the container's duration covers every stream).
        if self.last_time < expected_end - max(1.0, 0.1 * expected_end):
            return f"the frames stop at {self.last_time:.1f} s of the {expected_end:.1f} s its header promises"
        return None

    def _damaged(self, what: str) -> None:
        """Damage in the input: an InputError with ``strict``, else a warning (the first few of each kind)."""
        if self.strict:
            raise InputError(f"corrupt video in {self.path}: {what}; without --strict damaged packets are skipped")
        if self.on_warning is not None and self.skipped_packets <= MAX_DAMAGE_WARNINGS:
            self.on_warning(f"{Path(self.path).name}: {what}")

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        clock_start: Optional[float] = None
        first_time = None
        loop_offset = 0.0
        while True:
            frames = self._frames_from_first() if index == 0 else self._restart()
            last_time = 0.0
            for av_frame in frames:
                if self._closed:
                    return
                t = float(av_frame.pts * av_frame.time_base)
                if first_time is None:
                    first_time = t
                last_time = t
                if self.select is not None and not self.select(index):
                    index += 1
                    continue
                if self.realtime:
                    if clock_start is None:
                        clock_start = time.perf_counter()
                    delay = clock_start + loop_offset + (t - first_time) - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                yield Frame(
                    image=self._to_rgb(av_frame),
                    pts=av_frame.pts,
                    time_base=Fraction(av_frame.time_base),
                    index=index,
                    wallclock=time.perf_counter(),
                )
                index += 1
            if not self.loop or index == 0 or self._closed:
                return
            loop_offset += last_time - first_time + 1.0 / float(self.info.fps or 30)

    def _frames_from_first(self) -> Iterator[av.VideoFrame]:
        yield self._first
        yield from self._frames

    def _restart(self) -> Iterator[av.VideoFrame]:
        self._container.close()
        self._container = self._open()
        self._stream = self._container.streams.video[0]
        return self._decoded_frames()

    def _to_rgb(self, av_frame: av.VideoFrame) -> np.ndarray:
        if self._needs_resize:
            width, height = self._decode_size
            image = av_frame.to_ndarray(format="rgb24", width=width, height=height, interpolation="AREA")
        else:
            image = av_frame.to_ndarray(format="rgb24")
        return np.ascontiguousarray(rotate_image(image, self.rotation))

    def close(self) -> None:
        self._closed = True
        try:
            self._container.close()
        except av.error.FFmpegError:
            pass

    def __enter__(self) -> "FileSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _reason(exc: BaseException) -> str:
    """FFmpeg's short error text without the file name PyAV appends."""
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(";")[0].strip()
