"""Copying an input file's audio into an output file, in step with its video (:mod:`vidstyle.io.encoder`).

Audio packets from the input are remuxed untouched when the output container can hold their codec, and
transcoded (Opus for WebM, AAC otherwise) when it cannot; a cut keeps the packets inside it, shifted like the video.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, Optional

import av
import av.error

from vidstyle.errors import InputError, OutputError
from vidstyle.io.codecs import audio_encoder_for


class AudioCopy:
    """Copies the audio streams of an input file into an output container, in step with the video.

    ``start``/``end`` (seconds, input time) keep the packets that begin inside the cut, and
    ``shift`` (seconds) moves them earlier by the same amount as the video. Packets are
    remuxed untouched; a codec the output container cannot hold is transcoded.
    """

    def __init__(
        self,
        input_path: str | os.PathLike,
        start: Optional[float] = None,
        end: Optional[float] = None,
        shift: float = 0.0,
    ) -> None:
        self.input_path = str(input_path)
        self.start, self.end, self.shift = start, end, shift
        try:
            self._input = av.open(self.input_path)
        except av.error.FFmpegError as exc:
            raise InputError(f"cannot read audio from {self.input_path}: {exc}") from None
        self.streams = [s for s in self._input.streams.audio if s.codec_context is not None]
        self._routes: dict[int, "_AudioRoute"] = {}
        self._packets: Optional[Iterator[av.Packet]] = None
        self._pending: Optional[av.Packet] = None
        self.copied_packets = 0
        self.transcoded = False
        self.damaged = False  # the input's audio ended in damaged data

    def __bool__(self) -> bool:
        return bool(self.streams)

    def attach(self, output: av.container.OutputContainer) -> None:
        """Add one output audio stream per input audio stream (before the first mux)."""
        suffix = Path(output.name).suffix.lower()
        for stream in self.streams:
            name = stream.codec_context.name
            if name in output.supported_codecs and not (name == "vorbis" and suffix in (".mp4", ".mov")):
                out = output.add_stream_from_template(stream)
                self._routes[stream.index] = _AudioRoute(stream, out, None)
            else:
                target = audio_encoder_for(output.name)
                if target not in av.codecs_available:
                    raise OutputError(f"{suffix} cannot hold {name} audio and there is no {target} encoder; use --no-audio")
                self._routes[stream.index] = _AudioRoute.transcoding(stream, output, target)
                self.transcoded = True
            if stream.language:
                self._routes[stream.index].output.metadata["language"] = stream.language
        if self.start:
            with contextlib.suppress(av.error.FFmpegError):
                self._input.seek(int(self.start * av.time_base), backward=True)
        self._packets = self._input.demux(self.streams)

    def _next_packet(self) -> Optional[av.Packet]:
        if self._pending is not None:
            packet, self._pending = self._pending, None
            return packet
        try:
            for packet in self._packets or ():
                if packet.dts is None:
                    continue  # demux's end-of-stream flush packet carries no data
                return packet
        except av.error.FFmpegError:
            # Damaged or cut-short audio data: the audio ends there, as the video keeps what decodes.
            self._packets = None
            self.damaged = True
        return None

    def mux_until(self, output: av.container.OutputContainer, seconds: Optional[float]) -> None:
        """Mux packets whose (shifted, output) time is below ``seconds``; None means all that remain."""
        while True:
            packet = self._next_packet()
            if packet is None:
                return
            t = float(packet.pts * packet.time_base) if packet.pts is not None else float(packet.dts * packet.time_base)
            if self.end is not None and t >= self.end:
                continue
            if self.start is not None and t < self.start:
                continue
            if seconds is not None and t - self.shift >= seconds:
                self._pending = packet
                return
            self._routes[packet.stream.index].mux(output, packet, self.shift)
            self.copied_packets += 1

    def finish(self, output: av.container.OutputContainer, until: Optional[float] = None) -> None:
        """Mux the rest (or up to ``until`` seconds of output time) and flush any transcoder."""
        self.mux_until(output, until)
        for route in self._routes.values():
            route.flush(output)

    def close(self) -> None:
        with contextlib.suppress(av.error.FFmpegError):
            self._input.close()


class _AudioRoute:
    """One input audio stream's way into the output: copied, or decoded + resampled + encoded."""

    def __init__(self, source: av.audio.stream.AudioStream, output, encoder_state) -> None:
        self.source = source
        self.output = output
        self.encoder_state = encoder_state  # (resampler) when transcoding, else None

    @classmethod
    def transcoding(cls, source, container, codec_name: str) -> "_AudioRoute":
        rate = 48000 if codec_name == "libopus" else (source.codec_context.sample_rate or 48000)
        out = container.add_stream(codec_name, rate=rate)
        layout = "stereo" if (source.codec_context.channels or 2) >= 2 else "mono"
        out.layout = layout
        fmt = out.codec_context.codec.audio_formats[0].name
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate, frame_size=out.codec_context.frame_size or None)
        return cls(source, out, resampler)

    def mux(self, container, packet: av.Packet, shift: float) -> None:
        if self.encoder_state is None:
            if shift:
                ticks = round(shift / packet.time_base)
                packet.pts = None if packet.pts is None else packet.pts - ticks
                packet.dts = None if packet.dts is None else packet.dts - ticks
            packet.stream = self.output
            container.mux(packet)
            return
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            return  # an undecodable audio packet is skipped, like a video one
        for frame in frames:
            if frame.pts is not None and shift:
                frame.pts -= round(shift / frame.time_base)
            self._encode(container, frame)

    def _encode(self, container, frame) -> None:
        for resampled in self.encoder_state.resample(frame):
            container.mux(self.output.encode(resampled))

    def flush(self, container) -> None:
        if self.encoder_state is not None:
            self._encode(container, None)
            container.mux(self.output.encode(None))
