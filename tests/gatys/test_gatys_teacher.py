"""The Gatys teacher: paints a training view toward the painting while keeping the photo."""
from __future__ import annotations

import torch
from PIL import Image

from vidstyle.gatys.teacher import GatysTeacher, TeacherSettings
from vidstyle.io.synthetic import synthetic_scene, synthetic_style
from vidstyle.losses import VGG19Features, gram_matrix, style_loss


def test_a_view_moves_toward_the_painting_and_keeps_its_size(tmp_path):
    style_path = tmp_path / "painting.png"
    Image.fromarray(synthetic_style(96, 96)).save(style_path)
    photo = torch.from_numpy(synthetic_scene(40, 48, seed=1)).permute(2, 0, 1)[None].float() / 255
    teacher = GatysTeacher(style_path, style_size=64, settings=TeacherSettings(steps=30))
    painted = teacher(photo)
    assert painted.shape == photo.shape and 0.0 <= float(painted.min()) and float(painted.max()) <= 1.0
    assert not painted.requires_grad

    layers = ("relu1_1", "relu2_1", "relu3_1")
    vgg = VGG19Features(layers)
    style = torch.from_numpy(synthetic_style(64, 64)).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        grams = {k: gram_matrix(v) for k, v in vgg(style, layers).items()}
        before = float(style_loss(vgg(photo, layers), grams))
        after = float(style_loss(vgg(painted, layers), grams))
    assert after < 0.7 * before
    assert float((painted - photo).abs().mean()) < 0.35  # still the photo, not a fresh texture


def test_identity_names_the_painting_and_the_settings(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray(synthetic_style(48, 48, seed=0)).save(a)
    Image.fromarray(synthetic_style(48, 48, seed=1)).save(b)
    ids = {GatysTeacher(a, 48).identity, GatysTeacher(b, 48).identity, GatysTeacher(a, 64).identity,
           GatysTeacher(a, 48, settings=TeacherSettings(steps=5)).identity}
    assert len(ids) == 4 and GatysTeacher(a, 48).identity in ids
