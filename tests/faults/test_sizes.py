"""Images and frames of every size: tiny ones stylize, huge ones (or huge headers) are refused before they
are allocated, naming the memory limit; 16-bit grayscale keeps its tones."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.faults.corpus import Snapshot, assert_refused, frames_of, image_array, partial_files, run_cli, write_image
from vidstyle.io.synthetic import write_test_clip
from vidstyle.utils.image import load_image
from vidstyle.utils.validate import format_bytes, memory_limit


def png_with_header(path: Path, width: int, height: int, rows: int = 4) -> Path:
    """A small PNG whose header claims ``width`` x ``height`` (only a few rows of data follow)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = zlib.compress((b"\x00" + b"\x80" * (width * 3)) * rows, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("width,height", [(1, 1), (2, 3), (3, 2), (17, 5)])
def test_tiny_images_stylize(tmp_path, capsys, tiny_model, width, height):
    src = tmp_path / "tiny.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (height, width, 3), np.uint8)).save(src)
    for backend in ("torch", "onnxruntime"):
        out = tmp_path / f"out-{backend}.png"
        assert run_cli(capsys, "stylize", src, out, "--model", tiny_model, "--backend", backend, "--quiet").code == 0
        assert image_array(out).shape == (height, width, 3)


def test_long_side_one_and_tiny_videos(tmp_path, capsys, tiny_model, photo):
    out = tmp_path / "one.png"
    assert run_cli(capsys, "stylize", photo, out, "--model", tiny_model, "--long-side", "1", "--quiet").code == 0
    assert max(image_array(out).shape[:2]) == 1
    for width, height in ((1, 1), (2, 2), (2, 3)):
        clip = write_test_clip(tmp_path / f"c{width}x{height}.mp4", width=width, height=height, frames=3,
                               audio=False).path
        for target in (tmp_path / f"o{width}x{height}.mp4", tmp_path / f"frames{width}x{height}"):
            result = run_cli(capsys, "video", clip, target, "--model", tiny_model, "--backend", "torch", "-q")
            assert result.code == 0, result.err
        assert frames_of(tmp_path / f"o{width}x{height}.mp4") == 3
        assert image_array(tmp_path / f"frames{width}x{height}" / "frame_000000.png").shape == (height, width, 3)
    result = run_cli(capsys, "video", clip, tmp_path / "size1.mp4", "--model", tiny_model, "--size", "1x1", "-q")
    assert result.code == 0 and frames_of(tmp_path / "size1.mp4") == 3


def test_eval_temporal_refuses_frames_too_small_to_measure(tmp_path, capsys):
    clip = write_test_clip(tmp_path / "c.mp4", width=2, height=3, frames=3, audio=False).path
    assert_refused(run_cli(capsys, "eval-temporal", clip, clip), "too small to measure")


def test_sixteen_bit_grayscale_keeps_its_tones(tmp_path):
    ramp = np.linspace(0, 65535, 48 * 64).reshape(48, 64).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "g16.png")
    image = load_image(tmp_path / "g16.png")
    assert image.shape == (48, 64, 3) and image[0, 0, 0] == 0 and image[-1, -1, 0] == 255
    assert abs(float(image.mean()) - 127.5) < 2  # a ramp, not all white
    small = load_image(tmp_path / "g16.png", long_side=32)
    assert small.shape == (24, 32, 3) and 100 < small.mean() < 155


def test_sixteen_bit_grayscale_stylizes_like_its_eight_bit_copy(tmp_path, capsys, tiny_model):
    ramp = np.linspace(0, 65535, 48 * 64).reshape(48, 64).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "g16.png")
    Image.fromarray(np.rint(ramp / 257).astype(np.uint8)).save(tmp_path / "g8.png")
    for name in ("g16", "g8"):
        assert run_cli(capsys, "stylize", tmp_path / f"{name}.png", tmp_path / f"{name}-out.png", "--model",
                       tiny_model, "--backend", "torch", "--quiet").code == 0
    assert np.array_equal(image_array(tmp_path / "g16-out.png"), image_array(tmp_path / "g8-out.png"))


