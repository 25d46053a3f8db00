"""vidstyle: neural style transfer for images, video files and live cameras.

Public API (imported lazily so `import vidstyle` stays fast):
    stylize_image(content, style, **options)   Gatys et al. optimisation
    stylize_video(src, dst, model, **options)  feed-forward network over a video file
"""
from __future__ import annotations

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
