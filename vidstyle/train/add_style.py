"""``add-style``: teach a trained multistyle network a new painting in minutes.

Only the new style's rows of the conditional-normalisation tables learn (Dumoulin et al. 2017: a style is its
scale and shift); every shared weight stays frozen, so the network's speed and its other styles are unchanged.
The training photos are the user's own: a folder of photos or frames spread over a video. The learned rows
are saved as a small style file beside the user's models (``vidstyle.models.user_styles``), so the new style
is usable at once by name with ``--model MODEL --style NAME`` in every command.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from vidstyle.errors import InputError
from vidstyle.models import find_model, read_metadata
from vidstyle.models.user_styles import save_style, styles_dir
from vidstyle.train.config import TrainConfig
from vidstyle.train.trainer import Trainer

# The new rows are a few thousand numbers: a learning rate well above a whole network's converges in minutes.
ADD_STYLE_LR = 1e-2
# Weight of the palette loss for the new rows. The base model's own weight is set for its training's loss scale
# (the shipped zoo's for distillation): at that 3e4 a 5-minute run hardly moved the colours (palette ratio 0.55
# on held-out photos); 3e5 gave 0.42 and 1e6 0.31, at the same style ratio and SSIM (benchmarks/add_style.py).
ADD_STYLE_PALETTE_WEIGHT = 1e6


@dataclass
class AddStyleConfig:
    """painting: the style image; name: the style's name; data: a folder of photos or a video file.

    minutes: training time (the learning-rate schedule ends with it). size/batch: training crops, patches of
    the pictures scaled to ``photo_side`` on their short side (128 of 160: crops as large as the pictures
    allow; 64-px crops fit about 4x the steps in 5 minutes but scored worse, benchmarks/add_style.py).
    The content and style weights and layers are the base model's own (its metadata), so the new style is
    balanced like the shipped ones; ``style_weight``, when given, replaces the base's (higher: bolder strokes,
    less of the photo); ``palette_weight`` is add-style's own (ADD_STYLE_PALETTE_WEIGHT).
    styles_root: where style files go (default: the user models folder).
    """

    painting: Path
    name: str
    data: Path
    model: str = "zoo"
    minutes: float = 5.0
    size: int = 128
    photo_side: int = 160
    batch: int = 4
    lr: float = ADD_STYLE_LR
    palette_weight: float = ADD_STYLE_PALETTE_WEIGHT
    style_weight: Optional[float] = None
    threads: Optional[int] = None
    overwrite: bool = False
    styles_root: Optional[Path] = None
    progress: bool = True
    seed: int = 0


def add_style(config: AddStyleConfig, log: Callable[[str], None] = print) -> Path:
    """Learn ``config.painting`` as a new style of ``config.model``; returns the saved style file."""
    c = config
    if not c.name or not c.name.replace("_", "").replace("-", "").isalnum():
        raise InputError(f"--name must be letters, digits, '-' or '_', got {c.name!r}")
    if not Path(c.painting).is_file():
        raise InputError(f"painting not found: {c.painting}")
    if not Path(c.data).exists():
        raise InputError(f"training data not found: {c.data} (give a folder of photos or a video file)")
    if not (c.minutes > 0):
        raise InputError(f"--minutes must be a positive number, got {c.minutes}")
    if c.style_weight is not None and not (c.style_weight > 0):
        raise InputError(f"--style-weight must be a positive number, got {c.style_weight}")
    model_path = find_model(c.model)
    meta = read_metadata(model_path)
    if meta["architecture"] != "multistyle":
        raise InputError(f"{c.model} holds one style; add-style needs a multistyle model such as zoo")
    if c.name in meta["arch_params"]["styles"]:
        raise InputError(f"{c.model} already holds a style named {c.name!r}; pick another --name")
    out = styles_dir(model_path.stem, c.styles_root) / f"{c.name}.safetensors"
    if out.exists() and not c.overwrite:
        raise InputError(f"a style named {c.name!r} was already added to {c.model} ({out}); pass --overwrite to relearn it")
    base = meta.get("training") or {}
    with tempfile.TemporaryDirectory(prefix="vidstyle-add-style-") as tmp:
        train_config = TrainConfig(
            style=Path(c.painting), data=Path(c.data), out=Path(tmp) / "grown.safetensors", arch="multistyle",
            init=str(model_path), add_styles=True, style_name=c.name, steps=100_000, max_minutes=c.minutes,
            size=c.size, photo_side=c.photo_side, batch=c.batch, lr=c.lr, warmup_steps=10,
            style_size=int(base.get("style_size", 512)),
            content_weight=float(base.get("content_weight", 1.0)),
            style_weight=c.style_weight or float(base.get("style_weight", 2.0)),
            palette_weight=c.palette_weight,
            style_reference=meta.get("style_reference"),
            style_layers=tuple(base.get("style_layers") or TrainConfig.style_layers),
            content_layers=tuple(base.get("content_layers") or TrainConfig.content_layers),
            grid_weight=float(base.get("grid_weight", TrainConfig.grid_weight)),
            checkpoint_every=0, preview_every=0, log_every=10, run_dir=Path(tmp) / "run",
            threads=c.threads, progress=c.progress, seed=c.seed,
        )
        trainer = Trainer(train_config, log=log)
        result = trainer.train()
        saved = save_style(out, trainer.network, c.name, model_path, {
            "image": Path(c.painting).name, "steps": result.steps, "train_wall_time_s": round(result.wall_time_s, 1),
            "losses": result.losses, "data": Path(c.data).name,
        })
    log(f"learned {c.name!r} in {result.wall_time_s / 60:.1f} min ({result.steps} steps); saved {saved}")
    log(f"use it with: --model {model_path.stem} --style {c.name}")
    return saved
