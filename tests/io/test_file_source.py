"""FileSource: decoding real encoded files into upright RGB frames with their own timestamps."""
from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
import pytest

from vidstyle.errors import InputError
from vidstyle.io.file import FileSource, parse_size, target_size
from vidstyle.io.synthetic import read_frame_index, write_test_clip


def test_frames_keep_pts_and_order(tmp_path):
    info = write_test_clip(tmp_path / "clip.mp4", frames=30, audio=False)
    with FileSource(info.path) as source:
        frames = list(source)
        assert source.info.frame_count == 30 and source.info.fps == 25
    assert [f.pts * f.time_base for f in frames] == info.times
    assert [f.index for f in frames] == list(range(30))
    assert [read_frame_index(f.image) for f in frames] == list(range(30))
    assert frames[0].image.flags["C_CONTIGUOUS"] and frames[0].image.dtype == np.uint8


def test_vfr_timestamps_survive(tmp_path):
    info = write_test_clip(tmp_path / "vfr.mp4", frames=21, vfr=True, audio=False)
    frames = list(FileSource(info.path))
    assert [f.pts * f.time_base for f in frames] == info.times


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_is_applied(tmp_path, rotation):
    info = write_test_clip(tmp_path / "rot.mp4", width=96, height=64, frames=6, rotation=rotation, audio=False)
    source = FileSource(info.path)
    assert source.info.rotation == rotation
    frames = list(source)
    expected_shape = (96, 64, 3) if rotation in (90, 270) else (64, 96, 3)
    assert frames[0].image.shape == expected_shape
    # Undo the display rotation (counter-clockwise) and the barcode is back on top.
    upright_to_stored = -rotation // 90
    assert [read_frame_index(np.rot90(f.image, k=upright_to_stored)) for f in frames] == list(range(6))


def test_odd_size_and_resizing(tmp_path):
    info = write_test_clip(tmp_path / "odd.mkv", width=641, height=481, frames=3, audio=False)
    assert list(FileSource(info.path))[0].image.shape == (481, 641, 3)
    assert list(FileSource(info.path, long_side=320))[0].image.shape == (240, 320, 3)
    assert list(FileSource(info.path, size=(101, 77)))[0].image.shape == (77, 101, 3)


def test_cut_keeps_original_timestamps(tmp_path):
    info = write_test_clip(tmp_path / "clip.mkv", frames=50, fps=25, audio=False)
    frames = list(FileSource(info.path, start=0.8, end=1.2))
    assert [float(f.time) for f in frames] == pytest.approx([0.8, 0.84, 0.88, 0.92, 0.96, 1.0, 1.04, 1.08, 1.12, 1.16])
    assert read_frame_index(frames[0].image) == 20


def test_realtime_pacing_follows_timestamps(tmp_path):
    info = write_test_clip(tmp_path / "clip.mp4", frames=10, fps=25, audio=False)
    start = time.perf_counter()
    frames = list(FileSource(info.path, realtime=True))
    elapsed = time.perf_counter() - start
    assert len(frames) == 10
    assert elapsed >= 9 / 25 - 0.01  # the last frame is due 0.36 s after the first
    gaps = np.diff([f.wallclock for f in frames])
    assert gaps.mean() == pytest.approx(0.04, abs=0.015)


def test_loop_restarts_the_file(tmp_path):
    info = write_test_clip(tmp_path / "clip.mp4", frames=4, audio=False)
    source = FileSource(info.path, loop=True)
    frames = []
    for frame in source:
        frames.append(frame)
        if len(frames) == 10:
            break
    assert [read_frame_index(f.image) for f in frames] == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        FileSource(tmp_path / "nope.mp4")


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(InputError, match="folder"):
        FileSource(tmp_path)


def test_not_a_video(tmp_path):
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"this is not a video file at all" * 100)
    with pytest.raises(InputError, match="cannot read"):
        FileSource(bogus)


def test_truncated_mp4(tmp_path):
    info = write_test_clip(tmp_path / "clip.mp4", frames=20, audio=False)
    data = info.path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the moov index is at the end: gone
    with pytest.raises(InputError):
        list(FileSource(cut))


def test_audio_only_file_has_no_video(tmp_path):
    import av

    path = tmp_path / "tone.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=48000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 48000
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    with pytest.raises(InputError, match="no video stream"):
        FileSource(path)


def test_bad_cut_range(tmp_path):
    info = write_test_clip(tmp_path / "clip.mp4", frames=5, audio=False)
    with pytest.raises(InputError, match="after --start"):
        FileSource(info.path, start=2.0, end=1.0)
    with pytest.raises(InputError, match="no decodable"):
        FileSource(info.path, start=100.0)


def test_size_helpers():
    assert parse_size("640x480") == (640, 480)
    assert target_size(1920, 1080, long_side=640) == (640, 360)
    with pytest.raises(InputError):
        parse_size("big")


def test_codec_without_a_decoder(tmp_path):
    """A stream FFmpeg can name but this build cannot decode (AVS3 in Matroska)."""
    import av

    path = tmp_path / "avs3.mkv"
    try:
        with av.open(str(path), "w") as container:
            stream = container.add_mux_stream("avs3", width=64, height=48)
            stream.time_base = Fraction(1, 25)
            for i in range(3):
                packet = av.Packet(bytes(100))
                packet.pts = packet.dts = i
                packet.stream, packet.time_base = stream, stream.time_base
                container.mux(packet)
    except (ValueError, av.error.FFmpegError) as exc:
        pytest.skip(f"cannot write the test stream with this FFmpeg: {exc}")
    with pytest.raises(InputError, match="unsupported video codec"):
        FileSource(path)


def test_select_yields_only_the_chosen_frames_by_decode_index(tmp_path):
    info = write_test_clip(tmp_path / "c.mp4", width=96, height=64, fps=25, frames=12, audio=False)
    with FileSource(info.path, select=lambda index: index % 4 in (1, 2)) as source:
        frames = list(source)
    assert [f.index for f in frames] == [1, 2, 5, 6, 9, 10]
    assert [read_frame_index(f.image) for f in frames] == [1, 2, 5, 6, 9, 10]
    assert [f.pts * f.time_base for f in frames] == [info.times[i] for i in (1, 2, 5, 6, 9, 10)]
