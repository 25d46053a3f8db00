"""Transform networks (``fast``, ``quality``), safe model files and the model registry."""
from vidstyle.models.files import LoadedModel, load_model_file, read_metadata, save_model
from vidstyle.models.networks import (
    ARCHITECTURES,
    FastNet,
    QualityNet,
    build_network,
    count_parameters,
    full_arch_params,
    stored_arch_params,
)
from vidstyle.models.registry import ModelInfo, find_model, list_models, load_model, search_path, temporal_model

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
    "load_model_file",
    "read_metadata",
    "LoadedModel",
    "find_model",
    "list_models",
    "search_path",
    "temporal_model",
    "ModelInfo",
]
