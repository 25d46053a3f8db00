"""Synthetic media for tests, benchmarks and demos: stills, clips with moving shapes, a sine tone and known timestamps.

The frames carry their own index as a row of black/white blocks along the top edge
(:func:`read_frame_index` decodes it after lossy encoding), so a test can tell a dropped
or duplicated frame from a correct one without trusting the decoder's counters.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Optional

import av
import numpy as np

from vidstyle.io.codecs import ENCODERS, audio_encoder_for
from vidstyle.types import Frame, StreamInfo

# Frame-index barcode: INDEX_BITS blocks across the top band of the (unrotated) frame.
INDEX_BITS = 12
INDEX_BAND_FRACTION = 0.12

# The output encoders, and MPEG-4 Part 2 (an old codec some inputs still use).
_VIDEO_CODECS = {**ENCODERS, "mpeg4": "mpeg4"}


def pattern_frame(index: int, width: int, height: int, fps: float = 25.0) -> np.ndarray:
    """Draw frame ``index`` of the moving-shapes pattern: (height, width, 3) uint8 RGB.

    A colour gradient background, a disc moving on a circle, a square sliding left to right,
    and the frame index as a barcode in the top band (see :func:`read_frame_index`).
    """
    t = index / fps
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.empty((height, width, 3), np.float32)
    image[..., 0] = 40 + 150 * xx / max(1, width - 1)
    image[..., 1] = 40 + 150 * yy / max(1, height - 1)
    image[..., 2] = 110 + 60 * np.sin(xx / 9.0 + yy / 13.0 + t)

    radius = max(2.0, min(width, height) / 7)
    cx = width / 2 + (width / 4) * math.cos(2 * math.pi * t / 2.0)
    cy = height * 0.6 + (height / 5) * math.sin(2 * math.pi * t / 2.0)
    image[(xx - cx) ** 2 + (yy - cy) ** 2 < radius**2] = (250, 220, 30)

    side = max(2, int(min(width, height) / 6))
    sx = int((width - side) * ((t / 2.0) % 1.0))
    sy = int(height * 0.3)
    image[sy : sy + side, sx : sx + side] = (30, 60, 240)

    out = np.clip(image, 0, 255).astype(np.uint8)
    _draw_index(out, index)
    return out


def synthetic_scene(height: int = 96, width: int = 128, seed: int = 0) -> np.ndarray:
    """A deterministic (height, width, 3) uint8 RGB still: gradients, stripes, a disc and noise.

    Structure at several scales (not a flat colour), so a network's output and its timing are those of a photo.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = xx / max(1, width - 1)
    g = yy / max(1, height - 1)
    b = 0.5 + 0.5 * np.sin(xx / 5.0 + seed) * np.cos(yy / 7.0)
    img = np.stack([r, g, b], axis=-1)
    cy, cx = height * (0.3 + 0.4 * rng.random()), width * (0.3 + 0.4 * rng.random())
    disc = (yy - cy) ** 2 + (xx - cx) ** 2 < (min(height, width) / 5) ** 2
    img[disc] = rng.random(3)
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def synthetic_style(height: int = 96, width: int = 128, seed: int = 1) -> np.ndarray:
    """A deterministic (height, width, 3) uint8 RGB texture-like 'painting': coloured diagonal strokes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        f = rng.uniform(0.1, 0.4)
        img[..., c] = 0.5 + 0.5 * np.sin(f * (xx + yy * rng.uniform(0.5, 2)) + rng.uniform(0, 6))
    return (img * 255).astype(np.uint8)


def _index_band(width: int, height: int) -> tuple[int, int]:
    """(band height, block width) of the index barcode for a frame size."""
    return max(2, int(height * INDEX_BAND_FRACTION)), max(1, width // INDEX_BITS)


def _draw_index(image: np.ndarray, index: int) -> None:
    band, block = _index_band(image.shape[1], image.shape[0])
    for bit in range(INDEX_BITS):
        value = 255 if (index >> bit) & 1 else 0
        image[:band, bit * block : (bit + 1) * block] = value


def read_frame_index(image: np.ndarray) -> int:
    """Decode the frame index drawn by :func:`pattern_frame` from an (H, W, 3) uint8 image.

    Reads the centre of each block, so it survives lossy encoding and a one-pixel crop.
    """
    height, width = image.shape[:2]
    band, block = _index_band(width, height)
    gray = image[..., :3].astype(np.float32).mean(axis=2)
    index = 0
    for bit in range(INDEX_BITS):
        y0, y1 = band // 4, max(band // 4 + 1, 3 * band // 4)
        x0 = bit * block + block // 4
        x1 = max(x0 + 1, bit * block + 3 * block // 4)
        if gray[y0:y1, x0:x1].mean() > 127:
            index |= 1 << bit
    return index


@dataclass
class ClipInfo:
    """What :func:`write_test_clip` wrote, so tests compare against known truth.

    pts: presentation timestamps of the video frames in ``time_base`` units, in order.
    audio_seconds: length of the tone written (0 when there is no audio).
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    pts: list[int] = field(default_factory=list)
    audio_seconds: float = 0.0
    rotation: int = 0

    @property
    def frame_count(self) -> int:
        return len(self.pts)

    @property
    def times(self) -> list[Fraction]:
        """Frame times in seconds, exact."""
        return [p * self.time_base for p in self.pts]


def vfr_durations(count: int, fps: Fraction) -> list[Fraction]:
    """A deterministic variable-frame-rate schedule: durations of 1, 2 or 3 frame periods."""
    pattern = [1, 1, 2, 1, 3, 1, 2]
    return [Fraction(pattern[i % len(pattern)]) / fps for i in range(count)]


