"""Numbers every command takes (sizes, counts, threads, weights, times) go through one validation place:
NaN, infinity, zero, negative and absurd values are one line before any work, never a traceback or a hang."""
from __future__ import annotations

import math

import pytest

from tests.faults.corpus import Snapshot, assert_refused, partial_files, run_cli
from vidstyle.errors import InputError
from vidstyle.utils import validate


def test_validate_helpers():
    assert validate.finite("--x", "0.5", 0, 1) == 0.5
    for bad in (math.nan, math.inf, -math.inf, "abc", None):
        with pytest.raises(InputError, match="--x must be"):
            validate.finite("--x", bad)
    with pytest.raises(InputError, match="between 0 and 1"):
        validate.finite("--x", 2, 0, 1)
    with pytest.raises(InputError, match="more than 0"):
        validate.finite("--x", 0, low=0, low_open=True)
    assert validate.integer("--n", 3.0, 1) == 3
    for bad in (2.5, True, "3", math.nan):
        with pytest.raises(InputError, match="whole number"):
            validate.integer("--n", bad)
    with pytest.raises(InputError, match="at most"):
        validate.threads(10**6)
    assert validate.threads(None) is None and validate.threads(2) == 2
    assert validate.parse_bytes("1.5G") == 3 << 29 and validate.parse_bytes("512m") == 512 << 20
    with pytest.raises(InputError, match="VIDSTYLE_MEMORY_LIMIT"):
        validate.check_memory(2 ** 50, "a huge thing")


def test_memory_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(validate.MEMORY_LIMIT_ENV, "64M")
    assert validate.memory_limit() == 64 << 20
    with pytest.raises(InputError, match="64.0 MB"):
        validate.check_memory(65 << 20, "this")
    monkeypatch.setenv(validate.MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(InputError, match="must look like"):
        validate.memory_limit()


VIDEO_CASES = [
    (("--start", "nan"), "--start must be a finite number"),
    (("--start", "-1"), "--start must be at least 0"),
    (("--end", "nan"), "--end must be a finite number"),
    (("--start", "0.4", "--end", "0.2"), "--end (0.2) must be after --start"),
    (("--smooth-blend", "nan", "--temporal", "smooth"), "--smooth-blend must be a finite number"),
    (("--smooth-blend", "2", "--temporal", "smooth"), "--smooth-blend must be"),
    (("--crf", "-1"), "--crf must be at least 0"),
    (("--crf", "1000"), "--crf must be at most"),
    (("--crf", "60"), "--crf for h264 must be at most 51"),
    (("--long-side", "100000"), "--long-side must be at most"),
    (("--long-side", "0"), "--long-side must be at least 1"),
    (("--size", "20000x20000"), "--size must be between"),
    (("--size", "0x10"), "--size must be between"),
    (("--strength", "nan"), "--strength must be a finite number"),
    (("--threads", "100000"), "--threads must be at most"),
    (("--batch", "-1"), "--batch must be at least 1"),
]


@pytest.mark.parametrize("extra,message", VIDEO_CASES)
def test_video_options(tmp_path, capsys, tiny_model, clip, extra, message):
    kept = Snapshot(clip)
    result = run_cli(capsys, "video", clip, tmp_path / "out.mp4", "--model", tiny_model, "-q", *extra)
    assert_refused(result, message)
    kept.assert_unchanged()
    assert not (tmp_path / "out.mp4").exists() and partial_files(tmp_path) == []


@pytest.mark.parametrize("extra,message", [
    (("--batch", "-1"), "--batch must be at least 1"),
    (("--strength", "nan"), "--strength must be a finite number"),
    (("--strength", "1.5"), "--strength must be between 0 and 1"),
    (("--long-side", "0"), "--long-side must be at least 1"),
    (("--long-side", "100000"), "--long-side must be at most"),
    (("--threads", "100000"), "--threads must be at most"),
])
def test_stylize_options(tmp_path, capsys, tiny_model, photo, extra, message):
    result = run_cli(capsys, "stylize", photo, tmp_path / "out.png", "--model", tiny_model, *extra)
    assert_refused(result, message)
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("extra,message", [
    (("--style-weight", "nan"), "--style-weight must be a finite number"),
    (("--content-weight", "-1"), "--content-weight must be at least 0"),
    (("--style-blend", "nan"), "--style-blend must be a finite number"),
    (("--lr", "nan"), "--lr must be a finite number"),
    (("--size", "3"), "--size must be at least 16"),
    (("--size", "0"), "--size must be at least 16"),
    (("--size", "20000"), "--size must be at most"),
    (("--scales", "8,64"), "--scales must be at least 16"),
    (("--style-scale", "1000"), "--style-scale 1000 makes the style images"),
    (("--style-scale", "nan"), "--style-scale must be a finite number"),
    (("--steps", "-1"), "--steps must be at least 0"),
    (("--save-every", "-2"), "--save-every must be at least 0"),
])
def test_image_options(tmp_path, capsys, photo, painting, extra, message):
    result = run_cli(capsys, "image", photo, painting, tmp_path / "out.png", "--quiet", *extra)
    assert_refused(result, message)
    assert not (tmp_path / "out.png").exists()


def test_image_refuses_a_content_too_thin_for_vgg(tmp_path, capsys, painting):
    from tests.faults.corpus import write_image

    thin = write_image(tmp_path / "thin.png", height=2, width=200)
    assert_refused(run_cli(capsys, "image", thin, painting, tmp_path / "out.png", "--size", "64", "--quiet"),
                   "short side")


@pytest.mark.parametrize("extra,message", [
    (("--runs", "0"), "--runs must be at least 1"),
    (("--threads", "100000"), "--threads must be at most"),
    (("--live-seconds", "nan"), "--live-seconds must be a finite number"),
])
def test_bench_options(capsys, extra, message):
    assert_refused(run_cli(capsys, "bench", "--no-live", *extra), message)


@pytest.mark.parametrize("extra,message", [
    (("--flow-scale", "0"), "--flow-scale must be"),
    (("--flow-scale", "nan"), "--flow-scale must be a finite number"),
    (("--max-frames", "1"), "--max-frames must be at least 2"),
    (("--loss-every", "0"), "--loss-every must be at least 1"),
])
def test_eval_temporal_options(capsys, clip, extra, message):
    assert_refused(run_cli(capsys, "eval-temporal", clip, clip, *extra), message)
