"""The synthetic clip writer: what it says it wrote is what a decoder reads back."""
from __future__ import annotations

import av
import numpy as np
import pytest

from vidstyle.io.synthetic import TestPatternSource, pattern_frame, read_frame_index, write_test_clip


def decode_all(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        audio = container.streams.audio[0] if container.streams.audio else None
        audio_info = None if audio is None else (audio.codec_context.name, audio.codec_context.sample_rate)
        return frames, audio_info


def test_frame_index_barcode_round_trips_through_pixels():
    for index in (0, 1, 5, 77, 4095):
        assert read_frame_index(pattern_frame(index, 160, 120)) == index


def test_clip_has_the_written_frames_timestamps_and_audio(tmp_path):
    info = write_test_clip(tmp_path / "clip.mp4", seconds=1.0, fps=25)
    frames, audio = decode_all(info.path)
    assert len(frames) == info.frame_count == 25
    assert [f.pts * f.time_base for f in frames] == info.times
    assert [read_frame_index(f.to_ndarray(format="rgb24")) for f in frames] == list(range(25))
    assert audio == ("aac", 48000)


def test_vfr_clip_has_irregular_exact_timestamps(tmp_path):
    info = write_test_clip(tmp_path / "vfr.mkv", frames=20, vfr=True, audio=False)
    frames, audio = decode_all(info.path)
    times = [f.pts * f.time_base for f in frames]
    assert times == info.times
    assert len(set(np.diff([float(t) for t in times]).round(4))) > 1  # really variable
    assert audio is None


def test_rotation_metadata_and_odd_size(tmp_path):
    info = write_test_clip(tmp_path / "rot.mp4", width=161, height=91, frames=5, rotation=270, audio=False)
    frames, _ = decode_all(info.path)
    assert (frames[0].width, frames[0].height) == (161, 91)  # stored unrotated
    assert frames[0].rotation % 360 == 270


@pytest.mark.parametrize("suffix,codec,audio_codec", [(".webm", "vp9", "opus"), (".mov", "h264", "aac")])
def test_other_containers(tmp_path, suffix, codec, audio_codec):
    info = write_test_clip(tmp_path / f"clip{suffix}", frames=10, codec=codec)
    frames, audio = decode_all(info.path)
    assert len(frames) == 10
    assert audio[0] == audio_codec


def test_pattern_source_yields_numbered_frames():
    with TestPatternSource(64, 48, fps=30, frames=4) as source:
        frames = list(source)
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert [f.pts for f in frames] == [0, 1, 2, 3]
    assert frames[0].image.shape == (48, 64, 3) and frames[0].image.dtype == np.uint8
    assert [read_frame_index(f.image) for f in frames] == [0, 1, 2, 3]
