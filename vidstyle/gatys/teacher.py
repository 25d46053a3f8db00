"""Gatys optimisation as a distillation teacher: the target a feed-forward student learns for each training crop.

A painting with no trained network to learn from still has the optimisation itself: each fixed training view
(``vidstyle.train.data.PhotoCrops.batch_with_targets``) is painted once by Gatys et al. and kept, and the
student learns to reproduce those paintings with a pixel loss (``vidstyle train --teacher gatys``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from vidstyle.gatys.engine import GatysEngine, GatysTargets, normalisers
from vidstyle.gatys.options import GatysOptions
from vidstyle.utils.hashing import file_sha256
from vidstyle.utils.image import load_image


@dataclass(frozen=True)
class TeacherSettings:
    """How each view is painted. Chosen by eye on 128-px training crops: the painting's strokes at the scale
    of a ``style_size``-px painting, with the photo still recognisable (content weight above the ``image``
    default, which is tuned for 512-px renders where relu4_2 holds more of the photo)."""

    steps: int = 80
    content_weight: float = 2.5
    style_weight: float = 10.0
    tv_weight: float = 1.0


class GatysTeacher:
    """Callable: (1, 3, H, W) photo in [0, 1] → its Gatys rendering in the style image, (1, 3, H, W) in [0, 1].

    The style's Gram targets are computed once (the painting at ``style_size`` px long side, so the strokes
    have the same pixel scale at every view size); each call optimises from the photo with L-BFGS.
    ``identity`` names the painting and settings, for caches of the teacher's outputs.
    """

    def __init__(self, style_path: str | Path, style_size: int, device: torch.device | str = "cpu",
                 settings: TeacherSettings = TeacherSettings()) -> None:
        self.settings = settings
        options = GatysOptions(steps=settings.steps, content_weight=settings.content_weight,
                               style_weight=settings.style_weight, tv_weight=settings.tv_weight,
                               device=str(device), precision="fp32", seed=0)
        self.engine = GatysEngine(options)
        style = torch.from_numpy(load_image(style_path, long_side=style_size)).permute(2, 0, 1)[None].float() / 255
        self.style_grams = self.engine.style_grams([style.to(self.engine.device)])
        self.style_norm = normalisers(self.style_grams)
        self.identity = "gatys:" + hashlib.sha256(json.dumps(
            {"style": file_sha256(style_path), "style_size": style_size, **asdict(settings)},
            sort_keys=True).encode()).hexdigest()[:16]

    def __call__(self, photo: torch.Tensor) -> torch.Tensor:
        photo = photo.to(self.engine.device, torch.float32).contiguous()
        with torch.no_grad():
            content = self.engine.content_targets(photo)
        targets = GatysTargets(content, self.style_grams, normalisers(content), self.style_norm)
        with torch.enable_grad():  # the student's data pipeline calls teachers under no_grad
            return self.engine.optimize(photo, targets)
