"""Training settings for a transform network (every field is a `vidstyle train` option)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from vidstyle.errors import InputError
from vidstyle.models import ARCHITECTURES, full_arch_params
from vidstyle.utils import validate
from vidstyle.utils.device import resolve_device

# Loss layers. Style: Johnson et al. 2016 (relu1_2 … relu4_3). Content: relu2_2 as in pytorch/examples
# fast_neural_style: a shallow content layer keeps edges and shapes, so the photo stays recognisable.
DEFAULT_STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
DEFAULT_CONTENT_LAYERS = ("relu2_2",)
# Crops smaller than this leave VGG19's relu4_3 and the networks' stride-4 body almost nothing to work on.
MIN_TRAIN_SIZE = 32
# Working memory of a training step per crop pixel (VGG19 activations kept for the backward pass, the
# network's, gradients): ~2 KB measured at --size 256 --batch 4 on the CPU, with some margin.
TRAIN_BYTES_PER_PIXEL = 2560
# Bounds of integer --arch-param values (others: 0-1024); beyond them a network is never trainable here.
ARCH_INT_LIMITS = {"channels": (1, 512), "mid": (1, 512), "head": (0, 64), "head_channels": (0, 64), "blocks": (0, 64),
                   "residual_blocks": (0, 64)}


# --teacher values that name an optimiser, not a model: it paints each distillation view (vidstyle.gatys.teacher).
OPTIMISATION_TEACHERS = ("gatys",)


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved in the model metadata under ``training``.

    Loss weights are for vidstyle.losses as written (features of the Caffe VGG19 on 0-255 input, Gram
    matrices normalised by C·H·W): with the defaults the weighted content and style terms start within
    an order of magnitude of each other and the style term dominates after a few hundred steps.
    """

    style: Path  # one painting; with arch "multistyle" also a folder of paintings or a list of them
    data: Path
    out: Path
    arch: str = "fast"
    arch_params: dict[str, Any] = field(default_factory=dict)
    steps: int = 2000
    max_minutes: Optional[float] = None  # also stop (and finish the LR decay) after this much training time
    batch: int = 4
    size: int = 256
    style_size: int = 512
    photo_side: Optional[int] = None  # short side the photos are kept at before cropping (None: 1.25·size)
    # Train on the first N photos of --data (sorted) only: bounds a slow teacher's pass (one view each costs a
    # Gatys optimisation); None: every photo.
    photos: Optional[int] = None
    lr: float = 1e-3
    lr_final_fraction: float = 0.1  # cosine decay from lr to lr·fraction over `steps`
    warmup_steps: int = 50
    content_weight: float = 1.0
    style_weight: float = 3.0
    tv_weight: float = 0.0
    # Sliced Wasserstein distance of the output's Lab colours to the painting's, as a ratio of a plain photo's
    # (the look measure's palette ratio): Gram losses alone let a small network keep the photo's colours.
    palette_weight: float = 0.0
    # Multistyle: the style-loss scale every painting is normalised to (None: the mean over this run's paintings;
    # add-style passes the base network's, so a new style is weighted like the ones it ships with).
    style_reference: Optional[float] = None
    # Multistyle: learning-rate multiplier for the per-style scale and shift rows.
    style_lr_factor: float = 1.0
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
    # With a multistyle --init: append the style image(s) to its styles and train only their scale and shift rows.
    add_styles: bool = False
    # Distillation: learn to reproduce this trained model's outputs (an L1 pixel loss replaces the VGG losses, so
    # a step costs a fraction of one); used to make a smaller or faster network with the teacher's look. "gatys"
    # (OPTIMISATION_TEACHERS): each view is painted by Gatys optimisation instead, for a painting with no network.
    # Multistyle: a list of single-style models, one per painting (matched by the painting's file hash), so many
    # trained nets become one network.
    teacher: Optional[str | list[str]] = None
    distill_weight: float = 1e6
    # Fixed crops per photo whose teacher outputs are kept (a slow teacher wants fewer).
    distill_views: int = 4
    # With a teacher: weight of the Gram style loss added to the pixel loss (0: none, and no VGG pass).
    distill_style_weight: float = 0.0
    resume: Optional[Path] = None
    run_dir: Optional[Path] = None
    # Where the teacher's cached views are kept (default: the run folder); a recipe shares one folder among its
    # stages, so a later stage distilling from the same teacher does not paint the views again.
    views_dir: Optional[Path] = None
    threads: Optional[int] = None
    progress: bool = True
    style_name: Optional[str] = None
    overwrite: bool = False  # replace an existing --out (never an input model)

    def __post_init__(self) -> None:
        if self.video_data is not None and not self.temporal:
            raise InputError("--video-data needs --temporal: the video frame pairs only feed the temporal loss")
        self.video_pairs = validate.integer("--video-pairs", self.video_pairs, 1, 1_000_000)
        self.validate_numbers()

    def validate_numbers(self) -> None:
        """InputError for any count, size, rate or weight that cannot train (0, negative, NaN, absurd), and for
        a run whose estimated memory exceeds the limit: all before anything is loaded."""
        v = validate
        self.arch_params = check_arch_params(self.arch, self.arch_params)
        self.steps = v.integer("--steps", self.steps, 1)
        self.max_minutes = v.optional_finite("--max-minutes", self.max_minutes, low=0.0, low_open=True)
        self.batch = v.integer("--batch", self.batch, 1, 1024)
        self.size = v.side("--size", self.size, MIN_TRAIN_SIZE)
        self.style_size = v.side("--style-size", self.style_size, MIN_TRAIN_SIZE)
        self.lr = v.finite("--lr", self.lr, 0.0, 1.0, low_open=True)
        self.lr_final_fraction = v.finite("lr_final_fraction", self.lr_final_fraction, 0.0, 1.0)
        self.warmup_steps = v.integer("warmup_steps", self.warmup_steps, 0)
        for name in ("content_weight", "style_weight", "tv_weight", "grid_weight", "temporal_weight",
                     "temporal_noise", "distill_weight", "distill_style_weight"):
            setattr(self, name, v.finite(f"--{name.replace('_', '-')}", getattr(self, name), 0.0))
        self.grid_period = v.integer("grid_period", self.grid_period, 1, 64)
        self.distill_views = v.integer("--distill-views", self.distill_views, 1, 1024)
        if isinstance(self.teacher, (list, tuple)):
            if self.arch != "multistyle":
                raise InputError("several --teacher models (one per painting) need --arch multistyle")
            if not self.teacher or not all(isinstance(t, str) and t not in OPTIMISATION_TEACHERS for t in self.teacher):
                raise InputError(f"--teacher: one trained model per painting, got {self.teacher!r}")
            self.teacher = list(self.teacher)
        if self.photos is not None:
            self.photos = v.integer("--photos", self.photos, 1)
        self.checkpoint_every = v.integer("--checkpoint-every", self.checkpoint_every, 0)
        self.log_every = v.integer("--log-every", self.log_every, 1)
        self.preview_every = v.integer("--preview-every", self.preview_every, 0)
        self.seed = v.integer("--seed", self.seed, 0, 2**63 - 1)
        self.threads = v.threads(self.threads)
        pool = self.video_pairs * 11 * self.size ** 2 if self.video_data is not None else 0
        # A step's activations count against host memory on the CPU only (a GPU holds its own).
        on_cpu = resolve_device(self.device).type == "cpu"
        step = self.batch * self.size ** 2 * TRAIN_BYTES_PER_PIXEL * (1.25 if self.temporal else 1.0) * on_cpu
        v.check_memory(step + pool, f"training at --size {self.size} with --batch {self.batch}"
                       + (f" and --video-pairs {self.video_pairs}" if pool else ""),
                       "use a smaller --size or --batch")

    def run_folder(self) -> Path:
        """Where logs, previews and checkpoints go: --run-dir, else runs/<name of --out>."""
        return Path(self.run_dir) if self.run_dir else Path("runs") / Path(self.out).stem

    def to_metadata(self) -> dict[str, Any]:
        """JSON-friendly settings for model metadata (paths as strings, machine-local fields dropped)."""
        d = asdict(self)
        for k in ("style", "data", "out", "resume", "run_dir", "video_data"):
            d[k] = None if d[k] is None else [str(v) for v in d[k]] if isinstance(d[k], (list, tuple)) else str(d[k])
        for k in ("style_layers", "content_layers"):
            d[k] = list(d[k])
        for k in ("progress", "threads", "overwrite", "views_dir"):
            d.pop(k)
        return d


def check_arch_params(arch: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked against ``arch``'s constructor: known names, values of the default's type, integers
    within ARCH_INT_LIMITS. Raises InputError (so a typo or ``channels=-1`` never reaches the network)."""
    if arch not in ARCHITECTURES:
        raise InputError(f"unknown --arch {arch!r}: use one of {', '.join(sorted(ARCHITECTURES))}")
    if not isinstance(params, dict):
        raise InputError(f"architecture parameters must be KEY=VALUE pairs, got {params!r}")
    try:
        defaults = full_arch_params(arch)
        full_arch_params(arch, **params)
    except (TypeError, ValueError) as exc:
        raise InputError(f"--arch-param: {exc}") from None
    for key, value in params.items():
        default = defaults.get(key)
        name = f"--arch-param {key}"
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise InputError(f"{name} must be true or false, got {value!r}")
        elif isinstance(default, int):
            low, high = ARCH_INT_LIMITS.get(key, (0, 1024))
            validate.integer(name, value, low, high)
        elif isinstance(default, float):
            validate.finite(name, value)
        elif isinstance(default, str) and not isinstance(value, str):
            raise InputError(f"{name} must be a word such as {default!r}, got {value!r}")
    return params
