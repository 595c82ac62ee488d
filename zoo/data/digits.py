"""scikit-learn's handwritten digits as a map-style dataset with a fixed stratified train/test split.

1,797 grey 8x8 images of the digits 0-9 (values 0..16 in the original, scaled to [0, 1] here), shipped inside
scikit-learn, so nothing is downloaded. ``load_digits_split("train")`` and ``load_digits_split("test")`` are
disjoint, together cover every image, and keep the class proportions (25% test, stratified, fixed by
``seed``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch.utils.data import TensorDataset

from zoo.errors import ConfigError

SPLITS: tuple[str, ...] = ("train", "test", "all")
TEST_FRACTION = 0.25
NUM_CLASSES = 10
IMAGE_SIZE = 8


class DigitsDataset(TensorDataset):
    """``(image[1, 8, 8] float in [0, 1], label int64)`` pairs; ``images``/``labels`` hold the whole split."""

    classes: tuple[str, ...] = tuple(str(i) for i in range(NUM_CLASSES))

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, split: str) -> None:
        super().__init__(images, labels)
        self.images = images
        self.labels = labels
        self.split = split

    @property
    def num_classes(self) -> int:
        """Number of classes (10)."""
        return NUM_CLASSES


@lru_cache(maxsize=1)
def _arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.images.astype(np.float32) / 16.0), bunch.target.astype(np.int64)


def split_indices(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and test indices of the stratified split for ``seed``."""
    from sklearn.model_selection import train_test_split

    _, labels = _arrays()
    train, test = train_test_split(
        np.arange(len(labels)), test_size=TEST_FRACTION, stratify=labels, random_state=seed
    )
    return np.sort(train), np.sort(test)


def load_digits_split(split: str, seed: int = 0) -> DigitsDataset:
    """The ``train``, ``test`` or ``all`` part of the digits as a :class:`DigitsDataset`."""
    if split not in SPLITS:
        raise ConfigError(f"unknown digits split {split!r}; expected one of {', '.join(SPLITS)}")
    images, labels = _arrays()
    if split == "all":
        idx = np.arange(len(labels))
    else:
        train, test = split_indices(seed)
        idx = train if split == "train" else test
    return DigitsDataset(
        torch.from_numpy(images[idx]).unsqueeze(1).clone(), torch.from_numpy(labels[idx]).clone(), split
    )


def load_digits_resized(split: str, image_size: int = IMAGE_SIZE, in_channels: int = 1,
                        seed: int = 0) -> DigitsDataset:
    """The digits split as ``[N, in_channels, image_size, image_size]`` images for networks that want a larger or
    colour input: bilinear resizing (values stay in [0, 1]) and the grey channel repeated."""
    data = load_digits_split(split, seed)
    images = data.images
    if image_size != images.shape[-1]:
        images = torch.nn.functional.interpolate(images, size=(image_size, image_size), mode="bilinear",
                                                 align_corners=False).clamp(0, 1)
    if in_channels != 1:
        images = images.expand(-1, in_channels, -1, -1).contiguous()
    return DigitsDataset(images, data.labels, split)
