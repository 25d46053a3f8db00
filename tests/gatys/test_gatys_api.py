"""stylize_image: inputs of every kind, preserve-color, style blending, scales, init and save-every."""
import numpy as np
import pytest
import torch
from PIL import Image

from vidstyle.io.synthetic import synthetic_scene, synthetic_style
from vidstyle.errors import InputError, OutputError
from vidstyle.gatys import intermediate_path, stylize_image
from vidstyle.utils.color import rgb_to_yiq
from vidstyle.utils.image import to_tensor

FAST = {"size": 48, "steps": 8, "device": "cpu"}


@pytest.fixture(scope="module")
def content():
    return synthetic_scene(48, 64)


@pytest.fixture(scope="module")
def style():
    return synthetic_style(48, 64, seed=3)


def test_array_in_array_out_and_pil_in_pil_out(content, style):
    out = stylize_image(content, style, **FAST)
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == (36, 48, 3)
    assert not np.array_equal(out, np.asarray(Image.fromarray(content).resize((48, 36))))
    pil = stylize_image(Image.fromarray(content), Image.fromarray(style), **FAST)
    assert isinstance(pil, Image.Image) and pil.size == (48, 36)


def test_paths_and_output_file(tmp_path, content, style):
    Image.fromarray(content).save(tmp_path / "c.png")
    Image.fromarray(style).save(tmp_path / "s.jpg")
    out = tmp_path / "out.webp"
    image = stylize_image(tmp_path / "c.png", str(tmp_path / "s.jpg"), output=out, **FAST)
    with Image.open(out) as written:
        assert written.format == "WEBP" and written.size == image.size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "out.webp", "s.jpg"]


def _chroma(image: np.ndarray) -> torch.Tensor:
    return rgb_to_yiq(to_tensor(image))[:, 1:]


def test_preserve_color_keeps_the_content_chroma(content):
    # A strongly coloured style: without preserve-color its hue leaks into the output.
    red_style = synthetic_style(48, 64, seed=5)
    red_style[..., 0] = 255
    red_style[..., 2] //= 4
    reference = np.array(Image.fromarray(content).resize((48, 36), Image.LANCZOS))
    kept = stylize_image(content, red_style, preserve_color=True, style_weight=500, **FAST)
    free = stylize_image(content, red_style, preserve_color=False, style_weight=500, **FAST)
    kept_err = (_chroma(kept) - _chroma(reference)).abs().mean()
    free_err = (_chroma(free) - _chroma(reference)).abs().mean()
    assert kept_err < 0.02
    assert kept_err < 0.5 * free_err
    # ...while the luminance did change (the style was applied).
    assert np.abs(kept.astype(int) - reference.astype(int)).mean() > 2


def test_style_blend_with_two_styles(content):
    a, b = synthetic_style(48, 64, seed=1), synthetic_style(48, 64, seed=2)
    only_a = stylize_image(content, a, precision="float32", **FAST).astype(int)
    all_a = stylize_image(content, [a, b], style_blend=(1.0, 0.0), precision="float32", **FAST).astype(int)
    mixed = stylize_image(content, [a, b], style_blend=(0.5, 0.5), precision="float32", **FAST).astype(int)
    assert np.abs(all_a - only_a).max() <= 1
    assert np.abs(mixed - only_a).mean() > 1
    with pytest.raises(InputError, match="style-blend"):
        stylize_image(content, [a, b], style_blend=(1.0, 0.0, 0.0), **FAST)


def test_scales_render_coarse_to_fine(content, style):
    seen = []
    out = stylize_image(content, style, scales=(24, 48), steps=3, device="cpu",
                        progress=lambda step, total, side, terms: seen.append((step, total, side)))
    assert out.shape == (36, 48, 3)
    assert seen == [(1, 6, 24), (2, 6, 24), (3, 6, 24), (4, 6, 48), (5, 6, 48), (6, 6, 48)]


def test_noise_and_path_init(tmp_path, content, style):
    noise = stylize_image(content, style, init="noise", seed=1, **FAST)
    again = stylize_image(content, style, init="noise", seed=1, **FAST)
    assert np.array_equal(noise, again)
    Image.fromarray(np.zeros_like(content)).save(tmp_path / "black.png")
    from_black = stylize_image(content, style, init=str(tmp_path / "black.png"), steps=1, size=48, device="cpu")
    from_content = stylize_image(content, style, steps=1, size=48, device="cpu")
    assert from_black.mean() < from_content.mean()
    with pytest.raises(InputError, match="init"):
        stylize_image(content, style, init=str(tmp_path / "missing.png"), **FAST)


def test_save_every_writes_intermediate_images(tmp_path, content, style):
    out = tmp_path / "out.png"
    stylize_image(content, style, output=out, save_every=4, **FAST)
    assert intermediate_path(out, 4).is_file() and intermediate_path(out, 8).is_file()
    assert out.is_file()
    assert len(list(tmp_path.iterdir())) == 3


def test_bad_output_fails_before_any_work(tmp_path, content, style):
    with pytest.raises(OutputError):
        stylize_image(content, style, output=tmp_path / "missing" / "out.png", **FAST)
    with pytest.raises(OutputError, match="format"):
        stylize_image(content, style, output=tmp_path / "out.txt", **FAST)
    with pytest.raises(InputError):
        stylize_image(content, style, nonsense=1)
