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
from typing import Any, Callable, Optional

import numpy as np
import torch
import torch.nn as nn

from vidstyle.errors import InputError, ModelError
from vidstyle.losses import VGG19Features, content_loss, gram_matrix, grid_loss, style_loss, temporal_loss, tv_loss
from vidstyle.models import build_network, full_arch_params, load_model, save_model, stored_arch_params
from vidstyle.train.config import TrainConfig
from vidstyle.train.data import PhotoCrops, to_numpy_image
from vidstyle.train.motion import inside, move, random_flow
from vidstyle.train.video_pairs import VideoFramePairs
from vidstyle.utils.device import cpu_supports_bf16, resolve_device
from vidstyle.utils.files import atomic_output
from vidstyle.utils.hashing import file_sha256
from vidstyle.utils.image import load_image, save_image

LOSS_NAMES = ("content", "style", "tv", "grid", "temporal", "distill", "total")


def pick_precision(requested: str, device: torch.device) -> Optional[torch.dtype]:
    """The autocast dtype: bf16 on CPUs with native bf16 dot products, fp16 on CUDA, else None (fp32)."""
    if requested == "fp32":
        return None
    if requested == "bf16":
        return torch.bfloat16
    if requested == "fp16":
        return torch.float16
    if requested != "auto":
        raise InputError(f"unknown precision {requested!r}: use auto, fp32, bf16 or fp16")
    if device.type == "cuda":
        return torch.float16
    if device.type == "cpu" and cpu_supports_bf16():
        return torch.bfloat16
    return None


@dataclass
class TrainResult:
    path: Path
    steps: int
    losses: dict[str, float]
    wall_time_s: float
    interrupted: bool = False


def training_history(metadata: dict, name: str) -> list[dict]:
    """The runs that produced a model, oldest first: its own ``history`` plus the model's last run."""
    history = list(metadata.get("history", []))
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


