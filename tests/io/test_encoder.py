"""VideoFileSink and AudioCopy on their own: codecs, containers, odd sizes, timestamps, audio."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from vidstyle.errors import OutputError
from vidstyle.io.audio import AudioCopy
from vidstyle.io.codecs import resolve_codec
from vidstyle.io.encoder import EncoderSettings, VideoFileSink, even_crop
from vidstyle.io.file import FileSource
from vidstyle.io.probe import probe_video
from vidstyle.io.synthetic import pattern_frame, read_frame_index, write_test_clip
from vidstyle.types import Frame


def test_codec_choice_follows_the_container():
    assert resolve_codec("a.mp4") == "h264"
    assert resolve_codec("a.webm") == "vp9"
    assert resolve_codec("a.mkv", "av1") == "av1"
    with pytest.raises(OutputError, match="cannot hold"):
        resolve_codec("a.webm", "h264")
    with pytest.raises(OutputError, match="unsupported output format"):
        resolve_codec("a.flv")
    with pytest.raises(OutputError, match="unknown codec"):
        resolve_codec("a.mp4", "prores")


def test_even_crop():
    assert even_crop(np.zeros((481, 641, 3), np.uint8)).shape == (480, 640, 3)
    image = np.zeros((4, 6, 3), np.uint8)
    assert even_crop(image) is image


def test_sink_writes_frames_at_their_timestamps(tmp_path):
    time_base = Fraction(1, 90000)
    pts = [0, 3000, 9000, 10500, 30000]  # irregular
    sink = VideoFileSink(tmp_path / "out.mp4", fps=Fraction(30), settings=EncoderSettings(crf=10))
    for i, p in enumerate(pts):
        sink.write(Frame(image=pattern_frame(i, 64, 48), pts=p, time_base=time_base, index=i))
    sink.close()
    out = probe_video(tmp_path / "out.mp4", keep_images=True)
    assert out.times == [p * time_base for p in pts]
    assert [read_frame_index(im) for im in out.images] == list(range(5))


@pytest.mark.parametrize("codec,suffix", [("vp9", ".webm"), ("av1", ".mkv"), ("hevc", ".mov")])
def test_each_codec(tmp_path, codec, suffix):
    sink = VideoFileSink(tmp_path / f"out{suffix}", fps=Fraction(25), settings=EncoderSettings(codec=codec, preset="ultrafast"))
    for i in range(6):
        sink.write(Frame(image=pattern_frame(i, 64, 48), pts=i, time_base=Fraction(1, 25), index=i))
    sink.close()
    out = probe_video(tmp_path / f"out{suffix}", keep_images=True)
    assert out.codec in (codec, "libdav1d") and out.frame_count == 6
    assert [read_frame_index(im) for im in out.images] == list(range(6))


def test_audio_copy_is_packet_identical(tmp_path):
    clip = write_test_clip(tmp_path / "in.mkv", frames=25, audio_codec="libopus")
    source = FileSource(clip.path)
    sink = VideoFileSink(tmp_path / "out.mkv", fps=source.info.fps, audio=AudioCopy(clip.path))
    for frame in source:
        sink.write(frame)
    sink.close()
    src, out = probe_video(clip.path), probe_video(tmp_path / "out.mkv")
    assert out.audio[0].codec == "opus" and out.audio[0].packets == src.audio[0].packets


def test_mp3_audio_into_mp4_is_copied(tmp_path):
    clip = write_test_clip(tmp_path / "in.mkv", frames=25, audio_codec="libmp3lame")
    source = FileSource(clip.path)
    audio = AudioCopy(clip.path)
    sink = VideoFileSink(tmp_path / "out.mp4", fps=source.info.fps, audio=audio)
    for frame in source:
        sink.write(frame)
    sink.close()
    out = probe_video(tmp_path / "out.mp4")
    assert out.audio[0].codec.startswith("mp3") and not audio.transcoded
    assert out.audio[0].seconds == pytest.approx(probe_video(clip.path).audio[0].seconds, abs=0.001)


@pytest.mark.parametrize("preset", ["medium", "veryfast", "superfast"])  # x264 uses B-frames at these presets
@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_sink_driven_directly_keeps_the_last_frames_with_b_frames(tmp_path, preset, suffix):
    # the encoder holds back frames for B-frame reordering; close() must drain every one of them
    for frames in (1, 2, 7, 17):
        path = tmp_path / f"out-{frames}{suffix}"
        sink = VideoFileSink(path, fps=Fraction(30), settings=EncoderSettings(preset=preset, crf=18))
        for i in range(frames):
            sink.write(Frame(image=pattern_frame(i, 96, 64), pts=i, time_base=Fraction(1, 30), index=i))
        sink.close()
        assert sink.frames_written == frames
        out = probe_video(path, keep_images=True)
        assert out.frame_count == frames, (preset, suffix, frames)
        assert [read_frame_index(im) for im in out.images] == list(range(frames))
        assert abs(out.times[-1] - Fraction(frames - 1, 30)) <= Fraction(1, 1000)  # mkv stores milliseconds
