"""Small image data for the local-learning family: scikit-learn's digits (bundled, real) for 8x8 single-channel
variants, or class-structured synthetic images of any size. Nothing is downloaded."""
from __future__ import annotations

from typing import Any

from zoo.errors import DataError


def image_data(config: Any, source: str, split: str) -> Any:
    """A ``make_data`` target: ``(image, label)`` dataset of ``split`` (``train``/``test``).

    ``source``: ``digits`` (8x8 single-channel variants) or ``synthetic`` (any ``config.image_size`` /
    ``in_channels`` / ``num_classes``; the digits again for 8x8 single-channel variants).
    """
    if source in ("digits", "synthetic") and config.image_size == 8 and config.in_channels == 1:
        from zoo.data.digits import load_digits_split

        return load_digits_split(split)
    if source == "synthetic":
        from zoo.data.synthetic.images import make_images

        return make_images(1024 if split == "train" else 512, seed=0 if split == "train" else 1,
                           num_classes=config.num_classes, channels=config.in_channels, size=config.image_size)
    raise DataError(f"data source {source!r}: expected 'digits' (8x8 single-channel variants) or 'synthetic'")