class Trainer:
    """Trains one network for one style. Build it, then call :meth:`train`."""

    def __init__(self, config: TrainConfig, log: Callable[[str], None] = print) -> None:
        self.config = c = config
        self.log = log
        if c.threads:
            torch.set_num_threads(c.threads)
        self.device = resolve_device(c.device)
        self.autocast_dtype = pick_precision(c.precision, self.device)
        torch.manual_seed(c.seed)
        np.random.seed(c.seed % (2**32))
        self.generator = torch.Generator().manual_seed(c.seed)

        style_path = Path(c.style)
        style_img = load_image(style_path, long_side=c.style_size)
        self.style_sha256 = file_sha256(style_path)
        self.style_name = c.style_name or style_path.stem
        self.data = PhotoCrops(c.data, c.size, seed=c.seed)
        self.video_pairs: Optional[VideoFramePairs] = None
        if c.temporal and c.video_data is not None:
            started = time.perf_counter()
            self.video_pairs = VideoFramePairs(c.video_data, c.size, max_pairs=c.video_pairs, seed=c.seed)
            self.log(f"video frame pairs: {len(self.video_pairs)} from {self.video_pairs.videos_used} videos "
                     f"in {time.perf_counter() - started:.1f} s")

        # Distillation (--teacher) never runs the VGG losses: no loss network to load.
        self.vgg: Optional[VGG19Features] = None
        self.style_grams: dict[str, torch.Tensor] = {}
        if not c.teacher:
            layers = tuple(dict.fromkeys((*c.style_layers, *c.content_layers)))
            self.vgg = VGG19Features(layers).to(self.device)
            style_t = torch.from_numpy(style_img).permute(2, 0, 1).unsqueeze(0).float().div(255).to(self.device)
            with torch.no_grad():
                feats = self.vgg(style_t, c.style_layers)
                self.style_grams = {k: gram_matrix(v.float()) for k, v in feats.items()}

        self.init_history: list[dict] = []
        self.arch_params = full_arch_params(c.arch, **c.arch_params)
        self.network = build_network(c.arch, **self.arch_params)
        if c.init:
            init = load_model(c.init)
            if init.metadata["architecture"] != c.arch:
                raise ModelError(f"--init model {c.init} is a {init.metadata['architecture']} network, not {c.arch}")
            self.arch_params = stored_arch_params(c.arch, init.metadata["arch_params"])
            self.init_history = training_history(init.metadata, init.name)
            self.network = build_network(c.arch, **self.arch_params)
            self.network.load_state_dict(init.network.state_dict())
        self.teacher: Optional[nn.Module] = None
        if c.teacher:
            teacher = load_model(c.teacher, self.device)
            teacher_sha = teacher.metadata.get("style_image_sha256")
            if teacher_sha and teacher_sha != self.style_sha256:
                raise InputError(f"--teacher {c.teacher} was trained on another style image than {style_path}")
            self.teacher = teacher.network
        self.network.to(self.device).train()
        if self.device.type == "cpu":
            # oneDNN convolutions run faster on NHWC tensors (5.3 vs 7.2 s/step, fast net, bf16, 256 px, batch 4).
            self.network.to(memory_format=torch.channels_last)
            for module in (self.vgg, self.teacher):
                if module is not None:
                    module.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=c.lr)
        self.step = 0
        self.elapsed = 0.0  # training wall time, carried across resumes
        self.run_dir = Path(c.run_dir) if c.run_dir else Path("runs") / Path(c.out).stem
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint_path = self.run_dir / "checkpoint.safetensors"
        if c.resume:
            self.load_checkpoint(self.checkpoint_path if str(c.resume) == "auto" else Path(c.resume))
        self.preview_batch = self.data.center_crops(min(4, len(self.data))).to(self.device)

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

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then cosine decay from lr to lr·lr_final_fraction at the end of the run."""
        c = self.config
        if step < c.warmup_steps:
            return c.lr * (step + 1) / c.warmup_steps
        progress = self.progress(step)
        return c.lr * (c.lr_final_fraction + (1 - c.lr_final_fraction) * 0.5 * (1 + math.cos(math.pi * progress)))

    def losses(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Loss terms (weighted) for a batch x: (B, 3, H, W) in [0, 1]."""
        c = self.config
        y = self.network(x)
        b = x.shape[0]
        out: dict[str, torch.Tensor] = {}
        if self.teacher is not None:
            # Distillation: the teacher's output is the whole target, so no VGG pass is needed.
            with torch.no_grad():
                target = self.teacher(x).float()
            out["distill"] = c.distill_weight * (y.float() - target).abs().mean()
            out["content"] = out["style"] = y.new_zeros(())
        else:
            with torch.no_grad():  # the photo's features only go as deep as the content layer: cheap
                x_feats = self.vgg(x, c.content_layers)
            y_feats = self.vgg(y, self.vgg_layers)
            out["content"] = c.content_weight * sum(
                content_loss(y_feats[k].float(), x_feats[k].float()) for k in c.content_layers)
            out["style"] = c.style_weight * style_loss({k: y_feats[k].float() for k in c.style_layers},
                                                       self.style_grams)
            out["distill"] = y.new_zeros(())
        out["tv"] = c.tv_weight * tv_loss(y.float()) if c.tv_weight else y.new_zeros(())
        out["grid"] = c.grid_weight * grid_loss(y.float(), c.grid_period) if c.grid_weight else y.new_zeros(())
        if self.video_pairs is not None:
            out["temporal"] = c.temporal_weight * self.video_temporal_loss(b)
        elif c.temporal:
            flow = random_flow(b, x.shape[2], x.shape[3], self.generator).to(self.device)
            moved_x = move(x, flow) + c.temporal_noise * torch.randn(x.shape, generator=self.generator).to(self.device)
            target = move(y, flow)
            out["temporal"] = c.temporal_weight * temporal_loss(self.network(moved_x.clamp(0, 1)).float(),
                                                                target.float(), inside(flow))
        else:
            out["temporal"] = y.new_zeros(())
        out["total"] = out["content"] + out["style"] + out["tv"] + out["grid"] + out["temporal"] + out["distill"]
        return out

    def video_temporal_loss(self, batch_size: int) -> torch.Tensor:
        """Unweighted temporal loss on a batch of real consecutive frames: ‖net(cur) − move(net(prev))‖² where
        cur is visible in prev. Both frames go through the network in one batched pass (instance norm stays per frame)."""
        prev, cur, flow, mask = (t.to(self.device) for t in self.video_pairs.batch(batch_size, self.generator))
        frames = torch.cat([prev, cur])
        if self.device.type == "cpu":
            frames = frames.contiguous(memory_format=torch.channels_last)
        styled_prev, styled_cur = self.network(frames).float().chunk(2)
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
        state = self.optimizer.state_dict()
        for pid, s in state["state"].items():
            for k, v in s.items():
                tensors[f"adam.{pid}.{k}"] = v.detach().float().cpu().reshape(-1).contiguous() if k == "step" \
                    else v.detach().cpu().contiguous()
        meta = {"step": self.step, "elapsed": self.elapsed, "arch": self.config.arch,
                "arch_params": self.arch_params, "style_sha256": self.style_sha256}
        with atomic_output(path) as tmp:
            save_file(tensors, str(tmp), metadata={"vidstyle_checkpoint": json.dumps(meta)})
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
        if meta["arch"] != self.config.arch or meta["arch_params"] != self.arch_params:
            raise ModelError(f"{path} is a checkpoint of {meta['arch']} {meta['arch_params']}, not of this network")
        if meta["style_sha256"] != self.style_sha256:
            self.log(f"warning: {path} was trained with a different style image")
        self.network.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")}, strict=False)
        state = self.optimizer.state_dict()
        params = state["param_groups"][0]["params"]
        for pid in params:
            prefix = f"adam.{pid}."
            entries = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            if entries:
                entries["step"] = entries["step"].reshape(())
                state["state"][pid] = entries
        self.optimizer.load_state_dict(state)
        self.step = int(meta["step"])
        self.elapsed = float(meta.get("elapsed", 0.0))
        self.log(f"resumed from {path} at step {self.step}")

    # -- outputs ---------------------------------------------------------------------------------------------

    def save_preview(self) -> Path:
        """A grid image: the preview photos on top, their stylized versions below."""
        self.network.eval()
        with torch.no_grad():
            y = self.network(self.preview_batch).clamp(0, 1)
        self.network.train()
        top = np.concatenate([to_numpy_image(t) for t in self.preview_batch], axis=1)
        bottom = np.concatenate([to_numpy_image(t) for t in y], axis=1)
        return save_image(np.concatenate([top, bottom], axis=0), self.run_dir / f"preview-{self.step:06d}.jpg",
                          quality=88)

    def save_final(self, losses: dict[str, float]) -> Path:
        c = self.config
        meta = {
            "architecture": c.arch,
            "arch_params": self.arch_params,
            "style_name": self.style_name,
            "style_image": Path(c.style).name,
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
        if self.init_history:
            # Earlier runs this one continued (--init): total steps and time say what the weights cost.
            meta["history"] = self.init_history
            meta["total_steps"] = self.step + sum(run["steps"] for run in self.init_history)
            meta["total_train_wall_time_s"] = round(
                self.elapsed + sum(run["train_wall_time_s"] for run in self.init_history), 1)
        return save_model(c.out, self.network, meta)

    # -- the loop --------------------------------------------------------------------------------------------

    def train(self) -> TrainResult:
        """Run until ``steps``; Ctrl-C saves a checkpoint and re-raises KeyboardInterrupt."""
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
        try:
            with open(log_path, "a") as log_file:
                while not self.finished():
                    for group in self.optimizer.param_groups:
                        group["lr"] = self.lr_at(self.step)
                    x = self.data.batch(c.batch).to(self.device)
                    if self.device.type == "cpu":
                        x = x.contiguous(memory_format=torch.channels_last)
                    with autocast:
                        terms = self.losses(x)
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
                    if c.checkpoint_every and self.step % c.checkpoint_every == 0:
                        self.save_checkpoint()
                    if c.preview_every and self.step % c.preview_every == 0:
                        self.save_preview()
        except KeyboardInterrupt:
            bar.close()
            path = self.save_checkpoint()
            self.log(f"interrupted at step {self.step}; checkpoint saved to {path} (continue with --resume)")
            raise
        bar.close()
        if not last:  # resumed at the end, or steps < log_every
            last = {k: float(np.mean(v)) for k, v in window.items() if v}
        self.save_checkpoint()
        self.save_preview()
        out = self.save_final(last)
        return TrainResult(out, self.step, last, self.elapsed)


def train(config: TrainConfig, log: Callable[[str], None] = print) -> TrainResult:
    """Train a transform network as ``config`` says and save it to ``config.out``."""
    return Trainer(config, log).train()
