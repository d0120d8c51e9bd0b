"""A pretrained image backbone: nsfwjs's MobileNetV2 (α=1.4) graph model, converted once to a plain Keras model."""

from ml.pretrained.errors import BackboneUnavailableError, TfjsGraphError
from ml.pretrained.fetch import backbone_source, default_cache_dir, fetch_backbone, load_backbone
from ml.pretrained.nsfwjs import CLASSES, FEATURE_DIM, INPUT_SIZE

__all__ = [
    "CLASSES",
    "FEATURE_DIM",
    "INPUT_SIZE",
    "BackboneUnavailableError",
    "TfjsGraphError",
    "backbone_source",
    "default_cache_dir",
    "fetch_backbone",
    "load_backbone",
]
