"""The transform-network trainer (Johnson et al. 2016): photos in, a stylizing network out.

Per step: a batch of random photo crops x goes through the network; VGG19 content loss against x,
style loss against the style image's Gram matrices, optional total variation and, with ``temporal``,
the Ruder et al. 2018 loss ‖net(move(x) + noise) − move(net(x))‖² on a random synthetic motion, or, with
``video_data``, ‖net(cur) − move(net(prev), flow)‖² on consecutive video frames with DIS flow, masked by occlusion.
Checkpoints (.safetensors, no pickles) hold the network, Adam's state and the step; ``resume`` continues.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Protocol

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vidstyle.errors import InputError, ModelError, OutputError
from vidstyle.losses import VGG19Features, content_loss, gram_matrix, grid_loss, style_loss, temporal_loss, tv_loss
from vidstyle.losses.functional import palette_loss, rgb_to_lab, sorted_projections
from vidstyle.models import (build_network, find_model, full_arch_params, load_model, read_metadata, save_model,
                             stored_arch_params)
from vidstyle.runtime.precision import autocast_dtype
from vidstyle.train.config import OPTIMISATION_TEACHERS, TrainConfig
from vidstyle.train.data import PhotoCrops, style_images, style_names, to_numpy_image
from vidstyle.train.motion import inside, move, random_flow
from vidstyle.train.video_pairs import VideoFramePairs
from vidstyle.utils.device import resolve_device
from vidstyle.utils.files import atomic_output
from vidstyle.utils.hashing import file_sha256
from vidstyle.utils.image import load_image, save_image

LOSS_NAMES = ("content", "style", "palette", "tv", "grid", "temporal", "distill", "total")
PALETTE_DIRECTIONS = 32  # random Lab directions of the sliced Wasserstein palette loss


@dataclass
class TrainResult:
    path: Path
    steps: int
    losses: dict[str, float]
    wall_time_s: float
    interrupted: bool = False


def training_history(metadata: dict, name: str) -> list[dict]:
    """The runs that produced a model, oldest first: its own ``history`` plus the model's last run (none for a
    model no run produced, such as a recipe tool's output, which keeps its source's runs in ``history``)."""
    history = list(metadata.get("history", []))
    if not metadata.get("steps"):
        return history
    training = metadata.get("training", {})
    history.append({
        "model": name,
        "steps": int(metadata.get("steps") or 0),
        "train_wall_time_s": float(metadata.get("train_wall_time_s") or 0.0),
        "size": training.get("size"),
        "batch": training.get("batch"),
        "temporal": bool(metadata.get("temporal")),
    })
    return history


# A teacher that is not a trained network (``--teacher gatys``): built by the caller from the style image and
# TrainConfig, it maps a (1, 3, H, W) view in [0, 1] to its target; ``identity`` names it for the view cache.
class TeacherFunction(Protocol):
    identity: str

    def __call__(self, photo: torch.Tensor) -> torch.Tensor: ...


TeacherFactory = Callable[[Path, TrainConfig, torch.device], TeacherFunction]


class Trainer:
    """Trains one network for one style. Build it, then call :meth:`train`.

    ``teachers``: factories for the optimisation teachers of :data:`OPTIMISATION_TEACHERS` (the training layer
    does not import the optimiser; the command line passes ``vidstyle.gatys.teacher.GatysTeacher``).
    """

    def __init__(self, config: TrainConfig, log: Callable[[str], None] = print,
                 teachers: Optional[Mapping[str, TeacherFactory]] = None) -> None:
        self.config = c = config
        self.log = log
        self.teacher_factories = dict(teachers or {})
        check_train_outputs(c)  # before anything is loaded: a refused --out costs nothing
        if c.threads:
            torch.set_num_threads(c.threads)
        self.device = resolve_device(c.device)
        self.autocast_dtype = autocast_dtype(c.precision, self.device)
        torch.manual_seed(c.seed)
        np.random.seed(c.seed % (2**32))
        self.generator = torch.Generator().manual_seed(c.seed)

        self.style_paths = style_images(c.style)
        self.multistyle = c.arch == "multistyle"
        if len(self.style_paths) > 1 and not self.multistyle:
            raise InputError(f"{len(self.style_paths)} style images need --arch multistyle (one network, many paintings)")
        self.style_sha256 = file_sha256(self.style_paths[0]) if len(self.style_paths) == 1 else hashlib.sha256(
            "".join(file_sha256(p) for p in self.style_paths).encode()).hexdigest()
        self.style_name = c.style_name or (self.style_paths[0].stem if len(self.style_paths) == 1 else "multistyle")
        self.data = PhotoCrops(c.data, c.size, seed=c.seed, photo_side=c.photo_side, limit=c.photos)
        self.video_pairs: Optional[VideoFramePairs] = None
        if c.temporal and c.video_data is not None:
            started = time.perf_counter()
            self.video_pairs = VideoFramePairs(c.video_data, c.size, max_pairs=c.video_pairs, seed=c.seed)
            self.log(f"video frame pairs: {len(self.video_pairs)} from {self.video_pairs.videos_used} videos "
                     f"in {time.perf_counter() - started:.1f} s")

        self._load_style_targets()
        self._build_network()
        self.style_norms = torch.ones(len(self.style_paths))
        self._load_teacher()
        self.network.to(self.device).train()
        if self.device.type == "cpu":
            # oneDNN convolutions run faster on NHWC tensors (5.3 vs 7.2 s/step, fast net, bf16, 256 px, batch 4).
            self.network.to(memory_format=torch.channels_last)
            for module in (self.vgg, self.teacher):
                if isinstance(module, nn.Module):
                    module.to(memory_format=torch.channels_last)
        self.optimizer = self._make_optimizer()
        self.style_cycle: list[int] = []
        if self.multistyle and self.vgg is not None:
            self.style_norms = self.style_normalisers()
        self.palette_norms = self.palette_normalisers() if self.palette_targets is not None else None
        self.step = 0
        self.elapsed = 0.0  # training wall time, carried across resumes
        self.run_dir = c.run_folder()
        self.checkpoint_path = self.run_dir / "checkpoint.safetensors"
        if c.resume:
            self.load_checkpoint(self.checkpoint_path if str(c.resume) == "auto" else Path(c.resume))
        self.preview_batch = self.data.center_crops(min(4, len(self.data))).to(self.device)

    def _load_style_targets(self) -> None:
        """The loss network and each painting's targets: Gram matrices (VGG losses) and Lab quantiles (palette)."""
        c = self.config
        # Distillation (--teacher) never runs the VGG losses: no loss network to load.
        self.vgg: Optional[VGG19Features] = None
        # Per style image: {layer: (1, C, C) Gram matrix}.
        self.style_grams_per_image: list[dict[str, torch.Tensor]] = []
        if not c.teacher or c.distill_style_weight:
            layers = tuple(dict.fromkeys((*c.style_layers, *c.content_layers)))
            self.vgg = VGG19Features(layers).to(self.device)
            for path in self.style_paths:
                style_img = load_image(path, long_side=c.style_size)
                style_t = torch.from_numpy(style_img).permute(2, 0, 1).unsqueeze(0).float().div(255).to(self.device)
                with torch.no_grad():
                    feats = self.vgg(style_t, c.style_layers)
                    self.style_grams_per_image.append({k: gram_matrix(v.float()) for k, v in feats.items()})
        self.style_grams = self.style_grams_per_image[0] if self.style_grams_per_image else {}
        self.palette_targets: Optional[torch.Tensor] = None  # (S, K, size²) Lab quantiles per style image
        if c.palette_weight:
            self.palette_directions = F.normalize(
                torch.randn(PALETTE_DIRECTIONS, 3, generator=torch.Generator().manual_seed(c.seed)), dim=1)
            targets = []
            for path in self.style_paths:
                lab = rgb_to_lab(torch.from_numpy(load_image(path, long_side=c.style_size)).permute(2, 0, 1)[None]
                                 .float().div(255))
                targets.append(sorted_projections(lab.flatten(2)[0].T, self.palette_directions, c.size * c.size))
            self.palette_targets = torch.stack(targets).to(self.device)
            self.palette_directions = self.palette_directions.to(self.device)

    def _build_network(self) -> None:
        """The network to train: fresh, or --init's weights (with new style rows when adding styles)."""
        c = self.config
        self.init_history: list[dict] = []
        self.init_metadata: dict[str, Any] = {}
        names = style_names(self.style_paths, c.style_name)
        arch_params = {**c.arch_params, "styles": names} if self.multistyle else c.arch_params
        self.arch_params = full_arch_params(c.arch, **arch_params)
        self.network = build_network(c.arch, **self.arch_params)
        # Rows of the style table this run trains (all of them unless it adds styles to a trained network).
        self.trained_styles = list(range(len(names)))
        if c.init:
            init = load_model(c.init)
            if init.metadata["architecture"] != c.arch:
                raise ModelError(f"--init model {c.init} is a {init.metadata['architecture']} network, not {c.arch}")
            self.init_metadata = init.metadata
            self.arch_params = stored_arch_params(c.arch, init.metadata["arch_params"])
            self.init_history = training_history(init.metadata, init.name)
            if self.multistyle and c.add_styles:
                self.network, self.trained_styles = init.network.with_styles(names)
                self.arch_params = {**self.arch_params, "styles": self.network.styles}
            else:
                if self.multistyle and self.arch_params["styles"] != names:
                    raise InputError(f"--init model {c.init} holds styles {self.arch_params['styles']}, not {names}; "
                                     "to add styles to it use add-style")
                self.network = build_network(c.arch, **self.arch_params)
                self.network.load_state_dict(init.network.state_dict())
        elif c.add_styles:
            raise InputError("adding styles needs --init: the trained multistyle network to add them to")
        # Style-table row of each style image, and its loss normaliser (see style_normalisers).
        self.style_rows = ([self.network.styles.index(n) for n in names] if self.multistyle else [0])

    def _load_teacher(self) -> None:
        """--teacher's network, and the cache of its outputs in the run folder."""
        c = self.config
        self.teacher: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
        self.teacher_targets = 1  # RGB targets per view: one per painting with per-style teachers
        if not c.teacher:
            return
        if isinstance(c.teacher, list):
            self.teacher, identity = self._per_style_teachers(c.teacher)
            self.teacher_targets = len(self.style_paths)
        elif c.teacher in OPTIMISATION_TEACHERS:
            if self.multistyle:
                raise InputError(f"--teacher {c.teacher} paints one style image: not with --arch multistyle")
            if c.teacher not in self.teacher_factories:
                raise InputError(f"--teacher {c.teacher} needs its optimiser: pass Trainer(teachers=...) "
                                 "(the vidstyle command does)")
            painter = self.teacher_factories[c.teacher](self.style_paths[0], c, self.device)
            self.teacher, identity = painter, painter.identity
        elif read_metadata(find_model(c.teacher)).get("architecture") == "multistyle":
            self.teacher, identity = self._multistyle_teacher(c.teacher)
            self.teacher_targets = len(self.style_paths)
        else:
            teacher = load_model(c.teacher, self.device)
            teacher_sha = teacher.metadata.get("style_image_sha256")
            if teacher_sha and teacher_sha != self.style_sha256:
                raise InputError(f"--teacher {c.teacher} was trained on another style image than "
                                 f"{self.style_paths[0]}")
            self.teacher, identity = teacher.network, file_sha256(find_model(c.teacher))
        # The teacher's outputs are a cache in the run folder, valid for this teacher, data and crop size only:
        # a resumed run, or a new stage trained in the same folder, reuses them.
        self.views_tag = json.dumps({"teacher": identity,
                                     "data": str(Path(c.data).resolve()), "size": c.size,
                                     "photo_side": c.photo_side})
        # A recipe's shared folder holds one file per teacher: a stage taught by another teacher (a Gatys-taught
        # net's own earlier stage) must not replace the slow teacher's views that other stages reuse.
        name = (f"distill-views-{hashlib.sha256(self.views_tag.encode()).hexdigest()[:12]}.safetensors"
                if c.views_dir else "distill-views.safetensors")
        self.views_path = Path(c.views_dir or c.run_folder()) / name
        self.views_path.parent.mkdir(parents=True, exist_ok=True)
        if count := self.data.load_views(self.views_path, self.views_tag, self.teacher_targets):
            self.log(f"distillation: {count} teacher outputs kept from the last run")

    def _per_style_teachers(self, names: list[str]) -> tuple[Callable[[torch.Tensor], torch.Tensor], str]:
        """One trained single-style model per painting of a multistyle run, matched by the painting's file hash.

        Returns the teacher: (1, 3, H, W) photo in [0, 1] -> (1, 3·S, H, W), each painting's stylization in the
        order of the run's style images, and an identity for the view cache."""
        by_sha: dict[str, tuple[str, Any]] = {}
        twice = []
        for name in names:
            model = load_model(name, self.device)
            sha = model.metadata.get("style_image_sha256")
            if not sha or model.metadata.get("architecture") == "multistyle":
                raise InputError(f"--teacher {name}: not a single-style model with a recorded painting")
            if sha in by_sha:
                twice.append(name)
            by_sha.setdefault(sha, (name, model))
        shas = [file_sha256(p) for p in self.style_paths]
        missing = [p.stem for p, sha in zip(self.style_paths, shas) if sha not in by_sha]
        unused = [name for sha, (name, _) in by_sha.items() if sha not in shas]
        if missing or unused or twice:
            raise InputError("--teacher: one model per painting" + (f"; none for {', '.join(missing)}" if missing else "")
                             + (f"; {', '.join(unused)} trained on none of the paintings" if unused else "")
                             + (f"; {', '.join(twice)} repeats a painting" if twice else ""))
        networks = [by_sha[sha][1].network for sha in shas]
        if self.device.type == "cpu":
            for network in networks:
                network.to(memory_format=torch.channels_last)

        def teach(photo: torch.Tensor) -> torch.Tensor:
            return torch.cat([network(photo).float() for network in networks], dim=1)

        identity = hashlib.sha256("".join(file_sha256(find_model(by_sha[sha][0])) for sha in shas).encode()).hexdigest()
        return teach, identity

    def _multistyle_teacher(self, name: str) -> tuple[Callable[[torch.Tensor], torch.Tensor], str]:
        """A multistyle model teaching the run's paintings (all of them among its styles, matched by file hash):
        a lighter multistyle student learns every painting from one file, a single-style student its own.

        Returns the teacher: (1, 3, H, W) photo in [0, 1] -> (1, 3·S, H, W), S = the run's style images, and an
        identity for the view cache."""
        model = load_model(name, self.device)
        rows = {s["image_sha256"]: i for i, s in enumerate(model.metadata.get("styles") or []) if s.get("image_sha256")}
        shas = [file_sha256(p) for p in self.style_paths]
        missing = [p.stem for p, sha in zip(self.style_paths, shas) if sha not in rows]
        if missing:
            raise InputError(f"--teacher {name} was not trained on {', '.join(missing)}")
        network = model.network
        if self.device.type == "cpu":
            network.to(memory_format=torch.channels_last)
        mixes = torch.eye(len(network.styles), device=self.device)[[rows[sha] for sha in shas]]

        def teach(photo: torch.Tensor) -> torch.Tensor:
            return torch.cat([network(photo, mix[None]).float() for mix in mixes], dim=1)

        identity = hashlib.sha256((file_sha256(find_model(name)) + "".join(shas)).encode()).hexdigest()
        return teach, identity

    def _make_optimizer(self) -> torch.optim.Optimizer:
        """Adam over what this run trains: every weight, the style rows at their own rate, or only new styles."""
        c = self.config
        if c.add_styles:
            # Only the new styles' scale and shift rows learn; every shared weight stays as trained.
            self.network.requires_grad_(False)
            params = [p for m in self.network.conditional_norms for p in (m.weight, m.bias)]
            keep = torch.zeros(len(self.network.styles), 1)
            keep[self.trained_styles] = 1.0
            for p in params:
                p.requires_grad_(True)
                p.register_hook(lambda g, keep=keep.to(self.device): g * keep.to(g.dtype))
            return torch.optim.Adam(params, lr=c.lr)
        if self.multistyle and c.style_lr_factor != 1.0:
            # The style rows see only their own painting's share of the batches: a larger step lets the
            # paintings part ways within a short CPU budget.
            rows = [p for m in self.network.conditional_norms for p in (m.weight, m.bias)]
            shared = [p for p in self.network.parameters() if all(p is not r for r in rows)]
            return torch.optim.Adam([{"params": shared, "lr_factor": 1.0},
                                     {"params": rows, "lr_factor": c.style_lr_factor}], lr=c.lr)
        return torch.optim.Adam(self.network.parameters(), lr=c.lr)

    # -- schedule and losses -------------------------------------------------------------------------------

    def progress(self, step: int) -> float:
        """Fraction of the run done: by steps, or by training time when ``max_minutes`` ends it sooner."""
        c = self.config
        done = (step - c.warmup_steps) / max(1, c.steps - c.warmup_steps)
        if c.max_minutes:
            done = max(done, self.elapsed / (60 * c.max_minutes))
        return min(1.0, max(0.0, done))

    def finished(self) -> bool:
        c = self.config
        return self.step >= c.steps or bool(c.max_minutes and self.elapsed >= 60 * c.max_minutes)

    def projected_steps(self, first_step: int, started: float) -> int:
        """The step the run will end at: ``steps``, or fewer when ``max_minutes`` stops it first (at the pace
        of this session's steps since ``first_step``, begun at perf_counter ``started``)."""
        c = self.config
        done = self.step - first_step
        if not c.max_minutes or done <= 0:
            return c.steps
        pace = (time.perf_counter() - started) / done
        remaining = max(0.0, 60 * c.max_minutes - self.elapsed)
        return max(self.step, min(c.steps, self.step + math.ceil(remaining / max(pace, 1e-9))))

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then cosine decay from lr to lr·lr_final_fraction at the end of the run."""
        c = self.config
        if step < c.warmup_steps:
            return c.lr * (step + 1) / c.warmup_steps
        progress = self.progress(step)
        return c.lr * (c.lr_final_fraction + (1 - c.lr_final_fraction) * 0.5 * (1 + math.cos(math.pi * progress)))

    def style_normalisers(self, photos: int = 16) -> torch.Tensor:
        """(S,) factors that give every style image the same weight in a multi-style run.

        Gram losses differ by an order of magnitude between paintings; each style's loss is scaled by the
        mean over styles of a plain photo's loss against it, divided by its own, so a style ratio
        (output's loss ÷ photo's loss, the look measure) weighs the same for every painting while the
        average scale stays that of a single-style run.
        """
        c = self.config
        x = self.data.center_crops(min(photos, len(self.data))).to(self.device)
        with torch.no_grad():
            feats = self.vgg(x, c.style_layers)
            baseline = torch.tensor([float(style_loss({k: v.float() for k, v in feats.items()}, grams))
                                     for grams in self.style_grams_per_image])
        # A style added later to a trained network is scaled against that network's reference.
        self.style_reference = float(c.style_reference or baseline.mean())
        return self.style_reference / baseline

    def palette_normalisers(self, photos: int = 16) -> torch.Tensor:
        """(S,) 1 / a plain photo's palette distance to each style image: the palette term is then the
        palette ratio of the look measure (1.0 = colours did not move toward the painting)."""
        x = self.data.center_crops(min(photos, len(self.data))).to(self.device)
        with torch.no_grad():
            base = torch.stack([palette_loss(x, self.palette_targets[i:i + 1], self.palette_directions).mean()
                                for i in range(len(self.style_paths))])
        return 1.0 / base.clamp_min(1e-3)

    def next_styles(self, count: int) -> list[int]:
        """Indices into the style images for a batch: a shuffled round-robin, so every style gets equal turns."""
        out = []
        while len(out) < count:
            if not self.style_cycle:
                order = torch.randperm(len(self.style_paths), generator=self.generator).tolist()
                self.style_cycle = order
            out.append(self.style_cycle.pop())
        return out

    def style_mix(self, images: list[int]) -> torch.Tensor:
        """(B, S) one-hot style weights for the batch's style images."""
        mix = torch.zeros(len(images), len(self.network.styles))
        mix[torch.arange(len(images)), torch.tensor([self.style_rows[i] for i in images])] = 1.0
        return mix.to(self.device)

    def _report_teacher_views(self, before: int, clock: list) -> None:
        """A log line each tenth of the teacher's views (a slow teacher, such as Gatys, takes most of a run's
        first hour): how many are made, the time per view since the last line, and the time the rest would
        take at that rate."""
        total = len(self.data) * self.config.distill_views
        made = len(self.data.views)
        tenth = max(1, total // 10)
        if made // tenth == before // tenth or made == clock[0]:
            return
        now = time.perf_counter()
        per_view = (now - clock[1]) / (made - clock[0])
        self.log(f"teacher: {made}/{total} views made ({per_view:.1f} s per view since the last report, "
                 f"about {per_view * (total - made) / 60:.0f} min for the rest)")
        clock[:] = [made, now]

    def teacher_output(self, photo: torch.Tensor) -> torch.Tensor:
        """The teacher's stylization of a (1, 3, H, W) photo in [0, 1], on the training device: (1, 3·T, H, W),
        T = 1, or one per painting with per-style teachers."""
        photo = photo.to(self.device)
        if self.device.type == "cpu":
            photo = photo.contiguous(memory_format=torch.channels_last)
        return self.teacher(photo)

    def losses(self, x: torch.Tensor, target: Optional[torch.Tensor] = None) -> dict[str, torch.Tensor]:
        """Loss terms (weighted) for a batch x: (B, 3, H, W) in [0, 1]; with a teacher, ``target`` is its
        output for the same crops (B, 3, H, W) in [0, 1] (PhotoCrops.batch_with_targets)."""
        c = self.config
        b = x.shape[0]
        images = self.next_styles(b) if self.multistyle else [0] * b
        if self.multistyle:
            mix = self.style_mix(images)
            network: Callable[[torch.Tensor], torch.Tensor] = lambda t: self.network(t, mix.repeat(t.shape[0] // b, 1))
        else:
            network = self.network
        y = network(x)
        out: dict[str, torch.Tensor] = {}
        if self.teacher is not None:
            # Distillation: the teacher's output is the target, so no VGG pass is needed, unless the Gram loss is
            # added to draw texture the pixel loss averages away (a teacher whose strokes the student cannot
            # predict, such as Gatys optimisation).
            if self.teacher_targets > 1:  # per-style teachers: each crop's target for the style it drew
                target = target.unflatten(1, (self.teacher_targets, 3))[torch.arange(b), torch.tensor(images)]
            out["distill"] = c.distill_weight * (y.float() - target).abs().mean()
            out["content"] = out["style"] = y.new_zeros(())
            if c.distill_style_weight:
                y_feats = self.vgg(y, c.style_layers)
                out["style"] = c.distill_style_weight * self.batch_style_loss(y_feats, images)
        else:
            with torch.no_grad():  # the photo's features only go as deep as the content layer: cheap
                x_feats = self.vgg(x, c.content_layers)
            y_feats = self.vgg(y, self.vgg_layers)
            out["content"] = c.content_weight * sum(
                content_loss(y_feats[k].float(), x_feats[k].float()) for k in c.content_layers)
            out["style"] = c.style_weight * self.batch_style_loss(y_feats, images)
            out["distill"] = y.new_zeros(())
        if self.palette_targets is not None:
            distances = palette_loss(y.float(), self.palette_targets[images], self.palette_directions)
            out["palette"] = c.palette_weight * (distances * self.palette_norms[images]).mean()
        else:
            out["palette"] = y.new_zeros(())
        out["tv"] = c.tv_weight * tv_loss(y.float()) if c.tv_weight else y.new_zeros(())
        out["grid"] = c.grid_weight * grid_loss(y.float(), c.grid_period) if c.grid_weight else y.new_zeros(())
        if self.video_pairs is not None:
            out["temporal"] = c.temporal_weight * self.video_temporal_loss(b, network)
        elif c.temporal:
            flow = random_flow(b, x.shape[2], x.shape[3], self.generator).to(self.device)
            moved_x = move(x, flow) + c.temporal_noise * torch.randn(x.shape, generator=self.generator).to(self.device)
            moved_y = move(y, flow)
            out["temporal"] = c.temporal_weight * temporal_loss(network(moved_x.clamp(0, 1)).float(),
                                                                moved_y.float(), inside(flow))
        else:
            out["temporal"] = y.new_zeros(())
        out["total"] = out["content"] + out["style"] + out["palette"] + out["tv"] + out["grid"] + out["temporal"] + out["distill"]
        return out

    def batch_style_loss(self, y_feats: dict[str, torch.Tensor], images: list[int]) -> torch.Tensor:
        """Mean over the batch of each output's normalised Gram loss against its own style image."""
        if len(self.style_paths) == 1:
            return style_loss({k: y_feats[k].float() for k in self.config.style_layers}, self.style_grams)
        total = 0.0
        for layer in self.config.style_layers:
            g = gram_matrix(y_feats[layer].float())
            target = torch.cat([self.style_grams_per_image[i][layer] for i in images])
            total = total + ((g - target) ** 2).mean(dim=(1, 2))
        return (total * self.style_norms[images].to(total)).mean()

    def video_temporal_loss(self, batch_size: int, network: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """Unweighted temporal loss on a batch of real consecutive frames: ‖net(cur) − move(net(prev))‖² where
        cur is visible in prev. Both frames go through the network in one batched pass (instance norm stays per frame)."""
        prev, cur, flow, mask = (t.to(self.device) for t in self.video_pairs.batch(batch_size, self.generator))
        frames = torch.cat([prev, cur])
        if self.device.type == "cpu":
            frames = frames.contiguous(memory_format=torch.channels_last)
        styled_prev, styled_cur = network(frames).float().chunk(2)
        return temporal_loss(styled_cur, move(styled_prev, flow), mask)

    @property
    def vgg_layers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.config.style_layers, *self.config.content_layers)))

    # -- checkpoints -----------------------------------------------------------------------------------------

    def save_checkpoint(self, path: Path | None = None) -> Path:
        """Network + Adam state as safetensors; step, wall time and settings in the header (no pickles)."""
        from safetensors.torch import save_file

        path = path or self.checkpoint_path
        tensors = {f"net.{k}": v.detach().float().cpu().contiguous() for k, v in self.network.state_dict().items()
                   if v.is_floating_point()}
        for name, param in self.network.named_parameters():  # Adam's moments by parameter name
            for k, v in self.optimizer.state.get(param, {}).items():
                tensors[f"adam.{name}.{k}"] = v.detach().float().cpu().reshape(-1).contiguous() if k == "step" \
                    else v.detach().cpu().contiguous()
        meta = {"step": self.step, "elapsed": self.elapsed, "arch": self.config.arch,
                "arch_params": self.arch_params, "style_sha256": self.style_sha256}
        with atomic_output(path) as tmp:
            save_file(tensors, str(tmp), metadata={"vidstyle_checkpoint": json.dumps(meta)})
        if self.teacher is not None and self.data.views_added:
            self.data.save_views(self.views_path, self.views_tag)
        return path

    def load_checkpoint(self, path: Path) -> None:
        from safetensors import safe_open
        from safetensors.torch import load_file

        if not path.is_file():
            raise InputError(f"no checkpoint to resume from: {path}")
        try:
            with safe_open(str(path), "pt") as f:
                meta = json.loads((f.metadata() or {})["vidstyle_checkpoint"])
            tensors = load_file(str(path))
        except Exception as exc:  # noqa: BLE001 - any failure means an unusable checkpoint
            raise ModelError(f"{path} is not a vidstyle checkpoint ({exc.__class__.__name__}: {exc})") from exc
        if meta["arch"] != self.config.arch or stored_arch_params(meta["arch"], meta["arch_params"]) != self.arch_params:
            raise ModelError(f"{path} is a checkpoint of {meta['arch']} {meta['arch_params']}, not of this network")
        if meta["style_sha256"] != self.style_sha256:
            self.log(f"warning: {path} was trained with a different style image")
        self.network.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")}, strict=False)
        trained = {id(p) for group in self.optimizer.param_groups for p in group["params"]}
        for index, (name, param) in enumerate(self.network.named_parameters()):
            if id(param) not in trained:
                continue
            # Keyed by name; checkpoints of one parameter group keyed them by position.
            entries = {k: tensors[f"adam.{key}.{k}"] for key in (name, index)
                       for k in ("step", "exp_avg", "exp_avg_sq") if f"adam.{key}.{k}" in tensors}
            if len(entries) == 3:
                entries["step"] = entries["step"].reshape(())
                self.optimizer.state[param] = {k: v.to(param.device) for k, v in entries.items()}
        self.step = int(meta["step"])
        self.elapsed = float(meta.get("elapsed", 0.0))
        self.log(f"resumed from {path} at step {self.step}")

    # -- outputs ---------------------------------------------------------------------------------------------

    def save_preview(self) -> Path:
        """A grid image: the preview photos on top, their stylized versions below."""
        self.network.eval()
        rows = [np.concatenate([to_numpy_image(t) for t in self.preview_batch], axis=1)]
        with torch.no_grad():
            for image in (range(len(self.style_paths)) if self.multistyle else [None]):
                if image is None:
                    y = self.network(self.preview_batch)
                else:
                    y = self.network(self.preview_batch, self.style_mix([image] * len(self.preview_batch)))
                rows.append(np.concatenate([to_numpy_image(t) for t in y.clamp(0, 1)], axis=1))
        self.network.train()
        return save_image(np.concatenate(rows, axis=0), self.run_dir / f"preview-{self.step:06d}.jpg", quality=88)

    def save_final(self, losses: dict[str, float], interrupted: bool = False) -> Path:
        c = self.config
        meta = {
            "architecture": c.arch,
            "arch_params": self.arch_params,
            "style_name": self.style_name,
            "style_image": self.style_paths[0].name if len(self.style_paths) == 1 else None,
            "style_image_sha256": self.style_sha256,
            "training": c.to_metadata(),
            "steps": self.step,
            "losses": losses,
            "temporal": bool(c.temporal),
            "temporal_source": ("video" if self.video_pairs is not None else "synthetic") if c.temporal else None,
            "train_wall_time_s": round(self.elapsed, 1),
            "train_device": str(self.device),
            "train_precision": str(self.autocast_dtype or "fp32").replace("torch.", ""),
            "train_threads": torch.get_num_threads() if self.device.type == "cpu" else None,
        }
        if self.multistyle:
            # Every style the network holds, with the painting it learned it from (older rows from --init).
            earlier = {s["name"]: s for s in self.init_metadata.get("styles", [])}
            new = {n: p for n, p in zip(style_names(self.style_paths, c.style_name), self.style_paths)}
            meta["style_reference"] = getattr(self, "style_reference", None)
            meta["styles"] = [
                {"name": n, "image": new[n].name, "image_sha256": file_sha256(new[n])} if n in new else earlier[n]
                for n in self.network.styles]
        if self.init_history:
            # Earlier runs this one continued (--init): total steps and time say what the weights cost.
            meta["history"] = self.init_history
            meta["total_steps"] = self.step + sum(run["steps"] for run in self.init_history)
            meta["total_train_wall_time_s"] = round(
                self.elapsed + sum(run["train_wall_time_s"] for run in self.init_history), 1)
        if interrupted:  # stopped early: a usable model, marked so (the checkpoint continues the run)
            meta["interrupted"] = True
        return save_model(c.out, self.network, meta)

    # -- the loop --------------------------------------------------------------------------------------------

    def train(self) -> TrainResult:
        """Run until ``steps`` (or ``max_minutes``). Ctrl-C (or SIGTERM) saves a checkpoint and the model so far
        at ``out``, then re-raises KeyboardInterrupt."""
        from tqdm import tqdm

        c = self.config
        log_path = self.run_dir / "log.jsonl"
        window: dict[str, list[float]] = {k: [] for k in LOSS_NAMES}
        last: dict[str, float] = {}
        bar = tqdm(total=c.steps, initial=self.step, disable=not c.progress, unit="step", dynamic_ncols=True)
        autocast = (torch.autocast(self.device.type, dtype=self.autocast_dtype) if self.autocast_dtype
                    else torch.autocast(self.device.type, enabled=False))
        scaler = torch.amp.GradScaler("cuda") if self.autocast_dtype == torch.float16 else None
        start = time.perf_counter() - self.elapsed
        session = (self.step, time.perf_counter())  # this session's first step and start, for the ETA
        teacher_clock = [len(self.data.views), time.perf_counter()]  # views and time at the last report
        try:
            with open(log_path, "a") as log_file:
                while not self.finished():
                    for group in self.optimizer.param_groups:
                        group["lr"] = self.lr_at(self.step) * group.get("lr_factor", 1.0)
                    target: Optional[torch.Tensor] = None
                    if self.teacher is not None:
                        made = len(self.data.views)
                        x, target = self.data.batch_with_targets(c.batch, self.teacher_output, c.distill_views)
                        target = target.to(self.device)
                        self._report_teacher_views(made, teacher_clock)
                    else:
                        x = self.data.batch(c.batch)
                    x = x.to(self.device)
                    if self.device.type == "cpu":
                        x = x.contiguous(memory_format=torch.channels_last)
                    with autocast:
                        terms = self.losses(x, target)
                    self.optimizer.zero_grad(set_to_none=True)
                    if scaler:
                        scaler.scale(terms["total"]).backward()
                        scaler.step(self.optimizer)
                        scaler.update()
                    else:
                        terms["total"].backward()
                        self.optimizer.step()
                    if not torch.isfinite(terms["total"]):
                        raise ModelError(f"training diverged at step {self.step} (loss is not finite); lower --lr")
                    self.step += 1
                    self.elapsed = time.perf_counter() - start
                    for k in LOSS_NAMES:
                        window[k].append(float(terms[k].detach()))
                    if self.step % c.log_every == 0 or self.finished():
                        last = {k: float(np.mean(v)) for k, v in window.items()}
                        window = {k: [] for k in LOSS_NAMES}
                        log_file.write(json.dumps({"step": self.step, "time_s": round(self.elapsed, 2),
                                                   "lr": self.lr_at(self.step - 1), **last}) + "\n")
                        log_file.flush()
                        bar.set_postfix(style=f"{last['style']:.3g}", content=f"{last['content']:.3g}")
                    bar.update(1)
                    if c.max_minutes:  # the bar counts to where the time limit will stop the run
                        bar.total = self.projected_steps(*session)
                        bar.refresh()
                    if c.checkpoint_every and self.step % c.checkpoint_every == 0:
                        self.save_checkpoint()
                    if c.preview_every and self.step % c.preview_every == 0:
                        self.save_preview()
        except KeyboardInterrupt:
            bar.close()
            path = self.save_checkpoint()
            if self.step > 0:
                losses = last or {k: float(np.mean(v)) for k, v in window.items() if v}
                out = self.save_final(losses, interrupted=True)
                self.log(f"interrupted at step {self.step}: the model so far is saved to {out}; "
                         f"checkpoint {path} continues the run with --resume")
            else:
                self.log(f"interrupted before the first step; checkpoint saved to {path}")
            raise
        bar.close()
        if not last:  # resumed at the end, or steps < log_every
            last = {k: float(np.mean(v)) for k, v in window.items() if v}
        self.save_checkpoint()
        self.save_preview()
        out = self.save_final(last)
        return TrainResult(out, self.step, last, self.elapsed)


def check_train_outputs(config: TrainConfig) -> None:
    """--out (and its .json) and the run folder, checked before any work: --out is never an input model
    (--init, --teacher, --resume) or the style image, an existing one is replaced only with ``overwrite``,
    and the run folder can be created and written."""
    from vidstyle.models.files import check_model_output

    c = config
    inputs: list[Any] = [c.style, c.video_data]
    teachers = c.teacher if isinstance(c.teacher, list) else [c.teacher]
    inputs += [find_model(name) for name in (c.init, *teachers) if name and name not in OPTIMISATION_TEACHERS]
    if c.resume and str(c.resume) != "auto":
        inputs.append(Path(c.resume))
    check_model_output(c.out, tuple(inputs), c.overwrite)
    run_dir = c.run_folder()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the run folder {run_dir}: {exc.strerror or exc}") from None
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise OutputError(f"the run folder is not writable: {run_dir}")


def train(config: TrainConfig, log: Callable[[str], None] = print,
          teachers: Optional[Mapping[str, TeacherFactory]] = None) -> TrainResult:
    """Train a transform network as ``config`` says and save it to ``config.out`` (``teachers``: see Trainer)."""
    return Trainer(config, log, teachers).train()