def test_huge_headers_are_refused_before_decoding(tmp_path, capsys, tiny_model, painting):
    bomb = png_with_header(tmp_path / "bomb.png", 30000, 30000)
    big = png_with_header(tmp_path / "big.png", 12000, 12000)
    kept = Snapshot(bomb, big)
    assert_refused(run_cli(capsys, "stylize", bomb, tmp_path / "o.png", "--model", tiny_model), "decompression bomb")
    assert_refused(run_cli(capsys, "stylize", big, tmp_path / "o.png", "--model", tiny_model),
                   "more than the limit")
    assert_refused(run_cli(capsys, "image", bomb, painting, tmp_path / "o.png", "--quiet"), "decompression bomb")
    assert_refused(run_cli(capsys, "image", painting, bomb, tmp_path / "o.png", "--quiet"), "decompression bomb")
    assert_refused(run_cli(capsys, "eval-temporal", tmp_path / "x.mp4", tmp_path / "x.mp4", "--style", bomb),
                   "decompression bomb")
    kept.assert_unchanged()
    assert not (tmp_path / "o.png").exists() and partial_files(tmp_path) == []


def test_train_refuses_a_bomb_style_and_skips_bomb_photos(tmp_path, capsys, painting):
    photos = tmp_path / "photos"
    photos.mkdir()
    png_with_header(photos / "bomb.png", 30000, 30000)
    bomb_style = png_with_header(tmp_path / "bomb-style.png", 30000, 30000)
    args = ("train", "--data", photos, "--out", tmp_path / "m.safetensors", "--run-dir", tmp_path / "run",
            "--size", "32", "--batch", "1", "--steps", "1", "--no-progress")
    # A bomb among the photos is skipped with a warning: here it is the only photo, so none is left.
    assert_refused(run_cli(capsys, *args, "--style", painting), "no readable photos")
    write_image(photos / "ok.png")
    assert_refused(run_cli(capsys, *args, "--style", bomb_style), "decompression bomb")


@pytest.mark.parametrize("command", ["stylize", "image"])
def test_huge_requested_sizes_are_refused_naming_the_limit(tmp_path, capsys, tiny_model, photo, painting, command):
    if command == "stylize":
        args = ("stylize", photo, tmp_path / "o.png", "--model", tiny_model, "--long-side", "16000")
    else:
        args = ("image", photo, painting, tmp_path / "o.png", "--size", "8000", "--quiet")
    assert_refused(run_cli(capsys, *args), f"more than the limit of {format_bytes(memory_limit())}")
    assert not (tmp_path / "o.png").exists()


def test_the_memory_limit_can_be_raised_or_lowered(tmp_path, capsys, tiny_model, photo, monkeypatch):
    monkeypatch.setenv("VIDSTYLE_MEMORY_LIMIT", "10K")
    result = run_cli(capsys, "stylize", photo, tmp_path / "o.png", "--model", tiny_model, "--backend", "torch")
    assert_refused(result, "more than the limit of 10.0 KB")
    monkeypatch.setenv("VIDSTYLE_MEMORY_LIMIT", "8G")
    result = run_cli(capsys, "stylize", photo, tmp_path / "o.png", "--model", tiny_model, "--backend", "torch")
    assert result.code == 0


def test_a_folder_skips_an_image_too_large_and_stylizes_the_rest(tmp_path, capsys, tiny_model, photo):
    photos = tmp_path / "photos"
    photos.mkdir()
    photo.rename(photos / "ok.png")
    png_with_header(photos / "huge.png", 12000, 12000)
    result = run_cli(capsys, "stylize", photos, tmp_path / "styled", "--model", tiny_model, "--backend", "torch")
    assert result.code == 0 and "skipping" in result.err and "huge.png" in result.err
    assert sorted(p.name for p in (tmp_path / "styled").iterdir()) == ["ok.png"]


def test_video_frames_too_large_for_memory_are_refused_before_the_render(tmp_path, capsys, tiny_model, clip):
    result = run_cli(capsys, "video", clip, tmp_path / "o.mp4", "--model", tiny_model, "--size", "16000x16000")
    assert_refused(result, "16000x16000 frames needs about")
    assert not (tmp_path / "o.mp4").exists() and partial_files(tmp_path) == []
