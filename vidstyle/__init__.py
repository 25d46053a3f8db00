"""vidstyle: neural style transfer for images, video files and live cameras.

Public API (imported lazily so `import vidstyle` stays fast):
    stylize_image(content, style, **options)   Gatys et al. optimisation
    stylize_video(src, dst, model, **options)  feed-forward network over a video file
"""
from __future__ import annotations

import os as _os

# OpenMP worker threads spin while waiting by default; on two cores shared with decoding, encoding and
# display threads that spinning starved them (torch, 2 threads, 640x480: 2241 ms/frame spinning vs 337 ms
# passive, measured under load). Must be set before torch is imported; users can still override it.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

_LAZY = {
    "stylize_image": ("vidstyle.gatys", "stylize_image"),
    "stylize_video": ("vidstyle.pipeline.video", "stylize_video"),
    "Frame": ("vidstyle.types", "Frame"),
    "StreamInfo": ("vidstyle.types", "StreamInfo"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'vidstyle' has no attribute {name!r}")


__all__ = ["__version__", *_LAZY]
