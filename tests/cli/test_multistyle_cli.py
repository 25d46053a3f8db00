"""``--style`` in every command that runs a model, ``models list`` showing styles, retired model names."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vidstyle.cli.main import main
from vidstyle.io.file import FileSource
from vidstyle.io.synthetic import synthetic_scene, write_test_clip
from vidstyle.models import build_network, full_arch_params, save_model
from vidstyle.runtime import create_stylizer
from vidstyle.utils.image import load_image, save_image

STYLES = ["candy", "mosaic", "udnie"]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """A tiny untrained multi-style model, ``tiny-zoo``, on the registry's search path."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("zoo")
    params = full_arch_params("multistyle", styles=STYLES, channels=8, blocks=1, mid=8)
    network = build_network("multistyle", **params)
    with torch.no_grad():
        for layer in network.conditional_norms:
            layer.weight.uniform_(0.3, 2.0)
            layer.bias.uniform_(-0.5, 0.5)
        network.decoder[-1][1].weight.mul_(2.0)  # an untrained head draws near-grey: make the styles tell apart
    return save_model(folder / "tiny-zoo.safetensors", network, {"architecture": "multistyle", "arch_params": params})


@pytest.fixture
def registry(zoo, monkeypatch):
    monkeypatch.setenv("VIDSTYLE_MODELS", str(zoo.parent))
    return zoo


def expected(zoo, image: np.ndarray, style: str) -> np.ndarray:
    return create_stylizer(str(zoo), backend="torch", device="cpu", threads=1, tile=None, style=style).stylize(image)


def test_stylize_with_a_style_and_a_blend(tmp_path, registry):
    photo = save_image(synthetic_scene(60, 80, seed=1), tmp_path / "photo.png")
    for style in ("mosaic", "candy=0.6,udnie=0.4"):
        out = tmp_path / f"out-{style}.png"
        assert main(["stylize", str(photo), str(out), "--model", "tiny-zoo", "--style", style, "--backend", "torch",
                     "--threads", "1", "--quiet"]) == 0
        diff = np.abs(load_image(out).astype(int) - expected(registry, load_image(photo), style))
        assert diff.max() <= 1, style


@pytest.mark.parametrize("args,message", [
    (["--model", "tiny-zoo", "--style", "vangogh"], "unknown style 'vangogh'; tiny-zoo holds candy, mosaic, udnie"),
    (["--model", "tiny-zoo", "--style", "candy=-1"], "finite number >= 0"),
    (["--model", "tiny-zoo", "--style", "candy=0,mosaic=0"], "all 0"),
    (["--model", "FAST", "--style", "candy"], "untrained-fast holds one style"),
])
def test_a_bad_style_is_one_line_and_writes_nothing(tmp_path, registry, model_file, capfd, args, message):
    photo = save_image(synthetic_scene(40, 40), tmp_path / "photo.png")
    args = [str(model_file) if a == "FAST" else a for a in args]
    assert main(["stylize", str(photo), str(tmp_path / "out.png"), *args, "--backend", "torch"]) == 2
    err = capfd.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out.png").exists()


def test_video_with_a_blend(tmp_path, registry):
    clip = write_test_clip(tmp_path / "in.mp4", width=64, height=48, frames=6, fps=12, audio=False)
    out = tmp_path / "out.mkv"
    assert main(["video", str(clip.path), str(out), "--model", "tiny-zoo", "--style", "mosaic=1,udnie=1",
                 "--backend", "torch", "--threads", "1", "--quiet", "--crf", "0"]) == 0
    with FileSource(clip.path) as source:
        first_in = next(iter(source)).image
    with FileSource(out) as source:
        first_out = next(iter(source)).image
    blend, alone = expected(registry, first_in, "mosaic=0.5,udnie=0.5"), expected(registry, first_in, "mosaic")
    # yuv420p halves the chroma of this tiny saturated frame, so the blend is matched only up to that.
    assert np.abs(first_out.astype(int) - blend).mean() < 0.5 * np.abs(first_out.astype(int) - alone).mean()


def test_models_list_and_info_show_the_styles(registry, capsys):
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("tiny-zoo "))
    assert lines[row + 1].strip() == "3 styles: candy, mosaic, udnie"
    assert main(["models", "info", "tiny-zoo"]) == 0
    assert "3 styles (--style NAME or A=0.6,B=0.4): candy, mosaic, udnie" in capsys.readouterr().out


