"""`vidstyle image`: writes a valid image; each bad input gives one clear line, exit 2 and no file."""
import numpy as np
import pytest
from PIL import Image

from vidstyle.io.synthetic import synthetic_scene, synthetic_style
from vidstyle.cli.main import main


@pytest.fixture
def inputs(tmp_path):
    Image.fromarray(synthetic_scene(48, 64)).save(tmp_path / "content.png")
    Image.fromarray(synthetic_style(48, 64)).save(tmp_path / "style.jpg")
    return tmp_path


@pytest.mark.parametrize("name", ["out.png", "out.jpg"])
def test_cli_writes_a_valid_image(inputs, capsys, name):
    out = inputs / name
    code = main(["image", str(inputs / "content.png"), str(inputs / "style.jpg"), str(out),
                 "--size", "40", "--steps", "4", "--device", "cpu"])
    assert code == 0
    with Image.open(out) as im:
        assert im.format == ("PNG" if name.endswith("png") else "JPEG")
        assert im.size == (40, 30)
        assert np.asarray(im.convert("RGB")).std() > 5
    err = capsys.readouterr().err
    assert "4/4" in err and "style=" in err  # the progress bar shows the step and the losses
    assert not [p for p in inputs.iterdir() if "partial" in p.name]


def test_cli_style_blend_preserve_color_and_scales(inputs):
    Image.fromarray(synthetic_style(48, 64, seed=7)).save(inputs / "style2.png")
    out = inputs / "blend.png"
    code = main(["image", str(inputs / "content.png"), str(inputs / "style.jpg"), str(inputs / "style2.png"),
                 str(out), "--scales", "24,40", "--steps", "2", "--style-blend", "0.7,0.3", "--preserve-color",
                 "--device", "cpu", "--quiet"])
    assert code == 0
    with Image.open(out) as im:
        assert im.size == (40, 30)


def _bad(inputs, tmp_name, *argv):
    return [str(inputs / "content.png"), str(inputs / "style.jpg"), str(inputs / tmp_name), *argv]


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing", "file not found"),
        ("not_image", "not a readable image"),
        ("unwritable", "output folder does not exist"),
        ("bad_layer", "unknown VGG19 layer 'relu9_1'"),
        ("size_zero", "--size must be at least 16"),
    ],
)
def test_cli_bad_input_fails_cleanly(inputs, capsys, case, expected):
    content, style, out = str(inputs / "content.png"), str(inputs / "style.jpg"), inputs / "out.png"
    extra = ["--steps", "2", "--size", "32", "--device", "cpu"]
    if case == "missing":
        argv = ["image", str(inputs / "nope.jpg"), style, str(out), *extra]
    elif case == "not_image":
        (inputs / "notes.jpg").write_text("this is not an image")
        argv = ["image", content, str(inputs / "notes.jpg"), str(out), *extra]
    elif case == "unwritable":
        out = inputs / "no_such_folder" / "out.png"
        argv = ["image", content, style, str(out), *extra]
    elif case == "bad_layer":
        argv = ["image", content, style, str(out), *extra, "--style-layers", "relu1_1,relu9_1"]
    else:
        argv = ["image", content, style, str(out), "--size", "0", "--steps", "2"]
    before = sorted(p.name for p in inputs.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidstyle: error: ") and expected in lines[0], err
    assert not out.exists()
    assert sorted(p.name for p in inputs.iterdir()) == before
