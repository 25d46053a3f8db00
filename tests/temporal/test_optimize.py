"""--temporal optimize (Ruder et al. 2016) on tiny clips with few steps."""
from fractions import Fraction

import numpy as np
import pytest
import torch

from vidstyle.errors import InputError
from vidstyle.gatys import GatysOptions
from vidstyle.io.encoder import VideoFileSink
from vidstyle.io.file import FileSource
from vidstyle.io.synthetic import write_test_clip
from vidstyle.temporal.evaluate import EvaluationOptions, evaluate_frames
from vidstyle.types import Frame
from vidstyle.temporal.optimize import OptimizeOptions, default_cache_folder, long_term_masks, render_optimized_video

TINY = dict(size=48, steps=2, first_frame_steps=2, gatys=GatysOptions(device="cpu", precision="float32"))


class Interrupt(Exception):
    pass


def test_an_interrupted_render_resumes_without_recomputing_finished_frames(tmp_path, style_texture):
    clip = write_test_clip(tmp_path / "in.mp4", width=48, height=32, frames=5, audio=True)
    out = tmp_path / "out.mp4"
    options = OptimizeOptions(passes=2, **TINY)  # 10 frame optimisations: forward, then backward

    seen = []

    def stop_after_three(event):
        seen.append((event.pass_index, event.frame_index, event.cached))
        if len(seen) == 3:
            raise Interrupt()

    with pytest.raises(Interrupt):
        render_optimized_video(clip.path, out, style_texture, options, progress=stop_after_three)
    assert not out.exists(), "no output until the render is complete"
    assert seen == [(0, 0, False), (0, 1, False), (0, 2, False)]
    cache_files = sorted(p.name for p in default_cache_folder(out).rglob("*.png"))
    assert cache_files == ["pass0_000000.png", "pass0_000001.png", "pass0_000002.png"]

    events = []
    result = render_optimized_video(clip.path, out, style_texture, options, progress=events.append)
    assert [(e.pass_index, e.frame_index) for e in events if e.cached] == [(0, 0), (0, 1), (0, 2)]
    assert result["computed"] == 7 and result["cached"] == 3
    # The second pass runs backward over the frames.
    assert [e.frame_index for e in events if e.pass_index == 1] == [4, 3, 2, 1, 0]
    assert events[-1].eta_seconds == pytest.approx(0.0, abs=1e-6)
    with FileSource(out) as source:
        frames = list(source)
        assert source.info.has_audio
    assert len(frames) == 5 and frames[0].image.shape == (32, 48, 3)
    assert not default_cache_folder(out).exists(), "the cache is removed after a complete render"


def test_changed_settings_do_not_reuse_the_cache(tmp_path, style_texture):
    clip = write_test_clip(tmp_path / "in.mp4", width=48, height=32, frames=3, audio=False)
    out = tmp_path / "out.mp4"
    first = render_optimized_video(clip.path, out, style_texture, OptimizeOptions(keep_cache=True, **TINY), progress=False)
    assert first["computed"] == 3
    again = render_optimized_video(clip.path, out, style_texture, OptimizeOptions(keep_cache=True, **TINY), progress=False,
                                   overwrite=True)
    assert again["computed"] == 0 and again["cached"] == 3
    other = OptimizeOptions(keep_cache=True, temporal_weight=5.0, **TINY)
    changed = render_optimized_video(clip.path, out, style_texture, other, progress=False, overwrite=True)
    assert changed["computed"] == 3 and changed["cache"] != first["cache"]


