"""What a decoder reads back from a video file: an ffprobe-like summary used by tests and reports."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

import av
import av.error
import numpy as np

from vidstyle.errors import InputError


@dataclass
class AudioProbe:
    """One audio stream: codec, sample rate, channels and its packets' (start, duration) in exact seconds."""

    codec: str
    sample_rate: int
    channels: int
    packets: list[tuple[Fraction, Fraction]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Span covered by the packets, from the first packet's start to the last packet's end."""
        if not self.packets:
            return 0.0
        return float(self.packets[-1][0] + self.packets[-1][1] - self.packets[0][0])


@dataclass
class VideoProbe:
    """The video stream as decoded: frame times (exact seconds), size, rotation, codec, fps; plus audio."""

    path: str
    container: str
    codec: str
    width: int
    height: int
    rotation: int
    fps: Optional[Fraction]
    times: list[Fraction]
    audio: list[AudioProbe]
    images: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def frame_count(self) -> int:
        return len(self.times)

    @property
    def duration(self) -> float:
        """First frame to the end of the last frame, assuming the last lasts one average interval."""
        if not self.times:
            return 0.0
        last = float(1 / self.fps) if self.fps else 0.0
        return float(self.times[-1] - self.times[0]) + last


def open_video(path: str | os.PathLike) -> "av.container.InputContainer":
    """Open ``path`` with PyAV; InputError (one line) for an unreadable file or one without a video stream.
    The caller closes the container (``with open_video(path) as container:``)."""
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"no video stream in {path}")
    return container


def probe_video(path: str | os.PathLike, keep_images: bool = False) -> VideoProbe:
    """Decode every video frame of ``path`` and list every audio packet.

    ``keep_images`` keeps the decoded frames as (H, W, 3) uint8 RGB arrays (stored orientation).
    Raises InputError for an unreadable file or one without video.
    """
    with open_video(path) as container:
        stream = container.streams.video[0]
        times, images, rotation = [], [], 0
        for frame in container.decode(stream):
            if not times:
                rotation = int(frame.rotation or 0) % 360
            times.append(frame.pts * frame.time_base)
            if keep_images:
                images.append(frame.to_ndarray(format="rgb24"))
        result = VideoProbe(
            path=str(path),
            container=container.format.name,
            codec=stream.codec_context.name,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            rotation=rotation,
            fps=Fraction(stream.average_rate) if stream.average_rate else None,
            times=times,
            audio=[],
            images=images,
        )
    with av.open(str(path)) as container:
        for audio in container.streams.audio:
            ctx = audio.codec_context
            result.audio.append(AudioProbe(codec=ctx.name, sample_rate=ctx.sample_rate, channels=ctx.channels))
        if container.streams.audio:
            by_index = {s.index: a for s, a in zip(container.streams.audio, result.audio)}
            for packet in container.demux(container.streams.audio):
                if packet.dts is None or packet.pts is None:
                    continue
                by_index[packet.stream.index].packets.append(
                    (packet.pts * packet.time_base, (packet.duration or 0) * packet.time_base)
                )
    return result
