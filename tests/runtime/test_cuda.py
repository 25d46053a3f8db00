"""The torch backend on CUDA: fp16 against CPU fp32, batched streams, GPU file mode (skipped without a GPU)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.io.synthetic import synthetic_scene
from vidstyle.runtime.torch_backend import TorchStylizer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CUDA = torch.device("cuda")
CPU = torch.device("cpu")


@pytest.mark.parametrize("arch", ["fast", "quality"])
def test_fp16_on_cuda_agrees_with_cpu_fp32(arch, fast_net, quality_net):
    net = fast_net if arch == "fast" else quality_net
    image = synthetic_scene(120, 160, seed=5)
    ref = TorchStylizer(net, CPU, precision="fp32").stylize(image).astype(np.int16)
    got = TorchStylizer(net, CUDA, precision="fp16").stylize(image).astype(np.int16)
    diff = np.abs(got - ref)
    assert got.shape == ref.shape
    assert np.percentile(diff, 99.9) <= 2, f"max {diff.max()}, mean {diff.mean():.3f}"
    assert diff.mean() < 0.5


def test_stream_batches_keep_order_and_match_single_frames(fast_net):
    stylizer = TorchStylizer(fast_net, CUDA, precision="fp32", batch_size=3)
    frames = [synthetic_scene(64, 96, seed=i) for i in range(7)] + [synthetic_scene(48, 64, seed=9)]  # a size change too
    streamed = list(stylizer.stylize_stream(frames))
    single = [stylizer.stylize(f) for f in frames]
    assert len(streamed) == len(frames)
    for a, b in zip(streamed, single):
        assert a.shape == b.shape
        assert np.abs(a.astype(np.int16) - b.astype(np.int16)).max() <= 1


def test_video_file_mode_on_cuda_keeps_every_frame_and_the_audio(tmp_path, fast_net):
    from vidstyle.io.probe import probe_video
    from vidstyle.io.synthetic import write_test_clip
    from vidstyle.pipeline.video import stylize_video

    clip = write_test_clip(tmp_path / "in.mp4", seconds=2.0, fps=25)
    result = stylize_video(clip.path, tmp_path / "out.mp4", fast_net, device="cuda", progress=False)
    out = probe_video(tmp_path / "out.mp4")
    assert result.frames_out == out.frame_count == 50
    assert out.times == clip.times
    assert out.audio and out.audio[0].codec == "aac"
