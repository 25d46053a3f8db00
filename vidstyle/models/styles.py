"""Style mixes of a multi-style network: ``--style starry_night`` or ``--style starry_night=0.6,great_wave=0.4``.

A mix is a dict ``{style name: weight}`` with finite, non-negative weights that sum to 1 (zero weights
left out), in the order given. The network takes it as a (1, S) float32 row over its ``styles``.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence, Union

import numpy as np

from vidstyle.errors import InputError

StyleMix = Union[str, Mapping[str, float]]


def parse_style_mix(text: str, styles: Sequence[str], model: str = "") -> dict[str, float]:
    """``"a"`` -> {"a": 1.0}; ``"a=0.6,b=0.4"`` -> {"a": 0.6, "b": 0.4}; weights are normalised to sum 1.

    A name without ``=w`` weighs 1 (``"a,b"`` is an even blend). styles: the names the model holds;
    model: its name, for messages. Raises InputError (one line) for an unknown name, a repeated name,
    a weight that is not a finite number >= 0, or weights that are all 0.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("--style is empty: give a style name or NAME=WEIGHT,NAME=WEIGHT")
    weights: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep:
            weight = 1.0
        else:
            try:
                weight = float(value)
            except ValueError:
                raise InputError(f"--style: weight of {name!r} is not a number: {value.strip()!r}") from None
        if name in weights:
            raise InputError(f"--style: {name!r} is given twice")
        weights[name] = weight
    return normalize_style_mix(weights, styles, model)


def normalize_style_mix(mix: StyleMix, styles: Sequence[str], model: str = "") -> dict[str, float]:
    """A mix (a ``--style`` string or a {name: weight} mapping) checked against ``styles`` and normalised
    to weights summing to 1, zero weights dropped; see :func:`parse_style_mix` for the errors."""
    if isinstance(mix, str):
        return parse_style_mix(mix, styles, model)
    if not isinstance(mix, Mapping) or not mix:
        raise InputError("a style mix needs at least one style name")
    known = list(styles)
    for name, weight in mix.items():
        if name not in known:
            owner = f"{model} holds" if model else "known styles:"
            raise InputError(f"unknown style {name!r}; {owner} {', '.join(known)}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.floating, np.integer)) \
                or not math.isfinite(float(weight)) or float(weight) < 0:
            raise InputError(f"--style: weight of {name!r} must be a finite number >= 0, got {weight!r}")
    total = sum(float(w) for w in mix.values())
    if total <= 0:
        raise InputError("--style: the weights are all 0")
    return {str(name): float(w) / total for name, w in mix.items() if float(w) > 0}


def model_style_mix(mix: StyleMix, styles: Sequence[str], model: str) -> dict[str, float]:
    """``mix`` checked against the styles model ``model`` holds (see :func:`normalize_style_mix`); a model
    with no list of styles holds one style, and asking it for one is an InputError."""
    if not styles:
        raise InputError(f"{model} holds one style; --style needs a multi-style model (see `vidstyle models list`)")
    return normalize_style_mix(mix, styles, model)


def mix_vector(styles: Sequence[str], mix: Mapping[str, float]) -> np.ndarray:
    """The (1, S) float32 row of weights over ``styles`` for a normalised ``mix`` (names not in it weigh 0)."""
    vector = np.zeros((1, len(styles)), np.float32)
    for name, weight in mix.items():
        vector[0, list(styles).index(name)] = weight
    return vector


def format_style_mix(mix: Mapping[str, float]) -> str:
    """{"a": 1.0} -> "a"; {"a": 0.6, "b": 0.4} -> "a=0.6,b=0.4" (what ``--style`` takes back)."""
    if len(mix) == 1:
        return next(iter(mix))
    return ",".join(f"{name}={weight:.3g}" for name, weight in mix.items())


def metadata_styles(metadata: Mapping[str, Any] | None) -> list[str]:
    """The styles a model file holds, from its metadata: the multistyle network's ``styles``, else []."""
    if not metadata:
        return []
    params = metadata.get("arch_params") or {}
    styles = params.get("styles") if isinstance(params, Mapping) else None
    return [str(s) for s in styles] if isinstance(styles, list) else []


def network_styles(network: Any) -> list[str]:
    """The styles a network holds: a multi-style network's ``styles`` (it has ``set_mix``), else []."""
    styles = getattr(network, "styles", None)
    if not styles or not callable(getattr(network, "set_mix", None)):
        return []
    return [str(s) for s in styles]
