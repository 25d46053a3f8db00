"""Temporal-consistency modes of ``vidstyle video`` and ``vidstyle live`` (and of their ``--temporal`` flags).

none: each frame on its own. smooth: flow-guided blending with the previous output after the network.
trained: the model's temporally trained ``-temporal`` variant. optimize: the offline optimisation of
Ruder et al. 2016 (minutes a frame), so live offers the others only.
"""
from __future__ import annotations

TEMPORAL_MODES = ("none", "smooth", "trained", "optimize")
LIVE_TEMPORAL_MODES = tuple(mode for mode in TEMPORAL_MODES if mode != "optimize")
