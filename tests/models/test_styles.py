"""``--style`` mixes: parsing, checks, the (1, S) row a multi-style network takes, styles from metadata."""
from __future__ import annotations

import numpy as np
import pytest

from vidstyle.errors import InputError
from vidstyle.models.styles import (
    format_style_mix,
    metadata_styles,
    mix_vector,
    model_style_mix,
    normalize_style_mix,
    parse_style_mix,
)

STYLES = ["candy", "great_wave", "starry_night"]


def test_one_name_is_that_style_alone():
    assert parse_style_mix("starry_night", STYLES) == {"starry_night": 1.0}
    assert parse_style_mix(" great_wave ", STYLES) == {"great_wave": 1.0}


def test_weights_are_normalised_in_the_order_given():
    mix = parse_style_mix("starry_night=0.6,great_wave=0.4", STYLES)
    assert list(mix) == ["starry_night", "great_wave"]
    assert mix == pytest.approx({"starry_night": 0.6, "great_wave": 0.4})
    assert parse_style_mix("candy=3,great_wave=1", STYLES) == pytest.approx({"candy": 0.75, "great_wave": 0.25})
    # A name without a weight weighs 1; a zero weight leaves its style out.
    assert parse_style_mix("candy,great_wave", STYLES) == pytest.approx({"candy": 0.5, "great_wave": 0.5})
    assert parse_style_mix("candy=1,great_wave=0", STYLES) == {"candy": 1.0}


@pytest.mark.parametrize("text,message", [
    ("vangogh", r"unknown style 'vangogh'; zoo holds candy, great_wave, starry_night"),
    ("candy=-0.5", "finite number >= 0"),
    ("candy=nan", "finite number >= 0"),
    ("candy=inf,great_wave=1", "finite number >= 0"),
    ("candy=0,great_wave=0", "all 0"),
    ("candy=much", "not a number"),
    ("candy=0.5,candy=0.5", "given twice"),
    ("", "empty"),
    (" , ", "at least one"),
])
def test_bad_mixes_are_one_line_input_errors(text, message):
    with pytest.raises(InputError, match=message) as info:
        parse_style_mix(text, STYLES, model="zoo")
    assert "\n" not in str(info.value)


def test_a_mapping_is_checked_and_normalised_like_text():
    assert normalize_style_mix({"candy": 2, "starry_night": 2}, STYLES) == {"candy": 0.5, "starry_night": 0.5}
    assert normalize_style_mix("candy", STYLES) == {"candy": 1.0}
    with pytest.raises(InputError, match="known styles: candy"):
        normalize_style_mix({"nope": 1.0}, STYLES)
    with pytest.raises(InputError, match="finite"):
        normalize_style_mix({"candy": True}, STYLES)


def test_a_one_style_model_says_so():
    with pytest.raises(InputError, match="starry_night-fast-painted holds one style"):
        model_style_mix("candy", [], "starry_night-fast-painted")
    assert model_style_mix("candy=1,starry_night=3", STYLES, "zoo") == {"candy": 0.25, "starry_night": 0.75}


def test_mix_vector_is_one_float32_row_over_the_models_styles():
    vector = mix_vector(STYLES, {"starry_night": 0.6, "candy": 0.4})
    assert vector.dtype == np.float32 and vector.shape == (1, 3)
    np.testing.assert_allclose(vector, [[0.4, 0.0, 0.6]])
    assert vector.sum() == pytest.approx(1.0)


def test_format_round_trips_through_the_parser():
    mix = parse_style_mix("starry_night=0.6,great_wave=0.4", STYLES)
    assert format_style_mix(mix) == "starry_night=0.6,great_wave=0.4"
    assert parse_style_mix(format_style_mix(mix), STYLES) == pytest.approx(mix)
    assert format_style_mix({"candy": 1.0}) == "candy"


def test_styles_from_metadata():
    assert metadata_styles({"architecture": "multistyle", "arch_params": {"styles": STYLES, "channels": 8}}) == STYLES
    assert metadata_styles({"architecture": "fast", "arch_params": {"channels": 32}}) == []
    assert metadata_styles(None) == []
