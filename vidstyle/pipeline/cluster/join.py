"""Joining encoded segments into one file by stream copy, with the input's audio remuxed alongside."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

import av
import av.error

from vidstyle.errors import OutputError
from vidstyle.io.audio import AudioCopy
from vidstyle.io.codecs import container_for
from vidstyle.io.encoder import muxer_options


def join_segments(parts: Sequence[str | os.PathLike], out: str | os.PathLike, audio: Optional[AudioCopy] = None,
                  display_path: str | os.PathLike | None = None) -> int:
    """Copy the video packets of ``parts`` (files of one container and codec, each starting with a keyframe,
    their timestamps already on one timeline) into ``out``, in order, interleaving ``audio``.

    Nothing is decoded or re-encoded. Returns the number of video packets written.
    """
    out = Path(out)
    shown = Path(display_path) if display_path is not None else out
    packets = 0
    try:
        container = av.open(str(out), "w", format=container_for(out), options=muxer_options(out))
    except (av.error.FFmpegError, OSError) as exc:
        raise OutputError(f"cannot create {shown}: {exc}") from None
    try:
        with av.open(str(parts[0])) as first:
            template = first.streams.video[0]
            stream = container.add_stream_from_template(template)
            stream.time_base = template.time_base
        if audio is not None:
            audio.attach(container)
        last_dts = None
        for part in parts:
            with av.open(str(part)) as segment:
                source = segment.streams.video[0]
                for packet in segment.demux(source):
                    if packet.dts is None or packet.size == 0:
                        continue  # the demuxer's end-of-stream marker
                    if audio is not None and packet.pts is not None:
                        audio.mux_until(container, float(packet.pts * packet.time_base))
                    if last_dts is not None and packet.dts * packet.time_base <= last_dts:
                        raise OutputError(f"cannot join the segments of {shown}: decoding times overlap at "
                                          f"{float(packet.dts * packet.time_base):.3f} s")
                    last_dts = packet.dts * packet.time_base
                    packet.stream = stream
                    container.mux(packet)
                    packets += 1
        if audio is not None:
            audio.finish(container)
        container.close()
    except BaseException:
        try:
            container.close()
        except Exception:  # noqa: BLE001 - already failing; the caller removes the file
            pass
        raise
    finally:
        if audio is not None:
            audio.close()
    return packets
