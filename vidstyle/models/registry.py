"""Finding models by name: the shipped zoo, ``$VIDSTYLE_MODELS``, the user data folder.

A model's name is its file stem (``starry_night-fast-painted``). Folders are searched in that order and the
first match wins. The registry owns name -> file: :func:`find_model` resolves a name or a path,
:func:`load_model` loads what it finds (:mod:`vidstyle.models.files` reads a given file) and
:func:`temporal_model` finds a model's temporally trained variant.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vidstyle.errors import ModelError, VidstyleError
from vidstyle.models.files import LoadedModel, load_model_file, read_metadata
from vidstyle.models.folders import user_models_dir
from vidstyle.models.user_styles import attach_user_styles

ENV_VAR = "VIDSTYLE_MODELS"
SUFFIX = ".safetensors"

# Model names that are no longer shipped -> what replaces them, shown after "use" (a model name, or
# options such as "--model zoo --style mosaic"). Used only when no file of that name is found, so a user
# with an old file keeps it working and a user without one gets a one-line pointer instead of "no model named".
RETIRED_MODELS: dict[str, str] = {
    # Light stylizations that kept the photo's colours and added hatching (docs/benchmarks.md, look table):
    # their -painted nets look like the paintings at near the same speed.
    "mosaic-fast": "mosaic-fast-painted",
    "the_scream-fast": "the_scream-fast-painted",
    "great_wave-fast": "great_wave-fast-painted",
    "starry_night-fast": "starry_night-fast-painted",
    "starry_night-fast-lite": "starry_night-fast-painted-lite",
    "starry_night-fast-temporal": "starry_night-fast-painted-temporal",
    # No painted lite net was fine-tuned for temporal consistency: the lite net with the flow-based stabilizer.
    "starry_night-fast-lite-temporal": "starry_night-fast-painted-lite with --temporal smooth",
}


def package_models_dir() -> Path:
    """The shipped zoo.

    In a checkout or editable install: ``models/`` beside the ``vidstyle`` package (the repository root).
    In a wheel install: ``<prefix>/share/vidstyle/models``, where pyproject's data-files put it.
    """
    checkout = checkout_models_dir()
    if (checkout / "README.md").is_file() or not installed_models_dir().is_dir():
        return checkout
    return installed_models_dir()


def checkout_models_dir() -> Path:
    """``models/`` beside the ``vidstyle`` package: the repository root in a checkout."""
    import vidstyle

    return Path(vidstyle.__file__).resolve().parents[1] / "models"


def installed_models_dir() -> Path:
    """Where a wheel install puts the zoo: ``<sys.prefix>/share/vidstyle/models``."""
    return Path(sys.prefix) / "share" / "vidstyle" / "models"


def search_path() -> list[Path]:
    """The folders searched for models, in order."""
    folders = [package_models_dir()]
    folders += [Path(p).expanduser() for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    folders.append(user_models_dir())
    return folders


@dataclass
class ModelInfo:
    """One model found on the search path (metadata is None when the file cannot be read)."""

    name: str
    path: Path
    metadata: dict[str, Any] | None
    error: str | None = None


def find_model(name_or_path: str | os.PathLike) -> Path:
    """Resolve a registry name or a file path to an existing model file, or raise ModelError."""
    candidate = Path(name_or_path).expanduser()
    looks_like_path = candidate.suffix == SUFFIX or os.sep in str(name_or_path) or candidate.is_file()
    if looks_like_path:
        if candidate.is_file():
            return candidate
        raise ModelError(f"model file not found: {candidate}")
    name = str(name_or_path)
    for folder in search_path():
        path = folder / f"{name}{SUFFIX}"
        if path.is_file():
            return path
    if name in RETIRED_MODELS:
        raise ModelError(f"model {name!r} was retired: use {RETIRED_MODELS[name]} (see `vidstyle models list`)")
    known = [m.name for m in list_models()]
    hint = f"; available: {', '.join(known)}" if known else "; no models are installed"
    raise ModelError(f"no model named {name!r}{hint} (see `vidstyle models list`)")


def list_models() -> list[ModelInfo]:
    """Every model on the search path, first match per name, sorted by name."""
    seen: dict[str, ModelInfo] = {}
    for folder in search_path():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob(f"*{SUFFIX}")):
            if path.stem in seen or path.name.startswith("."):
                continue
            try:
                seen[path.stem] = ModelInfo(path.stem, path, read_metadata(path))
            except ModelError as exc:
                seen[path.stem] = ModelInfo(path.stem, path, None, str(exc))
    return [seen[k] for k in sorted(seen)]


def load_model(name_or_path: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedModel:
    """Load a model by registry name (``starry_night-fast-painted``) or path; the network is in eval mode on ``device``.

    A multistyle model comes with the styles the user added to it (``vidstyle add-style``).
    """
    loaded = load_model_file(find_model(name_or_path), device="cpu")
    if loaded.metadata["architecture"] == "multistyle":
        loaded.network = attach_user_styles(loaded.network, loaded.path)
    loaded.network = loaded.network.to(device)
    return loaded


def temporal_model(model: Any) -> Any:
    """The model's temporally trained variant (``--temporal trained``): its ``NAME-temporal`` sibling, or
    the model itself when its metadata says ``temporal: true``.

    model: a registry name, a ``.safetensors`` path, or a loaded model (anything with ``metadata``).
    Returns a name, a path or the loaded model; raises ModelError when there is no such variant.
    """
    if not isinstance(model, (str, os.PathLike)):
        metadata = getattr(model, "metadata", None) or {}
        if metadata.get("temporal"):
            return model
        raise ModelError("--temporal trained needs a model trained with the temporal loss (metadata temporal: true)")
    name = str(model)
    if Path(name).suffix == SUFFIX and Path(name).exists():
        if read_metadata(name).get("temporal"):
            return name
        raise ModelError(f"{name} was not trained for temporal consistency (metadata temporal: false); use --temporal smooth")
    if name.endswith("-temporal"):
        return name
    try:
        load_model(f"{name}-temporal")
        return f"{name}-temporal"
    except VidstyleError:
        pass
    loaded = load_model(name)
    if loaded.metadata.get("temporal"):
        return loaded
    raise ModelError(f"no temporal variant of {name!r} ({name}-temporal not found); use --temporal smooth")
