"""Data: scikit-learn digits with the paper's synthetic label noise on the training split (test labels clean)."""
from __future__ import annotations


from zoo.data.digits import DigitsDataset, load_digits_resized
from zoo.errors import ConfigError
from zoo_plugins.icce.config import ICCEConfig
from zoo_plugins.icce.noise import corrupt_labels

SOURCES: tuple[str, ...] = ("digits",)


class NoisyDigits(DigitsDataset):
    """Digits whose ``labels`` are noisy (what training sees) and ``clean_labels`` the originals."""

    def __init__(self, base: DigitsDataset, noisy: "object") -> None:
        super().__init__(base.images, noisy, base.split)  # type: ignore[arg-type]
        self.clean_labels = base.labels


def make_data(config: ICCEConfig, source: str, split: str) -> DigitsDataset:
    """``digits`` at the variant's size; the ``train`` split gets ``config.noise`` noise of ``noise_rate``."""
    if source not in SOURCES:
        raise ConfigError(f"icce-loss: unknown data source {source!r}; expected one of {', '.join(SOURCES)} "
                          "(CIFAR is not bundled)")
    if config.num_classes != 10:
        raise ConfigError(f"digits has 10 classes; the variant has num_classes={config.num_classes}")
    base = load_digits_resized(split, config.image_size, config.in_channels)
    if split != "train" or config.noise_rate == 0:
        return base
    noisy = corrupt_labels(base.labels, config.num_classes, config.noise_rate, config.noise, config.noise_seed)
    return NoisyDigits(base, noisy)
