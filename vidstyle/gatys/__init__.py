"""Gatys et al. style transfer by image optimisation.

Public API: :func:`stylize_image`. Reusable core (the temporal optimize mode builds on it):
:class:`GatysEngine` optimises one image against precomputed :class:`GatysTargets`, from any init
image, with an optional extra loss term and spatial masks; settings live in :class:`GatysOptions`.
"""
from vidstyle.gatys.api import as_uint8_image, intermediate_path, stylize_image
from vidstyle.gatys.engine import GatysEngine, GatysTargets, LossTerms, total_loss
from vidstyle.gatys.options import GatysOptions, options_from

__all__ = [
    "stylize_image",
    "as_uint8_image",
    "intermediate_path",
    "GatysEngine",
    "GatysTargets",
    "LossTerms",
    "GatysOptions",
    "options_from",
    "total_loss",
]
