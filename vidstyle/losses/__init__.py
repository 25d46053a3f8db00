"""Loss network (VGG19) and the content, style, total-variation and temporal losses."""
from vidstyle.losses.functional import content_loss, gram_matrix, grid_loss, style_loss, temporal_loss, tv_loss
from vidstyle.losses.vgg import LAYER_NAMES, VGG19Features, check_layers, load_vgg19_weights

# Layer defaults of Gatys et al. 2016, in VGG19 names.
GATYS_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
GATYS_CONTENT_LAYERS = ("relu4_2",)

__all__ = [
    "VGG19Features",
    "LAYER_NAMES",
    "check_layers",
    "load_vgg19_weights",
    "content_loss",
    "gram_matrix",
    "style_loss",
    "tv_loss",
    "grid_loss",
    "temporal_loss",
    "GATYS_STYLE_LAYERS",
    "GATYS_CONTENT_LAYERS",
]
