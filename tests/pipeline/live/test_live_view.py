"""What the live window shows: fitting to --size without distortion, the overlay text."""
from __future__ import annotations

import numpy as np
import pytest

from vidstyle.errors import InputError
from vidstyle.pipeline.live.view import Fit, overlay_lines


def wide_picture(width: int = 160, height: int = 90) -> np.ndarray:
    """A 16:9 picture: a red left third, a green middle, a blue right third, a white top row."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 3] = (255, 0, 0)
    image[:, width // 3 : 2 * width // 3] = (0, 255, 0)
    image[:, 2 * width // 3 :] = (0, 0, 255)
    return image


def test_letterbox_keeps_the_whole_picture_and_adds_black_bars_after_the_model():
    fit = Fit(160, 90, size=(64, 64), mode="letterbox")
    assert fit.content == (64, 36) and fit.canvas == (64, 64)
    content = fit.prepare(wide_picture())
    assert content.shape == (36, 64, 3)
    # All three thirds survive: nothing was cut off.
    assert content[18, 5, 0] > 200 and content[18, 32, 1] > 200 and content[18, 60, 2] > 200
    out = fit.finish(255 - content)  # what a model made of it
    assert out.shape == (64, 64, 3)
    assert (out[:14] == 0).all() and (out[-14:] == 0).all()  # the bars stay black whatever the model does
    assert (out[14:50] == 255 - content).all()


def test_crop_fills_the_size_with_the_centre():
    fit = Fit(160, 90, size=(64, 64), mode="crop")
    assert fit.content == fit.canvas == (64, 64)
    content = fit.prepare(wide_picture())
    assert content.shape == (64, 64, 3)
    # The centre third fills most of it; the outer thirds are cut to thin edges, the shape undistorted.
    green = (content[..., 1] > 200) & (content[..., 0] < 50)
    assert 0.45 < green.mean() < 0.6
    assert fit.finish(content) is content


def test_stretch_squeezes_the_picture_into_the_size():
    fit = Fit(160, 90, size=(64, 64), mode="stretch")
    content = fit.prepare(wide_picture())
    green = (content[..., 1] > 200) & (content[..., 0] < 50)
    assert content.shape == (64, 64, 3) and 0.3 < green.mean() < 0.37  # each third keeps a third


def test_no_size_passes_pictures_through_and_a_bad_mode_is_one_line():
    fit = Fit(160, 90)
    picture = wide_picture()
    assert fit.passthrough and fit.prepare(picture) is picture and fit.finish(picture) is picture
    with pytest.raises(InputError, match="--fit must be one of letterbox, crop, stretch"):
        Fit(160, 90, size=(64, 64), mode="zoom")


def test_a_camera_that_changes_mode_is_fitted_as_it_arrives():
    fit = Fit(160, 90, size=(64, 64), mode="letterbox")
    content = fit.prepare(np.zeros((120, 160, 3), np.uint8))  # 4:3 now
    assert content.shape == (48, 64, 3) and fit.finish(content).shape == (64, 64, 3)


def test_overlay_says_loading_and_paused():
    assert overlay_lines("mosaic-fast", 1.0, loading="mosaic-fast") == ["loading mosaic-fast..."]
    lines = overlay_lines("starry_night-fast-painted", 0.7, fps=29.6, latency_ms=41, recording=True,
                          loading="mosaic-fast", paused=True, notice="saved snapshot a.png")
    assert lines[0].split() == ["29.6", "fps", "latency", "41", "ms"]
    assert lines[1] == "starry_night-fast-painted  strength 0.7  REC"
    assert lines[2:] == ["loading mosaic-fast...", "PAUSED  (space: resume)", "saved snapshot a.png"]
