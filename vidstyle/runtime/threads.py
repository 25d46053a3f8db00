"""Thread counts for inference, chosen so decoding, inference and display share few cores well."""
from __future__ import annotations

import os

from vidstyle.utils import validate


def available_cores() -> int:
    """CPU cores this process may run on (respects taskset/cgroup affinity)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def inference_threads(requested: int | None = None) -> int:
    """Threads one inference call should use.

    ``requested`` wins when given (``--threads``). Otherwise every available core: a convolution
    keeps all cores busy for a few milliseconds and then releases them, so decode and display
    threads get their turn between frames. Backends are also told not to spin-wait after a
    call (ONNX Runtime and OpenMP spin by default), which is what would starve those threads.
    """
    if requested is not None:
        return validate.threads(requested)
    return available_cores()


def configure_torch_threads(threads: int) -> None:
    """Set torch's intra-op pool to ``threads`` and its inter-op pool to one thread.

    torch's thread pools are process-wide; the inter-op pool can only be sized before first use,
    hence the guard.
    """
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already initialised by earlier torch work in this process
