"""stylize_video end to end on clips made here: frames, timestamps, rotation, audio, cuts and faults."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from vidstyle.errors import InputError, OutputError
from vidstyle.io.probe import probe_video
from vidstyle.io.synthetic import read_frame_index, write_test_clip
from vidstyle.pipeline.video import stylize_video
from vidstyle.runtime.base import FunctionStylizer

# A real (if trivial) stylizer: colour inversion. The barcode inverts too, so read it from 255 - image.
invert = FunctionStylizer(lambda image: 255 - image, name="invert")


def indices(probe):
    return [read_frame_index(255 - image) for image in probe.images]


def no_leftovers(folder):
    return [p.name for p in folder.iterdir() if ".partial-" in p.name] == []


def test_frames_timestamps_fps_and_audio_are_kept(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", seconds=2.0, fps=25)
    result = stylize_video(clip.path, tmp_path / "out.mp4", invert, progress=False)
    src, out = probe_video(clip.path), probe_video(tmp_path / "out.mp4", keep_images=True)
    assert result.frames_in == result.frames_out == out.frame_count == 50
    assert out.times == src.times == clip.times
    assert out.fps == src.fps == 25
    assert out.duration == src.duration == 2.0
    assert indices(out) == list(range(50))
    # Audio: the same packets at the same times, copied untouched.
    assert out.audio[0].codec == src.audio[0].codec == "aac"
    assert out.audio[0].packets == src.audio[0].packets
    assert result.audio_streams == 1 and not result.audio_transcoded
    assert no_leftovers(tmp_path)


def test_pixels_are_the_stylizers_output(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=5, audio=False)
    stylize_video(clip.path, tmp_path / "out.mp4", invert, progress=False, crf=0, preset="ultrafast")
    src, out = probe_video(clip.path, keep_images=True), probe_video(tmp_path / "out.mp4", keep_images=True)
    for a, b in zip(src.images, out.images):
        assert np.abs((255 - a.astype(int)) - b.astype(int)).mean() < 3


def test_variable_frame_rate_keeps_timestamps(tmp_path):
    clip = write_test_clip(tmp_path / "vfr.mp4", frames=40, vfr=True)
    stylize_video(clip.path, tmp_path / "out.mkv", invert, progress=False)
    out = probe_video(tmp_path / "out.mkv", keep_images=True)
    assert out.times == clip.times
    assert len(set(np.diff([float(t) for t in out.times]).round(4))) > 1
    assert indices(out) == list(range(40))


def test_odd_size_input_is_encoded(tmp_path):
    clip = write_test_clip(tmp_path / "odd.mkv", width=641, height=481, frames=8)
    result = stylize_video(clip.path, tmp_path / "out.mp4", invert, progress=False)
    out = probe_video(tmp_path / "out.mp4", keep_images=True)
    assert (out.width, out.height) == (640, 480) and result.cropped_to_even
    assert out.frame_count == 8 and indices(out) == list(range(8))


@pytest.mark.parametrize("rotation", [90, 270])
def test_rotation_is_honoured(tmp_path, rotation):
    clip = write_test_clip(tmp_path / "rot.mp4", width=96, height=64, frames=6, rotation=rotation)
    stylize_video(clip.path, tmp_path / "out.mp4", invert, progress=False)
    out = probe_video(tmp_path / "out.mp4", keep_images=True)
    # Upright pixels, no rotation left to apply: a player shows what the source showed.
    assert (out.width, out.height) == (64, 96) and out.rotation == 0
    assert [read_frame_index(np.rot90(255 - im, k=-rotation // 90)) for im in out.images] == list(range(6))


def test_cut_starts_at_zero_and_keeps_audio_in_step(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", seconds=2.0, fps=25)
    result = stylize_video(clip.path, tmp_path / "cut.mp4", invert, progress=False, start=0.5, end=1.5)
    out = probe_video(tmp_path / "cut.mp4", keep_images=True)
    # Frames 13..37 (0.52 s ... 1.48 s): the first one at 0.
    assert indices(out) == list(range(13, 38)) and result.frames_out == 25
    assert out.times[0] == 0 and out.times[-1] == Fraction(24, 25)
    assert out.audio[0].seconds == pytest.approx(1.0, abs=0.05)
    assert float(out.audio[0].packets[0][0]) == pytest.approx(0.0, abs=0.03)


def test_resize_options(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", width=160, height=120, frames=4, audio=False)
    stylize_video(clip.path, tmp_path / "small.mp4", invert, progress=False, long_side=80)
    assert (probe_video(tmp_path / "small.mp4").width, probe_video(tmp_path / "small.mp4").height) == (80, 60)
    stylize_video(clip.path, tmp_path / "sized.mkv", invert, progress=False, size="96x64")
    assert probe_video(tmp_path / "sized.mkv").width == 96


def test_webm_transcodes_aac_to_opus(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=20)
    result = stylize_video(clip.path, tmp_path / "out.webm", invert, progress=False)
    out = probe_video(tmp_path / "out.webm")
    assert out.codec == "vp9" and out.audio[0].codec == "opus" and result.audio_transcoded
    assert out.frame_count == 20
    assert out.audio[0].seconds == pytest.approx(0.8, abs=0.05)


def test_no_audio_and_mov_output(tmp_path):
    clip = write_test_clip(tmp_path / "in.mov", frames=10)
    stylize_video(clip.path, tmp_path / "out.mov", invert, progress=False, audio=False)
    out = probe_video(tmp_path / "out.mov")
    assert out.audio == [] and out.frame_count == 10


def test_hevc_output(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=6)
    stylize_video(clip.path, tmp_path / "out.mp4", invert, progress=False, codec="hevc")
    out = probe_video(tmp_path / "out.mp4")
    assert out.codec == "hevc" and out.frame_count == 6 and out.audio[0].codec == "aac"


def test_image_folder_output(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=5, audio=False)
    stylize_video(clip.path, tmp_path / "frames", invert, progress=False)
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [f"frame_{i:06d}.png" for i in range(5)]


def test_post_processor_sees_original_and_stylized(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=5, audio=False)
    calls = []

    def post(original, stylized):
        calls.append(read_frame_index(original))
        assert read_frame_index(255 - stylized) == calls[-1]
        return stylized

    stylize_video(clip.path, tmp_path / "out.mp4", invert, progress=False, post=post)
    assert calls == [0, 1, 2, 3, 4]


# --- faults: one clear error, nothing left under the final name -----------------------------------

def test_missing_input(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        stylize_video(tmp_path / "nope.mp4", tmp_path / "out.mp4", invert, progress=False)
    assert not (tmp_path / "out.mp4").exists()


def test_refuses_to_overwrite_input_even_with_overwrite(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=3, audio=False)
    before = clip.path.read_bytes()
    with pytest.raises(OutputError, match="overwrite the input"):
        stylize_video(clip.path, clip.path, invert, progress=False, overwrite=True)
    assert clip.path.read_bytes() == before


def test_existing_output_needs_overwrite(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=3, audio=False)
    (tmp_path / "out.mp4").write_bytes(b"precious")
    with pytest.raises(OutputError, match="--overwrite"):
        stylize_video(clip.path, tmp_path / "out.mp4", invert, progress=False)
    assert (tmp_path / "out.mp4").read_bytes() == b"precious"
    stylize_video(clip.path, tmp_path / "out.mp4", invert, progress=False, overwrite=True)
    assert probe_video(tmp_path / "out.mp4").frame_count == 3


def test_bad_output_format_and_codec(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=3, audio=False)
    with pytest.raises(OutputError, match="unsupported output format"):
        stylize_video(clip.path, tmp_path / "out.avi", invert, progress=False)
    with pytest.raises(OutputError, match="cannot hold h264"):
        stylize_video(clip.path, tmp_path / "out.webm", invert, progress=False, codec="h264")
    with pytest.raises(OutputError, match="does not exist"):
        stylize_video(clip.path, tmp_path / "missing" / "out.mp4", invert, progress=False)


def test_corrupt_middle_of_file(tmp_path):
    clip = write_test_clip(tmp_path / "in.mkv", frames=60, audio=False)
    data = bytearray(clip.path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4000] = bytes(4000)  # zero a chunk of packets
    broken = tmp_path / "broken.mkv"
    broken.write_bytes(bytes(data))
    # FFmpeg conceals damage where it can; either all frames come out or a clean InputError.
    try:
        result = stylize_video(broken, tmp_path / "out.mp4", invert, progress=False)
        assert result.frames_out > 0
    except InputError:
        assert not (tmp_path / "out.mp4").exists()
    assert no_leftovers(tmp_path)


def test_truncated_file_fails_before_writing(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=30)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.path.read_bytes()[:4000])
    with pytest.raises(InputError):
        stylize_video(cut, tmp_path / "out.mp4", invert, progress=False)
    assert not (tmp_path / "out.mp4").exists() and no_leftovers(tmp_path)


def fails_on_frame(number: int, error: BaseException) -> FunctionStylizer:
    """A stylizer that returns each (H, W, 3) uint8 frame unchanged but raises ``error`` on the ``number``-th (from 1)."""
    seen = 0

    def stylize(image):
        nonlocal seen
        seen += 1
        if seen == number:
            raise error
        return image

    return FunctionStylizer(stylize)


def test_error_mid_run_leaves_nothing(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=40)
    out_of_memory = fails_on_frame(20, RuntimeError("out of memory"))
    with pytest.raises(RuntimeError):
        stylize_video(clip.path, tmp_path / "out.mp4", out_of_memory, progress=False)
    assert not (tmp_path / "out.mp4").exists() and no_leftovers(tmp_path)


def test_keep_partial_leaves_a_playable_file(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", frames=40)
    interrupted = fails_on_frame(25, KeyboardInterrupt())  # as if Ctrl-C came during frame 25
    with pytest.raises(KeyboardInterrupt):
        stylize_video(clip.path, tmp_path / "out.mp4", interrupted, progress=False, keep_partial=True)
    out = probe_video(tmp_path / "out.mp4", keep_images=True)
    assert out.frame_count == 24
    assert [read_frame_index(im) for im in out.images] == list(range(24))
    assert out.audio[0].seconds == pytest.approx(24 / 25, abs=0.05)  # audio stops with the video
    assert no_leftovers(tmp_path)


def test_full_disk_is_one_clear_error(tmp_path):
    """A real write failure: the file-size limit makes the kernel refuse writes (EFBIG), like a full disk."""
    import subprocess
    import sys
    import textwrap

    clip = write_test_clip(tmp_path / "in.mp4", width=320, height=240, frames=50)
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        from vidstyle.errors import OutputError
        from vidstyle.pipeline.video import stylize_video
        from vidstyle.runtime.base import FunctionStylizer
        try:
            stylize_video({str(clip.path)!r}, {str(tmp_path / 'out.mp4')!r}, FunctionStylizer(lambda im: im),
                          progress=False, crf=0)
        except OutputError as exc:
            print(exc)
            sys.exit(2)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "file size limit reached while writing" in proc.stdout and str(tmp_path / "out.mp4") in proc.stdout
    assert not (tmp_path / "out.mp4").exists() and no_leftovers(tmp_path)


def test_temporal_smooth_reduces_frame_to_frame_flicker(tmp_path):
    clip = write_test_clip(tmp_path / "in.mp4", width=128, height=96, frames=12, audio=False)
    rng = np.random.default_rng(0)

    def flickery(image):  # a stylizer whose output jitters from frame to frame, as real ones do
        return np.clip(image.astype(np.int16) + rng.integers(-40, 40, size=(1, 1, 3)), 0, 255).astype(np.uint8)

    def jitter(path):
        frames = [im.astype(np.float32) for im in probe_video(path, keep_images=True).images]
        return np.mean([np.abs(b - a).mean() for a, b in zip(frames, frames[1:])])

    stylize_video(clip.path, tmp_path / "raw.mp4", FunctionStylizer(flickery), progress=False, crf=0)
    stylize_video(clip.path, tmp_path / "smooth.mp4", FunctionStylizer(flickery), progress=False, crf=0, temporal="smooth")
    assert probe_video(tmp_path / "smooth.mp4").frame_count == 12
    assert jitter(tmp_path / "smooth.mp4") < 0.7 * jitter(tmp_path / "raw.mp4")


def test_gpu_file_mode_batches_and_gives_the_codecs_threads():
    from vidstyle.pipeline.video import GPU_BATCH, VideoOptions, _use_gpu_file_mode

    opts = VideoOptions()
    _use_gpu_file_mode(opts)
    assert opts.batch_size == GPU_BATCH == opts.runtime_options["batch_size"]
    assert opts.decode_threads >= 1 and opts.encode_threads >= 1
    assert opts.queue_size >= 2 * GPU_BATCH
    chosen = VideoOptions(batch_size=2)
    _use_gpu_file_mode(chosen)
    assert chosen.batch_size == 2 == chosen.runtime_options["batch_size"]
