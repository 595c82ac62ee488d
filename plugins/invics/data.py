"""Images for compressive sensing: scikit-image's bundled natural images (grey, in [0, 1]) or, when
scikit-image is missing, synthetic natural-like images.

The paper trains on Train400 blocks and tests on Set11 / BSD68 / Urban100, none of which is bundled. Here:
``natural`` trains on random crops of 12 scikit-image sample images and tests on three others, among them
``camera`` (the cameraman, one of Set11's images, at 512x512). ``synthetic`` images are sums of smooth blobs,
oriented gratings, edges and 1/f noise (seeded), for machines without scikit-image.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch.utils.data import Dataset

from zoo.errors import ConfigError
from zoo_plugins.invics.config import InvICSConfig

TRAIN_IMAGES: tuple[str, ...] = ("chelsea", "moon", "coins", "rocket", "hubble_deep_field", "immunohistochemistry",
                                 "brick", "grass", "gravel", "retina", "page", "clock")
TEST_IMAGES: tuple[str, ...] = ("camera", "astronaut", "coffee")
SOURCES: tuple[str, ...] = ("natural", "synthetic")


def has_skimage() -> bool:
    """Whether scikit-image (and so its sample images) is installed."""
    try:
        import skimage.data  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=2)
def natural_images(split: str) -> tuple[torch.Tensor, ...]:
    """The ``train`` or ``test`` sample images of scikit-image as grey ``[H, W]`` tensors in [0, 1]."""
    if not has_skimage():
        raise ConfigError("invics: the 'natural' images need scikit-image (pip install scikit-image, pinned in "
                          "constraints.txt); use the 'synthetic' source instead")
    import skimage.data
    from skimage.color import rgb2gray

    out = []
    for name in TRAIN_IMAGES if split == "train" else TEST_IMAGES:
        image = getattr(skimage.data, name)()
        grey = rgb2gray(image[..., :3]) if image.ndim == 3 else image / 255.0
        out.append(torch.from_numpy(np.ascontiguousarray(grey, dtype=np.float32)))
    return tuple(out)


def synthetic_image(size: int, seed: int) -> torch.Tensor:
    """A natural-like grey image in [0, 1]: smooth blobs, a few gratings and straight edges, and 1/f noise."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    image = torch.zeros(size, size)
    for _ in range(6):
        cx, cy, r, a = torch.rand(4, generator=g)
        image += (a - 0.5) * torch.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (0.02 + 0.1 * r))
    for _ in range(3):
        theta, freq, a = torch.rand(3, generator=g)
        image += 0.15 * a * torch.sin(2 * math.pi * (5 + 20 * freq) * (xx * torch.cos(theta * math.pi)
                                                                        + yy * torch.sin(theta * math.pi)))
    for _ in range(3):
        theta, off, a = torch.rand(3, generator=g)
        image += 0.3 * (a - 0.5) * ((xx * torch.cos(theta * 6.28) + yy * torch.sin(theta * 6.28)) > off).float()
    freqs = torch.fft.fftfreq(size)
    radius = torch.sqrt(freqs[:, None] ** 2 + freqs[None, :] ** 2).clamp_min(1.0 / size)
    spectrum = torch.randn(size, size, generator=g) / radius
    image += 0.02 * torch.fft.ifft2(spectrum).real / torch.fft.ifft2(spectrum).real.std().clamp_min(1e-8)
    image -= image.min()
    return image / image.max().clamp_min(1e-8)


def source_images(source: str, split: str) -> tuple[torch.Tensor, ...]:
    """The images of ``source`` (``natural`` or ``synthetic``) for ``split``."""
    if source == "natural":
        return natural_images(split)
    if source == "synthetic":
        return tuple(synthetic_image(256, seed + (100 if split == "test" else 0)) for seed in range(12 if split ==
                                                                                                  "train" else 3))
    raise ConfigError(f"invics: unknown data source {source!r}; expected one of {', '.join(SOURCES)}")


class RandomCrops(Dataset):
    """``length`` random ``size x size`` crops (the crop of index i is fixed by ``(seed, i)``), each ``(x,)``."""

    def __init__(self, images: tuple[torch.Tensor, ...], size: int, length: int, seed: int = 0) -> None:
        if any(min(im.shape) < size for im in images):
            raise ConfigError(f"invics: every image must be at least {size} pixels on each side")
        self.images, self.size, self.length, self.seed = images, size, length, seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
        image = self.images[int(torch.randint(len(self.images), (), generator=g))]
        top = int(torch.randint(image.shape[0] - self.size + 1, (), generator=g))
        left = int(torch.randint(image.shape[1] - self.size + 1, (), generator=g))
        return (image[top:top + self.size, left:left + self.size].unsqueeze(0).clone(),)


class TestImages(Dataset):
    """Whole test images, centre-cropped to ``size`` (a multiple of the block size), each ``(x,)``."""

    def __init__(self, images: tuple[torch.Tensor, ...], size: int) -> None:
        crops = []
        for im in images:
            top, left = (im.shape[0] - size) // 2, (im.shape[1] - size) // 2
            crops.append(im[top:top + size, left:left + size].unsqueeze(0))
        self.images = torch.stack(crops)

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor]:
        return (self.images[i],)


def make_data(config: InvICSConfig, source: str, split: str) -> Dataset:
    """``train``: random ``stage1_size`` crops (``steps_per_epoch * batch_size * epochs`` of them, seeded);
    ``test``: the test images centre-cropped to the largest multiple of the block size up to 264 pixels."""
    images = source_images(source, split)
    if split == "train":
        return RandomCrops(images, config.stage1_size, config.steps_per_epoch * config.batch_size * max(1, config.epochs))
    if split == "test":
        side = min(min(im.shape) for im in images)
        size = min(264, side) // config.block * config.block
        return TestImages(images, size)
    raise ConfigError(f"invics: unknown split {split!r}; expected train or test")
