"""The user's own model folder, shared by the registry (models found by name) and user styles (added rows)."""
from __future__ import annotations

import os
from pathlib import Path


def user_models_dir() -> Path:
    """``$XDG_DATA_HOME/vidstyle/models``, by default ``~/.local/share/vidstyle/models``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "vidstyle" / "models"
