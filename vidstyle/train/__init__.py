"""The transform-network trainer: ``train(TrainConfig(style=..., data=..., out=...))``."""
from vidstyle.train.config import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, TrainConfig
from vidstyle.train.trainer import Trainer, TrainResult, train

__all__ = ["TrainConfig", "Trainer", "TrainResult", "train", "DEFAULT_STYLE_LAYERS", "DEFAULT_CONTENT_LAYERS"]
