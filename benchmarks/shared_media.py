"""Where the benchmarks find the development media: $VIDSTYLE_MEDIA, else ../shared/media beside the repository.

The benchmarks run as scripts (``python benchmarks/NAME.py``), so this folder is on ``sys.path`` and they
import it as ``from shared_media import media_root``.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def media_root() -> Path:
    """The media folder (content/, styles/, video/, flow/, train/); it may not exist on a fresh clone."""
    env = os.environ.get("VIDSTYLE_MEDIA")
    return Path(env) if env else REPO.parent / "shared" / "media"