def test_temporal_loss_holds_a_static_clip_still(tmp_path, style_texture):
    # A still clip: every frame is the same picture. Without the temporal term each frame's optimisation
    # wanders on its own; with it, frames stay equal to their warped predecessor.
    clip = write_test_clip(tmp_path / "in.mp4", width=48, height=32, frames=1, audio=False)
    with FileSource(clip.path) as source:
        still = next(iter(source)).image
    frames = [still] * 3
    static = tmp_path / "static.mp4"
    sink = VideoFileSink(static)
    for i, f in enumerate(frames):
        sink.write(Frame(f, i, Fraction(1, 10), i))
    sink.close()
    errors = {}
    for weight in (0.0, 1e4):
        out = tmp_path / f"out_{weight}.mp4"
        opts = OptimizeOptions(temporal_weight=weight, size=48, steps=3, first_frame_steps=3,
                               gatys=GatysOptions(device="cpu", precision="float32", init="noise"))
        render_optimized_video(static, out, style_texture, opts, progress=False)
        with FileSource(out) as source:
            stylized = [f.image for f in source]
        errors[weight] = evaluate_frames(frames, stylized, options=EvaluationOptions(flow_preset="fast"), losses=False)[
            "warping_error"
        ]
    print("E_warp without / with the temporal loss:", errors)
    assert errors[1e4] < 0.5 * errors[0.0]


def test_long_term_masks_count_each_pixel_once():
    near = torch.tensor([1.0, 1.0, 0.0, 0.0]).view(1, 1, 1, 4)
    mid = torch.tensor([1.0, 0.0, 1.0, 0.0]).view(1, 1, 1, 4)
    far = torch.tensor([1.0, 1.0, 1.0, 1.0]).view(1, 1, 1, 4)
    out = long_term_masks([near, mid, far])
    assert out[0].flatten().tolist() == [1, 1, 0, 0]
    assert out[1].flatten().tolist() == [0, 0, 1, 0]
    assert out[2].flatten().tolist() == [0, 0, 0, 1]


def test_bad_options_and_inputs_raise_input_error(tmp_path, style_texture):
    with pytest.raises(InputError, match="passes"):
        OptimizeOptions(passes=0)
    with pytest.raises(InputError, match="long-term"):
        OptimizeOptions(long_term=(0, 2))
    assert OptimizeOptions(long_term=(4, 2)).distances == (1, 2, 4)
    with pytest.raises(InputError, match="not found"):
        render_optimized_video(tmp_path / "missing.mp4", tmp_path / "o.mp4", style_texture, OptimizeOptions(**TINY))


def test_an_init_model_starts_every_frame_stylized(tmp_path, style_texture):
    # One optimiser step barely moves a frame, so the result shows where each frame started: from the
    # network's output (the first frame whole, later frames where the warped previous result does not reach).
    from vidstyle.runtime import create_stylizer
    from vidstyle.temporal.optimize import optimize_frames

    clip = write_test_clip(tmp_path / "in.mp4", width=64, height=48, frames=3, audio=False)
    with FileSource(clip.path) as source:
        photos = [f.image for f in source]
    net = create_stylizer("starry_night-fast-painted", backend="torch", device="cpu", threads=1)
    painted = [net.stylize(p).astype(np.float32) for p in photos]
    options = OptimizeOptions(size=64, steps=1, first_frame_steps=1, init_model="starry_night-fast-painted",
                              gatys=GatysOptions(device="cpu", precision="float32"))
    started, _, _ = optimize_frames(photos, style_texture, options)
    plain, _, _ = optimize_frames(photos, style_texture, OptimizeOptions(size=64, steps=1, first_frame_steps=1,
                                                                         gatys=options.gatys))
    for i in range(3):
        to_net = np.abs(started[i].astype(np.float32) - painted[i]).mean()
        photo_to_net = np.abs(photos[i].astype(np.float32) - painted[i]).mean()
        # Later frames start mostly from the warped previous result: the network's own flicker separates them.
        assert to_net < (0.2 if i == 0 else 0.5) * photo_to_net, (i, to_net, photo_to_net)
        assert np.abs(plain[i].astype(np.float32) - painted[i]).mean() > 0.6 * photo_to_net
    assert cache_key_of(clip.path, style_texture, options) != cache_key_of(clip.path, style_texture, OptimizeOptions(size=64))


def cache_key_of(path, style, options):
    from vidstyle.temporal.optimize import cache_key

    return cache_key(path, style, options)
