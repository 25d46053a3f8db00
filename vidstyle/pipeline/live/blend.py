"""The live blending keys of a multi-style model: ``b`` blends the current style with the next one
50/50 (again: back to the current style alone); ``,`` and ``.`` move the blend towards the current or
the next style (from a single style, ``.`` starts a blend at its first step).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

BLEND_STEP = 0.1


@dataclass(frozen=True)
class StyleBlend:
    """``first`` and ``second`` of one model's styles, ``weight`` (0..1) of the second."""

    first: str
    second: str
    weight: float = 0.5

    @property
    def mix(self) -> dict[str, float]:
        """The mix to set: {first: 1 - weight, second: weight}."""
        return {self.first: round(1.0 - self.weight, 6), self.second: round(self.weight, 6)}

    @property
    def label(self) -> str:
        """``a=0.7,b=0.3`` (both names, so the overlay says which two styles are blended)."""
        return f"{self.first}={1.0 - self.weight:.1f},{self.second}={self.weight:.1f}"

    def shifted(self, delta: float) -> "StyleBlend":
        """The blend moved ``delta`` towards the second style (clamped to 0..1)."""
        return replace(self, weight=min(1.0, max(0.0, round(self.weight + delta, 6))))


def next_style_blend(styles: Sequence[str], current: Mapping[str, float] | None, weight: float = 0.5) -> StyleBlend:
    """The blend of the current style (the heaviest of ``current``; the first style when None or empty) with
    the style after it in ``styles`` (wrapping round); ``styles`` needs two or more names."""
    if len(styles) < 2:
        raise ValueError("blending needs a model with two or more styles")
    first = max(current.items(), key=lambda item: item[1])[0] if current else styles[0]
    if first not in styles:
        first = styles[0]
    second = styles[(list(styles).index(first) + 1) % len(styles)]
    return StyleBlend(first, second, weight)
