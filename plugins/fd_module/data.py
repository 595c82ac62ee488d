"""Data: scikit-learn's digits at the variant's size and channel count (CIFAR and ImageNet are not bundled)."""
from __future__ import annotations


from zoo.data.digits import DigitsDataset, load_digits_resized
from zoo.errors import DataError
from zoo_plugins.fd_module.config import FDConfig

SOURCES: tuple[str, ...] = ("digits",)


def make_data(config: FDConfig, source: str, split: str) -> DigitsDataset:
    """``digits`` (train/test/all), resized to ``image_size`` and repeated to ``in_channels``."""
    if source not in SOURCES:
        raise DataError(f"fdnet: unknown data source {source!r}; expected one of {', '.join(SOURCES)} "
                        "(CIFAR and ImageNet are not bundled)")
    if config.num_classes < 10:
        raise DataError(f"digits has 10 classes; this variant has num_classes={config.num_classes}")
    return load_digits_resized(split, config.image_size, config.in_channels)
