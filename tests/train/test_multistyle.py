"""Many paintings in one network: multistyle training, its palette loss, and add-style on the user's own video."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vidstyle.errors import InputError
from vidstyle.io.synthetic import synthetic_scene, synthetic_style, write_test_clip
from vidstyle.models import build_network, full_arch_params, load_model, save_model
from vidstyle.utils.hashing import file_sha256
from vidstyle.train import TrainConfig, train
from vidstyle.train.add_style import AddStyleConfig, add_style

TINY = {"channels": 8, "blocks": 1, "mid": 8}


@pytest.fixture
def paintings(tmp_path):
    folder = tmp_path / "paintings"
    folder.mkdir()
    for i, name in enumerate(("dots", "waves")):
        Image.fromarray(synthetic_style(64, 64, seed=10 + i)).save(folder / f"{name}.png")
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(synthetic_scene(72, 88, seed=i)).save(photos / f"p{i}.png")
    return folder, photos


def _train(tmp_path, paintings, **kw):
    folder, photos = paintings
    settings = dict(arch_params=TINY, size=32, batch=2, style_size=64, steps=4, warmup_steps=1, lr=1e-2, log_every=2,
                    checkpoint_every=0, preview_every=0, progress=False, precision="fp32", palette_weight=1e5,
                    run_dir=tmp_path / "run")
    config = TrainConfig(style=folder, data=photos, out=tmp_path / "models" / "tinyzoo.safetensors", arch="multistyle",
                         **{**settings, **kw})
    (tmp_path / "models").mkdir(exist_ok=True)
    return train(config, log=lambda _: None)


def _stylize(network, image, style):
    mix = torch.zeros(1, len(network.styles))
    mix[0, network.styles.index(style)] = 1.0
    with torch.no_grad():
        return network(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255, mix)


def test_one_network_learns_every_painting_of_a_folder(tmp_path, paintings):
    result = _train(tmp_path, paintings)
    assert result.losses["palette"] > 0 and np.isfinite(result.losses["total"])
    model = load_model(result.path)
    assert model.metadata["architecture"] == "multistyle"
    assert model.network.styles == ["dots", "waves"]
    assert [s["name"] for s in model.metadata["styles"]] == ["dots", "waves"]
    assert model.metadata["style_reference"] > 0
    photo = synthetic_scene(40, 48, seed=7)
    a, b = _stylize(model.network, photo, "dots"), _stylize(model.network, photo, "waves")
    assert a.shape == (1, 3, 40, 48) and (a - b).abs().mean() > 1e-4  # the style changes the output


def test_several_paintings_need_the_multistyle_network(tmp_path, paintings):
    folder, photos = paintings
    with pytest.raises(InputError, match="multistyle"):
        train(TrainConfig(style=folder, data=photos, out=tmp_path / "x.safetensors", arch="fast", steps=1,
                          run_dir=tmp_path / "run", progress=False), log=lambda _: None)


def test_add_style_learns_only_the_new_rows_from_a_video(tmp_path, paintings, monkeypatch):
    result = _train(tmp_path, paintings)
    monkeypatch.setenv("VIDSTYLE_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    before = load_model("tinyzoo").network
    photo = synthetic_scene(40, 48, seed=8)
    painting = tmp_path / "grandma.png"
    Image.fromarray(synthetic_style(64, 64, seed=42)).save(painting)
    clip = tmp_path / "holiday.mp4"
    write_test_clip(clip, width=96, height=72, seconds=1.0, audio=False)

    saved = add_style(AddStyleConfig(painting=painting, name="grandma", data=clip, model="tinyzoo", minutes=0.02,
                                     size=32, batch=2, progress=False), log=lambda _: None)
    assert saved.is_file() and saved.stat().st_size < 50_000  # rows only, not a network
    after = load_model("tinyzoo").network
    assert after.styles == ["dots", "waves", "grandma"]
    for style in ("dots", "waves"):  # the shipped styles are untouched
        assert torch.allclose(_stylize(before, photo, style), _stylize(after, photo, style), atol=1e-6)
    assert (_stylize(after, photo, "grandma") - _stylize(after, photo, "dots")).abs().mean() > 1e-4

    with pytest.raises(InputError, match="already added"):
        add_style(AddStyleConfig(painting=painting, name="grandma", data=clip, model="tinyzoo", minutes=0.01,
                                 size=32, batch=2, progress=False), log=lambda _: None)
    with pytest.raises(InputError, match="already holds"):
        add_style(AddStyleConfig(painting=painting, name="dots", data=clip, model="tinyzoo", minutes=0.01,
                                 size=32, batch=2, progress=False), log=lambda _: None)


def _colour_teacher(path, painting, colour):
    """A real single-style model file for ``painting`` that paints everything ``colour`` (RGB in [0, 1])."""
    params = full_arch_params("fast", channels=12, blocks=1, residual_output=False)
    network = build_network("fast", **params)
    with torch.no_grad():
        shuffle = network.decoder[3].conv[1]
        shuffle.weight.zero_()
        shuffle.bias.copy_(torch.tensor(colour).repeat_interleave(4))
    save_model(path, network, {"architecture": "fast", "arch_params": params, "style_name": painting.stem,
                               "style_image_sha256": file_sha256(painting)})
    return str(path)


def test_per_style_teachers_make_one_network_of_many(tmp_path, paintings):
    """--teacher A --teacher B with --arch multistyle: each painting learns its own teacher's outputs (matched by
    the painting's file, whatever the order), so trained single-style nets become one network."""
    folder, _ = paintings
    red = _colour_teacher(tmp_path / "red.safetensors", folder / "dots.png", (0.9, 0.1, 0.1))
    blue = _colour_teacher(tmp_path / "blue.safetensors", folder / "waves.png", (0.1, 0.1, 0.9))
    result = _train(tmp_path, paintings, teacher=[blue, red], distill_views=1, palette_weight=0.0, steps=60)
    network = load_model(result.path).network
    photo = synthetic_scene(40, 48, seed=7)
    dots, waves = (_stylize(network, photo, s).mean(dim=(0, 2, 3)) for s in ("dots", "waves"))
    assert dots[0] > dots[2] + 0.2 and waves[2] > waves[0] + 0.2
    assert load_model(result.path).metadata["training"]["teacher"] == [blue, red]
    with pytest.raises(InputError, match="none for waves"):
        _train(tmp_path, paintings, teacher=[red, red], steps=1, overwrite=True)
    with pytest.raises(InputError, match="red.safetensors repeats a painting"):
        _train(tmp_path, paintings, teacher=[red, blue, red], steps=1, overwrite=True)
    with pytest.raises(InputError, match="need --arch multistyle"):
        TrainConfig(style=folder / "dots.png", data=folder, out=tmp_path / "x.safetensors", teacher=[red, blue])


