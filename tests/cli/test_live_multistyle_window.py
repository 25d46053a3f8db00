"""`vidstyle live --style` in a real window under Xvfb: b blends with the next style, n moves on, at once."""
from __future__ import annotations

import pytest
import torch

from test_live_cli import LiveWindow, _closer, write_still_clip, xvfb  # noqa: F401 - xvfb is a fixture
from vidstyle.io.file import FileSource
from vidstyle.io.synthetic import synthetic_scene
from vidstyle.models import build_network, full_arch_params, save_model
from vidstyle.runtime import create_stylizer

STYLES = ["candy", "mosaic", "udnie"]


@pytest.mark.slow
def test_style_keys_change_the_window_from_the_next_frame(tmp_path, xvfb):  # noqa: F811
    torch.manual_seed(0)
    params = full_arch_params("multistyle", styles=STYLES, channels=8, blocks=1, mid=8)
    network = build_network("multistyle", **params)
    with torch.no_grad():
        for layer in network.conditional_norms:
            layer.weight.uniform_(0.3, 2.0)
            layer.bias.uniform_(-0.5, 0.5)
    zoo = save_model(tmp_path / "tiny-zoo.safetensors", network, {"architecture": "multistyle", "arch_params": params})
    clip = write_still_clip(tmp_path / "still.mp4", synthetic_scene(240, 320), seconds=60.0)
    with FileSource(clip) as source:
        picture = next(iter(source)).image
    reference = create_stylizer(str(zoo), backend="torch", device="cpu", threads=1, tile=None)
    looks = {}
    for style in ("udnie", "udnie=0.5,candy=0.5", "candy"):
        reference.set_style(style)
        looks[style] = reference.stylize(picture)

    live = LiveWindow(xvfb, ["--camera", str(clip), "--model", str(zoo), "--style", "udnie", "--backend", "torch",
                             "--threads", "1"])
    try:
        live.wait_for(lambda shown: _closer(shown, looks["udnie"], picture) and _closer(shown, looks["udnie"], looks["candy"]))
        live.keys("b")  # udnie blended 50/50 with the style after it (candy, wrapping round)
        live.wait_for(lambda shown: _closer(shown, looks["udnie=0.5,candy=0.5"], looks["udnie"]), seconds=20)
        live.keys("n")  # the next entry: candy alone, the blend ends
        live.wait_for(lambda shown: _closer(shown, looks["candy"], looks["udnie=0.5,candy=0.5"]), seconds=20)
        err = live.quit()
        assert "1 style switch" in err and "loaded a model" not in err  # n switched styles, it loaded nothing
    finally:
        live.close()
