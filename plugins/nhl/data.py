"""NHL's data: clean digits to train the source model, a corrupted test stream (Gaussian noise and/or blur) to
adapt on. The stream's labels are only used to score the predictions."""
from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import TensorDataset

from zoo.engines.local_learning.data import image_data
from zoo_plugins.nhl.config import NHLConfig


def corrupt(images: torch.Tensor, config: NHLConfig, seed: int = 0) -> torch.Tensor:
    """The config's corruption of ``images`` in [0, 1] (blur: 3x3 Gaussian; noise: additive Gaussian; clipped)."""
    out = images
    if "blur" in config.corruption:
        import torchvision.transforms.functional as TF

        out = TF.gaussian_blur(out, [3, 3], [config.blur_sigma, config.blur_sigma])
    if "noise" in config.corruption:
        g = torch.Generator().manual_seed(seed)
        out = out + config.noise_std * torch.randn(out.shape, generator=g)
    return out.clamp(0.0, 1.0)


def make_data(config: NHLConfig, source: str, split: str) -> Any:
    """``train``: the clean training images; ``test``: the corrupted test stream (``source`` as in
    :func:`zoo.engines.local_learning.data.image_data`)."""
    data = image_data(config, source, split)
    if split != "test":
        return data
    images, labels = data.tensors if hasattr(data, "tensors") else (data.images, data.labels)
    return TensorDataset(corrupt(images, config), labels)