def test_a_multistyle_teacher_teaches_a_lighter_network_every_painting_it_holds(tmp_path, paintings):
    """--teacher ZOO: a lighter multistyle network (no full-resolution head) learns each painting from the
    multistyle teacher's own row for it, and a single-style student learns its one painting's row."""
    folder, photos = paintings
    red = _colour_teacher(tmp_path / "red.safetensors", folder / "dots.png", (0.9, 0.1, 0.1))
    blue = _colour_teacher(tmp_path / "blue.safetensors", folder / "waves.png", (0.1, 0.1, 0.9))
    zoo = str(_train(tmp_path, paintings, teacher=[red, blue], distill_views=1, palette_weight=0.0, steps=60).path)
    photo = synthetic_scene(40, 48, seed=7)

    settings = dict(data=photos, size=32, batch=2, steps=60, warmup_steps=1, lr=1e-2, checkpoint_every=0,
                    preview_every=0, progress=False, precision="fp32", palette_weight=0.0, distill_views=1,
                    teacher=zoo)
    lite = train(TrainConfig(style=folder, out=tmp_path / "lite.safetensors", arch="multistyle",
                             arch_params={**TINY, "head": 0}, run_dir=tmp_path / "lite", **settings), log=lambda _: None)
    network = load_model(lite.path).network
    assert network.head == 0 and network.styles == ["dots", "waves"]
    dots, waves = (_stylize(network, photo, s).mean(dim=(0, 2, 3)) for s in ("dots", "waves"))
    assert dots[0] > dots[2] + 0.2 and waves[2] > waves[0] + 0.2

    single = train(TrainConfig(style=folder / "waves.png", out=tmp_path / "waves.safetensors", arch="fast",
                               arch_params={"channels": 12, "blocks": 1, "residual_output": False},
                               run_dir=tmp_path / "single", **settings), log=lambda _: None)
    with torch.no_grad():
        colour = load_model(single.path).network(torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255)
    assert colour.mean(dim=(0, 2, 3))[2] > colour.mean(dim=(0, 2, 3))[0] + 0.2

    other = tmp_path / "other.png"
    Image.fromarray(synthetic_style(64, 64, seed=99)).save(other)
    with pytest.raises(InputError, match="not trained on other"):
        train(TrainConfig(style=other, out=tmp_path / "x.safetensors", arch="fast", run_dir=tmp_path / "x",
                          **{**settings, "steps": 1}), log=lambda _: None)
