"""Data: scikit-learn's digits (bundled). The paper's NIPS-2017 ImageNet-compatible images are not bundled."""
from __future__ import annotations

from zoo.data.digits import DigitsDataset, load_digits_split
from zoo.errors import ConfigError
from zoo_plugins.mai_fgplm.config import MAIConfig


def make_data(config: MAIConfig, source: str, split: str) -> DigitsDataset:
    """``digits`` ``train`` / ``test`` / ``all`` (8x8 grey images in [0, 1]) for the tiny variant."""
    if source != "digits":
        raise ConfigError(f"mai-fgplm: unknown data source {source!r}; expected digits")
    if (config.in_channels, config.image_size, config.num_classes) != (1, 8, 10):
        raise ConfigError("mai-fgplm: digits are 1 x 8 x 8 with 10 classes; use the tiny variant")
    return load_digits_split(split)
