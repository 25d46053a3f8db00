import json

import numpy as np
import pytest

from vidstyle.cli.main import main
from vidstyle.errors import InputError
from vidstyle.flow.synthetic import shift_image, textured_image
from vidstyle.io.synthetic import write_test_clip
from vidstyle.temporal.evaluate import EvaluationOptions, evaluate_frames, evaluate_temporal

FAST = EvaluationOptions(flow_preset="fast")


def panning_frames(count: int = 8, step: float = 2.0) -> list[np.ndarray]:
    base = textured_image(96, 128, seed=21)
    # Whole-pixel motion, so warping does not interpolate (bilinear interpolation averages noise away).
    return [shift_image(base, step * i, 1.0 * i) for i in range(count)]


def with_flicker(frames: list[np.ndarray], amplitude: float, seed: int = 0) -> list[np.ndarray]:
    """Fresh Gaussian noise of std ``amplitude`` (in [0, 1] units) per frame: flicker."""
    rng = np.random.default_rng(seed)
    return [
        np.clip(f.astype(np.float32) + rng.normal(0, amplitude * 255, f.shape), 0, 255).round().astype(np.uint8)
        for f in frames
    ]


def test_warping_error_is_zero_for_a_static_video_stylized_identically():
    original = [textured_image(96, 128, seed=20)] * 6
    stylized = [255 - original[0]] * 6  # any deterministic stylization of identical frames
    result = evaluate_frames(original, stylized, options=FAST, losses=False)
    assert result["frames"] == 6
    assert result["warping_error"] == 0.0
    assert result["visible_fraction"] > 0.99


def test_warping_error_grows_with_injected_flicker():
    frames = panning_frames()
    errors = [
        evaluate_frames(frames, with_flicker(frames, a) if a else frames, options=FAST, losses=False)["warping_error"]
        for a in (0.0, 0.02, 0.05, 0.1)
    ]
    assert errors == sorted(errors) and errors[0] < errors[1]
    # Independent noise of std a in both frames adds 2·a² to the mean squared difference.
    for a, err in zip((0.05, 0.1), errors[2:]):
        assert err - errors[0] == pytest.approx(2 * a * a, rel=0.25)


def test_motion_followed_by_the_stylization_is_not_counted_as_flicker():
    frames = panning_frames()
    moving = evaluate_frames(frames, frames, options=FAST, losses=False)["warping_error"]
    # The same frames played in a scrambled order do flicker: everything jumps between frames.
    scrambled = [frames[i] for i in (0, 5, 2, 7, 1, 6, 3, 4)]
    jumpy = evaluate_frames(frames, scrambled, options=FAST, losses=False)["warping_error"]
    assert moving < 1e-3 and jumpy > 10 * moving


def test_style_loss_is_lower_when_the_frames_look_like_the_style(style_texture):
    frames = panning_frames(count=3)
    textured = [style_texture] * 3
    plain = evaluate_frames(frames, frames, style=style_texture, options=FAST)
    styled = evaluate_frames(frames, textured, style=style_texture, options=FAST)
    assert styled["style_loss"] < 0.2 * plain["style_loss"]
    assert plain["content_loss"] == pytest.approx(0.0, abs=1e-6)
    assert styled["content_loss"] > 0


def test_sequences_of_different_length_are_rejected():
    frames = panning_frames(count=4)
    with pytest.raises(InputError, match="differ in length"):
        evaluate_frames(frames, frames[:3], options=FAST, losses=False)
    with pytest.raises(InputError, match="at least two frames"):
        evaluate_frames(frames[:1], frames[:1], options=FAST, losses=False)


def test_evaluate_temporal_reads_video_files(tmp_path):
    clip = write_test_clip(tmp_path / "clip.mp4", width=128, height=96, seconds=0.4, audio=False)
    result = evaluate_temporal(clip.path, clip.path, flow_preset="fast", max_frames=6)
    assert result["frames"] == 6 and result["size"] == [128, 96]
    assert 0.0 <= result["warping_error"] < 0.01


def test_cli_prints_json_and_reports_bad_input(tmp_path, capsys):
    clip = write_test_clip(tmp_path / "clip.mp4", width=96, height=64, seconds=0.2, audio=False)
    assert main(["eval-temporal", str(clip.path), str(clip.path), "--json", "--flow-preset", "fast"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["frames"] == 5 and "warping_error" in result and result["style_loss"] is None
    assert main(["eval-temporal", str(tmp_path / "missing.mp4"), str(clip.path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vidstyle: error:") and "missing.mp4" in err and len(err.splitlines()) == 1
