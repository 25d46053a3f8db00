"""Temporal training on real consecutive video frames (``--video-data``): pairs, flow, masks, trainer and CLI."""
from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from vidstyle.cli.main import main
from vidstyle.errors import InputError
from vidstyle.io.synthetic import synthetic_scene, synthetic_style, write_test_clip
from vidstyle.models import load_model
from vidstyle.train import TrainConfig, train
from vidstyle.train.motion import move
from vidstyle.train.video_pairs import VideoFramePairs, share_budget


@pytest.fixture(scope="module")
def video_folder(tmp_path_factory):
    """A folder with a short moving-pattern clip (10 fps, so things move several pixels a frame), a nested
    second clip and a file that only looks like a video."""
    folder = tmp_path_factory.mktemp("videos")
    write_test_clip(folder / "pattern.mp4", width=128, height=96, fps=10, frames=12, audio=False)
    (folder / "more").mkdir()
    write_test_clip(folder / "more" / "pattern.mkv", width=96, height=64, fps=10, frames=6, audio=False)
    (folder / "broken.mov").write_bytes(b"not a video")
    return folder


@pytest.fixture
def photos_and_style(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(2):
        Image.fromarray(synthetic_scene(72, 88, seed=i)).save(folder / f"p{i}.png")
    style = tmp_path / "style.png"
    Image.fromarray(synthetic_style(64, 64)).save(style)
    return folder, style


def _masked_mean_abs(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    return float(((a - b).abs() * mask).sum() / (mask.sum() * a.shape[-3]))


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_pairs_warp_prev_onto_cur_where_the_mask_says_visible(video_folder):
    with pytest.warns(UserWarning, match="broken.mov"):
        pairs = VideoFramePairs(video_folder, 48, max_pairs=10, seed=0)
    assert len(pairs) == 10 and pairs.videos_used == 2
    prev, cur, flow, mask = pairs.batch(4, torch.Generator().manual_seed(0))
    assert prev.shape == cur.shape == (4, 3, 48, 48) and flow.shape == (4, 2, 48, 48) and mask.shape == (4, 1, 48, 48)
    assert 0 <= prev.min() and prev.max() <= 1 and 0 <= cur.min() and cur.max() <= 1
    assert set(mask.unique().tolist()) <= {0.0, 1.0} and mask.mean() > 0.3
    assert flow.abs().max() > 1  # the pattern moves
    # Warping prev by the flow brings it closer to cur on the visible pixels; a mirrored pair (flow x negated)
    # matches exactly as well as the original (with the x component left alone it would be ~2x worse).
    warped_errors, still_errors = [], []
    for index in range(len(pairs)):
        prev, cur, flow, mask = (t.unsqueeze(0) for t in pairs.pair(index))
        warped_errors.append(_masked_mean_abs(move(prev, flow), cur, mask))
        still_errors.append(_masked_mean_abs(prev, cur, mask))
        assert warped_errors[-1] < still_errors[-1], index
        prev, cur, flow, mask = (t.unsqueeze(0) for t in pairs.pair(index, flip=True))
        assert _masked_mean_abs(move(prev, flow), cur, mask) == pytest.approx(warped_errors[-1], rel=1e-3), index
    assert sum(warped_errors) < 0.6 * sum(still_errors)


def test_pair_budget_is_shared_evenly_and_short_videos_give_theirs_away():
    assert share_budget([1000, 1000, 1000], 10) == [3, 3, 4]
    assert share_budget([2, 1000, 1000], 10) == [2, 4, 4]
    assert share_budget([2, 3], 10) == [2, 3]


@pytest.mark.filterwarnings("ignore:skipping unreadable")
def test_four_temporal_steps_on_video_pairs_save_a_video_temporal_model(tmp_path, video_folder, photos_and_style):
    photos, style = photos_and_style
    logged: list[str] = []
    config = TrainConfig(style=style, data=photos, out=tmp_path / "toy-fast-temporal.safetensors",
                         run_dir=tmp_path / "run", arch="fast", size=48, batch=2, style_size=64, steps=4, lr=1e-2,
                         warmup_steps=1, log_every=2, checkpoint_every=0, preview_every=0, progress=False,
                         precision="fp32", temporal=True, video_data=video_folder, video_pairs=6)
    result = train(config, log=logged.append)
    assert any("video frame pairs: 6 from 2 videos" in line for line in logged)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4] and all(r["temporal"] > 0 for r in log)
    meta = load_model(result.path).metadata
    assert meta["temporal"] is True and meta["temporal_source"] == "video"
    assert meta["training"]["video_data"] == str(video_folder) and meta["training"]["video_pairs"] == 6


def test_a_folder_without_videos_is_an_input_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no videos here")
    with pytest.raises(InputError, match="no videos"):
        VideoFramePairs(tmp_path, 32)
    with pytest.raises(InputError, match="not found"):
        VideoFramePairs(tmp_path / "absent", 32)


def test_cli_refuses_video_data_without_temporal(tmp_path, video_folder, photos_and_style, capsys):
    photos, style = photos_and_style
    out = tmp_path / "model.safetensors"
    code = main(["train", "--style", str(style), "--data", str(photos), "--out", str(out),
                 "--video-data", str(video_folder), "--steps", "1", "--no-progress"])
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidstyle: error: ") and "--video-data needs --temporal" in lines[0]
    assert not out.exists()