def write_test_clip(
    path: str | os.PathLike,
    width: int = 160,
    height: int = 120,
    fps: float | Fraction = 25,
    seconds: float = 2.0,
    audio: bool = True,
    tone_hz: float = 440.0,
    sample_rate: int = 48000,
    vfr: bool = False,
    rotation: int = 0,
    codec: str = "h264",
    audio_codec: Optional[str] = None,
    frames: Optional[int] = None,
    keyint: Optional[int] = None,
) -> ClipInfo:
    """Write a small clip of :func:`pattern_frame` frames with PyAV and return what was written.

    Args:
        path: output file; the container follows the extension (.mp4, .mkv, .webm, .mov).
        width, height: frame size in pixels; odd sizes are written as yuv444p (H.264 4:2:0 needs even sizes).
        fps: nominal frame rate; with ``vfr`` the frame durations vary (see :func:`vfr_durations`).
        seconds: video length (ignored when ``frames`` is given).
        audio: add a mono sine tone of ``tone_hz`` lasting as long as the video.
        rotation: display rotation metadata in degrees counter-clockwise (0, 90, 180, 270);
            the stored pixels stay unrotated, as phones write them.
        codec: h264, hevc, vp9, av1 or mpeg4.
        audio_codec: FFmpeg encoder name; by default aac, or libopus for .webm.
        keyint: frames between keyframes (h264/hevc; None: the encoder's default, 250 for x264).
    """
    path = Path(path)
    fps = Fraction(fps).limit_denominator(1001 * 1000)
    count = frames if frames is not None else max(1, round(seconds * fps))
    durations = vfr_durations(count, fps) if vfr else [1 / fps] * count
    # A millisecond-exact time base for VFR, the frame period for constant rate.
    time_base = Fraction(1, 1000) if vfr else 1 / fps

    info = ClipInfo(path=path, width=width, height=height, fps=fps, time_base=time_base, rotation=rotation % 360)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(_VIDEO_CODECS.get(codec, codec), rate=fps)
        stream.width, stream.height = width, height
        odd = width % 2 or height % 2
        stream.pix_fmt = "yuv444p" if odd and codec in ("h264", "hevc") else "yuv420p"
        stream.codec_context.time_base = time_base
        stream.time_base = time_base
        if codec in ("h264", "hevc"):
            stream.codec_context.options = {"preset": "ultrafast", "crf": "18"}
            if keyint is not None:
                stream.codec_context.options = {**stream.codec_context.options, "g": str(keyint),
                                                "keyint_min": str(keyint)}
        if rotation % 360:
            stream.set_display_rotation(rotation % 360)

        audio_stream = None
        if audio:
            name = audio_codec or audio_encoder_for(path)
            audio_stream = container.add_stream(name, rate=sample_rate)
            audio_stream.layout = "mono"

        samples = _tone(tone_hz, sample_rate, float(sum(durations, Fraction(0)))) if audio else None
        audio_written = 0
        elapsed = Fraction(0)
        for i, duration in enumerate(durations):
            frame = av.VideoFrame.from_ndarray(pattern_frame(i, width, height, float(fps)), format="rgb24")
            frame.pts = int(elapsed / time_base)
            frame.time_base = time_base
            info.pts.append(frame.pts)
            container.mux(stream.encode(frame))
            elapsed += duration
            if audio_stream is not None:
                # Interleave: write the tone up to the current video time.
                upto = min(len(samples), int(elapsed * sample_rate))
                audio_written = _write_audio(container, audio_stream, samples, audio_written, upto, sample_rate)
        container.mux(stream.encode())
        if audio_stream is not None:
            _write_audio(container, audio_stream, samples, audio_written, len(samples), sample_rate)
            container.mux(audio_stream.encode())
            info.audio_seconds = len(samples) / sample_rate
    return info


def _tone(freq: float, sample_rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(round(seconds * sample_rate)), dtype=np.float32) / sample_rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _write_audio(container, stream, samples: np.ndarray, start: int, stop: int, sample_rate: int) -> int:
    """Encode samples[start:stop] in encoder-sized chunks; returns the new write position."""
    chunk = stream.codec_context.frame_size or 1024
    while start < stop:
        piece = samples[start : min(stop, start + chunk)]
        frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, sample_rate)
        container.mux(stream.encode(frame))
        start += len(piece)
    return start


class TestPatternSource:
    """A source of :func:`pattern_frame` frames: no file, no camera, for demos and tests.

    Yields ``frames`` Frames of (height, width, 3) uint8 RGB with pts in 1/fps units.
    With ``realtime`` it paces itself at ``fps`` like a camera; ``wallclock`` is the
    moment each frame was made.
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self, width: int = 640, height: int = 480, fps: float = 30.0, frames: Optional[int] = None, realtime: bool = False
    ) -> None:
        self.width, self.height = width, height
        self.fps = Fraction(fps).limit_denominator(1001 * 1000)
        self.frames = frames
        self.realtime = realtime
        self._closed = False

    @property
    def info(self) -> StreamInfo:
        return StreamInfo(
            width=self.width,
            height=self.height,
            fps=self.fps,
            time_base=1 / self.fps,
            frame_count=self.frames,
            duration=None if self.frames is None else float(self.frames / self.fps),
        )

    def __iter__(self) -> Iterator[Frame]:
        start = time.perf_counter()
        index = 0
        while not self._closed and (self.frames is None or index < self.frames):
            if self.realtime:
                due = start + float(index / self.fps)
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            image = pattern_frame(index, self.width, self.height, float(self.fps))
            yield Frame(image=image, pts=index, time_base=1 / self.fps, index=index, wallclock=time.perf_counter())
            index += 1

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> "TestPatternSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