def test_export_bakes_the_style_in(tmp_path, registry, capsys):
    import onnxruntime as ort

    out = tmp_path / "zoo.onnx"
    assert main(["export", "tiny-zoo", str(out), "--uint8", "--style", "udnie=0.7,candy=0.3"]) == 0
    assert "style udnie=0.7,candy=0.3" in capsys.readouterr().out
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    image = synthetic_scene(40, 56, seed=4)
    got = session.run(["output"], {"input": image[None]})[0][0]
    assert np.abs(got.astype(int) - expected(registry, image, "udnie=0.7,candy=0.3")).max() <= 1


def test_bench_times_styles_interleaved(registry, capsys):
    assert main(["bench", "--model", "tiny-zoo", "--sizes", "64x48", "--backend", "torch", "--threads", "1",
                 "--runs", "2", "--warmup", "1", "--no-live", "--json", "--style", "mosaic",
                 "--style", "mosaic=0.5,udnie=0.5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [t["backend"] for t in report["model_only"]] == ["torch mosaic", "torch mosaic=0.5,udnie=0.5"]
    assert all(t["runs"] == 2 and t["ms_median"] > 0 for t in report["model_only"])


def test_live_starts_on_the_given_style(tmp_path, zoo, capsys):
    clip = write_test_clip(tmp_path / "cam.mp4", width=64, height=48, seconds=2.0, fps=30, audio=False)
    assert main(["live", "--camera", str(clip.path), "--model", str(zoo), "--style", "udnie", "--no-display",
                 "--frames", "5", "--backend", "torch", "--threads", "1"]) == 0
    assert main(["live", "--camera", str(clip.path), "--model", str(zoo), "--style", "vangogh", "--no-display",
                 "--frames", "5", "--backend", "torch", "--threads", "1"]) == 2
    assert "unknown style 'vangogh'; tiny-zoo holds candy, mosaic, udnie" in capsys.readouterr().err


def test_a_retired_model_name_points_to_its_replacement(tmp_path, monkeypatch, capfd):
    from vidstyle.models import registry

    monkeypatch.setitem(registry.RETIRED_MODELS, "old_painting-fast", "--model zoo --style old_painting")
    photo = save_image(synthetic_scene(40, 40), tmp_path / "photo.png")
    assert main(["stylize", str(photo), str(tmp_path / "out.png"), "--model", "old_painting-fast"]) == 2
    err = capfd.readouterr().err.strip()
    assert err == ("vidstyle: error: model 'old_painting-fast' was retired: use --model zoo --style old_painting "
                   "(see `vidstyle models list`)")
    assert not (tmp_path / "out.png").exists()


def _retired():
    from vidstyle.models.registry import RETIRED_MODELS

    return sorted(RETIRED_MODELS.items())


@pytest.mark.parametrize("name,replacement", _retired(), ids=[name for name, _ in _retired()])
def test_every_retired_shipped_name_points_to_a_shipped_model(name, replacement, tmp_path, monkeypatch, capfd):
    """The shipped nets that gave way to their -painted ones: a one-line pointer to a model that ships, and a
    user who kept the old file under that name still gets it."""
    import shutil

    from vidstyle.models import find_model

    monkeypatch.delenv("VIDSTYLE_MODELS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    photo = save_image(synthetic_scene(40, 40), tmp_path / "photo.png")
    assert main(["stylize", str(photo), str(tmp_path / "out.png"), "--model", name]) == 2
    err = capfd.readouterr().err.strip()
    assert err == f"vidstyle: error: model {name!r} was retired: use {replacement} (see `vidstyle models list`)"
    assert not (tmp_path / "out.png").exists()
    shipped = find_model(replacement.split()[0])  # the replacement ships
    own = tmp_path / "mine" / f"{name}.safetensors"
    own.parent.mkdir()
    shutil.copyfile(shipped, own)
    monkeypatch.setenv("VIDSTYLE_MODELS", str(own.parent))
    assert find_model(name) == own


@pytest.mark.parametrize("option,message", [
    (["--style-weight", "0"], "--style-weight must be a positive number"),
    (["--minutes", "-1"], "--minutes must be a positive number"),
])
def test_add_style_refuses_bad_settings_in_one_line(tmp_path, registry, capfd, option, message):
    painting = save_image(synthetic_scene(64, 64, seed=3), tmp_path / "painting.png")
    photos = tmp_path / "photos"
    photos.mkdir()
    save_image(synthetic_scene(64, 64, seed=4), photos / "p.png")
    assert main(["add-style", str(painting), "--name", "mine", "--data", str(photos), "--model", "tiny-zoo",
                 "--no-progress", *option]) == 2
    err = capfd.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
