"""Transform networks (``fast``, ``quality``), safe model files and the model registry."""
from vidstyle.models.files import LoadedModel, load_model, read_metadata, save_model
from vidstyle.models.networks import (
    ARCHITECTURES,
    FastNet,
    QualityNet,
    build_network,
    count_parameters,
    full_arch_params,
    stored_arch_params,
)
from vidstyle.models.registry import ModelInfo, find_model, list_models, search_path

__all__ = [
    "ARCHITECTURES",
    "FastNet",
    "QualityNet",
    "build_network",
    "count_parameters",
    "full_arch_params",
    "stored_arch_params",
    "save_model",
    "load_model",
    "read_metadata",
    "LoadedModel",
    "find_model",
    "list_models",
    "search_path",
    "ModelInfo",
]
