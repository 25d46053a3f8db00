"""Training settings for a transform network (every field is a `vidstyle train` option)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from vidstyle.errors import InputError

# Loss layers. Style: Johnson et al. 2016 (relu1_2 … relu4_3). Content: relu2_2 as in pytorch/examples
# fast_neural_style: a shallow content layer keeps edges and shapes, so the photo stays recognisable.
DEFAULT_STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
DEFAULT_CONTENT_LAYERS = ("relu2_2",)


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved in the model metadata under ``training``.

    Loss weights are for vidstyle.losses as written (features of the Caffe VGG19 on 0-255 input, Gram
    matrices normalised by C·H·W): with the defaults the weighted content and style terms start within
    an order of magnitude of each other and the style term dominates after a few hundred steps.
    """

    style: Path
    data: Path
    out: Path
    arch: str = "fast"
    arch_params: dict[str, Any] = field(default_factory=dict)
    steps: int = 2000
    max_minutes: Optional[float] = None  # also stop (and finish the LR decay) after this much training time
    batch: int = 4
    size: int = 256
    style_size: int = 512
    lr: float = 1e-3
    lr_final_fraction: float = 0.1  # cosine decay from lr to lr·fraction over `steps`
    warmup_steps: int = 50
    content_weight: float = 1.0
    style_weight: float = 3.0
    tv_weight: float = 0.0
    # Penalises patterns locked to the stride-4 pixel grid (losses.grid_loss): well-trained nets otherwise learn
    # to draw fine style texture as a period-4 grid. 1e8 costs a visible grid (~2e-4) a few % of the loss.
    grid_weight: float = 1e8
    grid_period: int = 4
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    content_layers: tuple[str, ...] = DEFAULT_CONTENT_LAYERS
    checkpoint_every: int = 200
    log_every: int = 20
    preview_every: int = 200
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    temporal: bool = False
    temporal_weight: float = 5e7
    temporal_noise: float = 0.02  # std of the noise added to the moved frame (Ruder et al. 2018)
    # Folder of real videos: the temporal loss then uses consecutive frames with DIS flow and occlusion masks
    # (train.video_pairs) instead of synthetic motion. The pool holds video_pairs crops, 11·size² bytes each.
    video_data: Optional[Path] = None
    video_pairs: int = 512
    init: Optional[str] = None  # start from this model's weights (e.g. fine-tune a finished model)
    # Distillation: learn to reproduce this trained model's outputs (an L1 pixel loss replaces the VGG losses, so
    # a step costs a fraction of one); used to make a smaller or faster network with the teacher's look.
    teacher: Optional[str] = None
    distill_weight: float = 1e6
    resume: Optional[Path] = None
    run_dir: Optional[Path] = None
    threads: Optional[int] = None
    progress: bool = True
    style_name: Optional[str] = None

    def __post_init__(self) -> None:
        if self.video_data is not None and not self.temporal:
            raise InputError("--video-data needs --temporal: the video frame pairs only feed the temporal loss")
        if self.video_pairs < 1:
            raise InputError(f"--video-pairs must be at least 1, got {self.video_pairs}")

    def to_metadata(self) -> dict[str, Any]:
        """JSON-friendly settings for model metadata (paths as strings, machine-local fields dropped)."""
        d = asdict(self)
        for k in ("style", "data", "out", "resume", "run_dir", "video_data"):
            d[k] = None if d[k] is None else str(d[k])
        for k in ("style_layers", "content_layers"):
            d[k] = list(d[k])
        for k in ("progress", "threads"):
            d.pop(k)
        return d
