"""PyTorch backend: eager (optionally torch.compile), channels-last, bf16 on CPUs that have it, fp16 on CUDA."""
from __future__ import annotations

import contextlib
import warnings
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from vidstyle.models.styles import network_styles
from vidstyle.runtime.base import MIN_NETWORK_SIDE, Stylizer, pad_to_network_size
from vidstyle.runtime.graph import Uint8Graph, frames_to_tensor
from vidstyle.runtime.rewrite import fold_upsampling
from vidstyle.runtime.threads import configure_torch_threads


class TorchStylizer(Stylizer):
    """Runs a transform network with PyTorch.

    precision: "fp32", "bf16" (CPU autocast, needs AVX512-BF16/AMX to pay) or "fp16" (CUDA only).
    compile: wrap the graph in ``torch.compile`` (pays for long videos at a fixed size; the first
        frame of each new size is slow while it compiles).
    On CUDA frames are uploaded through pinned memory with non-blocking copies, and
    :meth:`stylize_stream` overlaps the upload of batch i+1 with inference on batch i.
    """

    def __init__(
        self,
        network: nn.Module,
        device: torch.device,
        strength: float = 1.0,
        precision: str = "fp32",
        threads: int | None = None,
        compile: bool = False,
        batch_size: int = 4,
    ) -> None:
        if precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"unknown precision {precision!r}")
        if precision == "fp16" and device.type != "cuda":
            raise ValueError("fp16 needs a CUDA device")
        if device.type == "cpu" and threads is not None:
            configure_torch_threads(threads)
        if device.type == "cuda":
            # Frame sizes are fixed within a video: let cuDNN time its algorithms once per shape.
            torch.backends.cudnn.benchmark = True
        self.device = device
        self.precision = precision
        self.batch_size = max(1, int(batch_size))
        # fold_upsampling returns a copy, so the .to()/.half() below leave the caller's network intact.
        network = fold_upsampling(network.eval()).to(device)
        for p in network.parameters():
            p.requires_grad_(False)
        compute_dtype = torch.float32
        if precision == "fp16":
            network = network.half()
            compute_dtype = torch.float16
        network = network.to(memory_format=torch.channels_last)
        self.hold_styles(network_styles(network))
        # A multi-style network's weights go in as a graph input, updated in place: a compiled graph keeps running.
        self._style = None if self.style_input is None else torch.from_numpy(self.style_input.vector).to(device)
        self.graph = Uint8Graph(network, strength, compute_dtype=compute_dtype).eval()
        self.compiled = bool(compile)
        self._run = torch.compile(self.graph, dynamic=False) if compile else self.graph
        self.name = f"torch-{device.type}-{precision}" + ("-compiled" if compile else "")

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _infer(self, frames: torch.Tensor) -> torch.Tensor:
        count = frames.shape[0]
        if self.compiled and count < self.batch_size:
            # A compiled graph is specialised to its batch size: pad a short (last) batch instead of recompiling.
            frames = torch.cat([frames, frames[-1:].expand(self.batch_size - count, *frames.shape[1:])])
        args = (frames,) if self._style is None else (frames, self._style)
        with torch.inference_mode(), self._autocast():
            try:
                out = self._run(*args)
            except Exception as exc:  # noqa: BLE001 - no compiler toolchain, unsupported op: run eager
                if self._run is self.graph:
                    raise
                warnings.warn(f"torch.compile failed ({type(exc).__name__}: {exc}); running without compilation")
                self._run, self.compiled = self.graph, False
                self.name = self.name.replace("-compiled", "")
                out = self._run(*args)
        return out[:count]

    def _apply_style(self, mix: dict[str, float]) -> None:
        super()._apply_style(mix)
        assert self._style is not None and self.style_input is not None
        self._style.copy_(torch.from_numpy(self.style_input.vector))

    def stylize(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        padded = pad_to_network_size(image)
        out = self._infer(frames_to_tensor([padded], self.device, pin=self.device.type == "cuda"))
        return out[0, :h, :w].cpu().numpy()

    def stylize_batch(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        if any(min(im.shape[:2]) < MIN_NETWORK_SIDE for im in images):
            return [self.stylize(im) for im in images]
        return list(self.stylize_stream(images))

    def stylize_stream(self, images: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Stylize a stream of same-size frames, yielding results in order.

        On CUDA frames go in batches of ``batch_size``; batch i+1 is uploaded and launched
        before batch i is downloaded, so host/device copies overlap with inference. On the CPU
        batching gains nothing (the cores are busy either way), so frames go one at a time.
        """
        if self.device.type != "cuda":
            for image in images:
                yield self.stylize(image)
            return
        pending: list[tuple[torch.Tensor, torch.cuda.Event]] = []
        batch: list[np.ndarray] = []

        def launch(chunk: list[np.ndarray]) -> None:
            out = self._infer(frames_to_tensor(chunk, self.device, pin=True))
            host = torch.empty(out.shape, dtype=torch.uint8, pin_memory=True)
            host.copy_(out, non_blocking=True)
            done = torch.cuda.Event()
            done.record()
            pending.append((host, done))

        def drain(keep: int) -> Iterator[np.ndarray]:
            while len(pending) > keep:
                host, done = pending.pop(0)
                done.synchronize()
                yield from (frame for frame in host.numpy())

        for image in images:
            if batch and image.shape != batch[0].shape:
                launch(batch)
                batch = []
            batch.append(image)
            if len(batch) == self.batch_size:
                launch(batch)
                batch = []
                yield from drain(keep=1)
        if batch:
            launch(batch)
        yield from drain(keep=0)

    def close(self) -> None:
        self._run = None
        self.graph = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
