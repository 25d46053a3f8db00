"""--cluster without a cluster: segment plans at keyframes, the spec, and the one-line errors of bad input."""
from __future__ import annotations

import sys

import pytest

from vidstyle.cli.main import main
from vidstyle.errors import InputError
from vidstyle.io.synthetic import write_test_clip
from vidstyle.models.registry import find_model
from vidstyle.pipeline.cluster import ClusterOptions, plan_segments
from vidstyle.pipeline.cluster.driver import _model_file
from vidstyle.pipeline.cluster.options import parse_spec, warmup_frames


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_test_clip(tmp_path_factory.mktemp("clip") / "in.mp4", seconds=3.0, fps=25, keyint=10)


def test_segments_start_at_keyframes_and_cover_every_frame(clip):
    plan = plan_segments(clip.path, segment_frames=20)
    assert plan.frames == 75 and plan.keyframes == 8
    assert [p * plan.time_base for p in plan.pts] == clip.times
    firsts = [s.first for s in plan.segments]
    assert firsts == [0, 20, 40, 60] and all(s.keyframe for s in plan.segments)
    assert sum(s.frames for s in plan.segments) == 75
    assert [s.start for s in plan.segments] == [None, 0.8, 1.6, 2.4]
    assert [s.end for s in plan.segments] == [0.8, 1.6, 2.4, None]


def test_far_from_a_keyframe_a_segment_starts_between_keyframes(clip):
    plan = plan_segments(clip.path, segments=5, min_frames=8)  # even cuts every 15, keyframes every 10
    assert [s.first for s in plan.segments] == [0, 15, 30, 45, 60]
    assert [s.keyframe for s in plan.segments] == [True, False, True, False, True]


def test_warmup_and_fades_within_a_cut(clip):
    # Frames 25..64 of the clip; the even cut (frame 45) moves to the keyframe at frame 40.
    plan = plan_segments(clip.path, segment_frames=20, warmup=5, start=1.0, end=2.6, fade=3)
    assert plan.frames == 40 and plan.first_pts * plan.time_base == clip.times[25]
    first, second = plan.segments
    assert (first.first, first.frames, second.frames) == (0, 15, 25)
    assert (first.start, first.decode_from, first.warmup, first.fade, first.tail) == (1.0, 1.0, 0, 0, 3)
    assert (second.warmup, second.fade, second.tail, second.end, second.decode_to) == (5, 3, 0, 2.6, 2.6)
    assert second.start == first.end == float(clip.times[40])
    assert second.decode_from == float(clip.times[40 - 5])
    assert first.decode_to == float(clip.times[40 + 3])


def test_warmup_lets_smooth_history_fade_below_half_a_grey_level():
    k = warmup_frames("smooth", 0.8, None)
    assert 0.8 ** k < 1 / 510 <= 0.8 ** (k - 1)
    assert warmup_frames("none", None, None) == warmup_frames("trained", None, None) == 0
    assert warmup_frames("smooth", 0.5, 3) == 3


@pytest.mark.parametrize("spec, parsed", [
    ("local:4", ("local", None, 4)), ("local", ("local", None, None)), ("auto", ("auto", "auto", None)),
    ("ray://head.example:10001", ("client", "ray://head.example:10001", None)),
])
def test_specs(spec, parsed):
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize("spec", ["local:0", "ray://nohost", "http://head:10001", "8"])
def test_bad_specs(spec):
    with pytest.raises(InputError):
        ClusterOptions(spec=spec)


def test_trained_ships_the_temporal_variant():
    assert _model_file("starry_night-fast-painted", "trained") == find_model("starry_night-fast-painted-temporal")
    assert _model_file("starry_night-fast-painted", "none") == find_model("starry_night-fast-painted")
    assert _model_file(None, "optimize") is None


def run_cli(capsys, *args):
    code = main(["video", *map(str, args)])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize("extra, message", [
    (["--cluster", "ray://nowhere.invalid:1"], "cannot reach the Ray cluster at ray://nowhere.invalid:1"),
    (["--cluster", "mars"], "use local:N, ray://HOST:PORT or auto"),
    (["--cluster", "local:2", "--keep-partial"], "--keep-partial does not apply to --cluster"),
    (["--segment-frames", "10"], "--segment-frames needs --cluster"),
])
def test_bad_input_is_one_line(tmp_path, capsys, clip, extra, message):
    code, lines = run_cli(capsys, clip.path, tmp_path / "out.mp4", *extra)
    assert code != 0 and len(lines) == 1 and message in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_frames_folder_output_is_refused(tmp_path, capsys, clip):
    code, lines = run_cli(capsys, clip.path, tmp_path / "frames", "--cluster", "local:2")
    assert code != 0 and lines == ["vidstyle: error: --cluster writes a video file (.mp4, .mkv, .webm, .mov), "
                                   "not a folder of frames"]


def test_without_ray_the_error_says_what_to_install(tmp_path, capsys, clip, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray gives `import ray`
    code, lines = run_cli(capsys, clip.path, tmp_path / "out.mp4", "--cluster", "local:2")
    assert code != 0 and len(lines) == 1 and "pip install 'vidstyle[cluster]'" in lines[0]
