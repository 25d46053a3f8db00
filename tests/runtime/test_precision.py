"""Precision names shared by every command, what they mean per device, and the bf16 check's measures."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.errors import InputError
from vidstyle.runtime.precision import autocast_dtype, bf16_check_image, parse_precision, psnr, resolve_precision
from vidstyle.utils.device import cpu_supports_bf16

CPU = torch.device("cpu")


@pytest.mark.parametrize("name, canonical", [("auto", "auto"), ("fp32", "fp32"), ("float32", "fp32"), ("BF16", "bf16"),
                                             ("bfloat16", "bf16"), ("fp16", "fp16"), ("float16", "fp16")])
def test_names_and_old_spellings(name, canonical):
    assert parse_precision(name) == canonical


def test_unknown_name_is_a_one_line_input_error():
    with pytest.raises(InputError, match="unknown precision 'double': use one of auto, fp32, bf16, fp16"):
        parse_precision("double")


def test_explicit_choices_mean_their_dtype():
    assert autocast_dtype("fp32", CPU) is None
    assert autocast_dtype("bf16", CPU) is torch.bfloat16
    assert autocast_dtype("fp16", torch.device("cuda")) is torch.float16


def test_auto_uses_bf16_on_the_cpu_only_where_it_is_native():
    assert resolve_precision("auto", CPU) == ("bf16" if cpu_supports_bf16() else "fp32")
    assert resolve_precision("auto", torch.device("mps")) == "fp32"


def test_psnr():
    a = np.zeros((4, 4, 3), np.uint8)
    assert psnr(a, a) == float("inf")
    assert abs(psnr(a, a + 1) - 48.13) < 0.01


def test_check_image_has_a_flat_patch_and_texture():
    image = bf16_check_image()
    assert image.shape == (192, 256, 3) and image.dtype == np.uint8
    assert (image[48:144, 64:160] == (230, 60, 40)).all()
    assert image[:, :64].std() > 10
