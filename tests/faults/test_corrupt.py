"""Damaged video input, as FFmpeg treats it: undecodable packets are skipped with a warning and counted,
every frame that decodes keeps its timestamp, a cut-short file renders what it has and says so; --strict
stops instead."""
from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.faults.corpus import Snapshot, assert_refused, partial_files, run_cli
from vidstyle.io.probe import probe_video
from vidstyle.io.synthetic import write_test_clip


def flip_packets(src: Path, dst: Path, first: int, count: int) -> Path:
    """A copy of ``src`` whose video packets ``first`` .. ``first + count - 1`` have their payload bytes
    flipped (the container's own structures stay intact, as when a disk or a transfer damages media data)."""
    with av.open(str(src)) as container:
        spans = [(p.pos, p.size) for p in container.demux(container.streams.video[0]) if p.size and p.pos is not None]
    data = bytearray(src.read_bytes())
    for pos, size in spans[first:first + count]:
        for i in range(pos + 4, pos + size, 3):
            data[i] ^= 0x5A
    dst.write_bytes(bytes(data))
    return dst


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("corrupt")
    out = {}
    for ext in (".mp4", ".mkv"):
        clean = write_test_clip(folder / f"clean{ext}", width=96, height=64, frames=60, audio=True).path
        out[f"clean{ext}"] = clean
        out[f"flipped{ext}"] = flip_packets(clean, folder / f"flipped{ext}", 25, 6)
    mkv = out["clean.mkv"].read_bytes()
    out["cut.mkv"] = folder / "cut.mkv"
    out["cut.mkv"].write_bytes(mkv[: len(mkv) // 2])
    return out


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_damaged_packets_are_skipped_and_every_decodable_frame_kept(tmp_path, capsys, tiny_model, clips, ext):
    src = clips[f"flipped{ext}"]
    kept = Snapshot(src)
    out = tmp_path / f"out{ext}"
    result = run_cli(capsys, "video", src, out, "--model", tiny_model, "--backend", "torch")
    assert result.code == 0, result.err
    assert "vidstyle: warning:" in result.err and "undecodable packet" in result.err
    assert "undecodable input packet" in result.err  # the count, in the summary line
    original, stylized = probe_video(clips[f"clean{ext}"]), probe_video(out)
    assert stylized.frame_count >= 0.8 * original.frame_count
    assert set(stylized.times) <= set(original.times)  # each kept frame at its own time
    kept.assert_unchanged()


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_strict_stops_at_the_first_damaged_packet(tmp_path, capsys, tiny_model, clips, ext):
    out = tmp_path / f"out{ext}"
    result = run_cli(capsys, "video", clips[f"flipped{ext}"], out, "--model", tiny_model, "--strict", "-q")
    assert_refused(result, "corrupt video")
    assert "--strict" in result.lines[0]
    assert not out.exists() and partial_files(tmp_path) == []


def test_a_cut_short_file_renders_what_it_has_and_says_so(tmp_path, capsys, tiny_model, clips):
    out = tmp_path / "out.mkv"
    result = run_cli(capsys, "video", clips["cut.mkv"], out, "--model", tiny_model, "--backend", "torch")
    assert result.code == 0, result.err
    frames = probe_video(out).frame_count
    assert 10 < frames < 45
    assert "vidstyle: warning: the input ended early" in result.err


def test_clean_input_says_nothing_about_damage(tmp_path, capsys, tiny_model, clips):
    result = run_cli(capsys, "video", clips["clean.mp4"], tmp_path / "o.mp4", "--model", tiny_model, "--backend",
                     "torch")
    assert result.code == 0 and "warning" not in result.err and "undecodable" not in result.err
    assert probe_video(tmp_path / "o.mp4").frame_count == 60


def test_a_truncated_mp4_without_its_index_is_one_line(tmp_path, capsys, tiny_model, clips):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clips["clean.mp4"].read_bytes()[:20_000])  # PyAV writes the index (moov) at the end
    assert_refused(run_cli(capsys, "video", cut, tmp_path / "o.mp4", "--model", tiny_model), "corrupt/truncated")
    assert not (tmp_path / "o.mp4").exists()


def test_video_help_names_a_default_model(capsys):
    from vidstyle.cli.video import DEFAULT_MODEL

    result = run_cli(capsys, "video", "--help")
    assert result.code == 0 and f"default: {DEFAULT_MODEL}" in " ".join(result.out.split())


def test_eval_temporal_checks_lengths_before_processing(tmp_path, capsys):
    short = write_test_clip(tmp_path / "short.mp4", width=64, height=48, frames=10, audio=False).path
    long = write_test_clip(tmp_path / "long.mp4", width=64, height=48, frames=40, audio=False).path
    import time

    started = time.perf_counter()
    assert_refused(run_cli(capsys, "eval-temporal", long, short), "differ in length: long.mp4 has 40 frames")
    assert time.perf_counter() - started < 15  # refused from the headers: no VGG19, no flow


def test_eval_temporal_shows_a_progress_bar(tmp_path, capsys):
    clip = write_test_clip(tmp_path / "c.mp4", width=64, height=48, frames=4, audio=False).path
    result = run_cli(capsys, "eval-temporal", clip, clip, "--loss-every", "4")
    assert result.code == 0 and "evaluating" in result.err and "4/4" in result.err
