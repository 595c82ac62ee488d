"""Data: the 2-D Gaussian mixture of the variant (``mixture``), or scikit-learn's digits at 32x32 in [-1, 1]
(``digits``) for the image variants (CIFAR-10, STL-10 and LSUN are not bundled)."""
from __future__ import annotations

import torch
from torch.nn import functional as F

from zoo.errors import DataError
from zoo.gan import sample_mixture
from zoo_plugins.qr_gan.config import QRGANConfig

SOURCES: tuple[str, ...] = ("mixture", "synthetic", "digits")


def make_data(config: QRGANConfig, source: str, split: str) -> torch.Tensor:
    """Real samples ``[n, data_dim]`` (mixture) or ``[n, C, 32, 32]`` (digits); ``split`` seeds the mixture draw
    (train 0, test 1) so held-out samples are fresh."""
    if source not in SOURCES:
        raise DataError(f"qr-gan: unknown data source {source!r}; expected one of {', '.join(SOURCES)}")
    if source in ("mixture", "synthetic"):
        if config.arch != "mlp" or config.data_dim != 2:
            raise DataError("qr-gan: the 2-D mixture needs a 2-D variant (tiny, wgan)")
        generator = torch.Generator().manual_seed({"train": 0, "test": 1}.get(split, 2))
        return sample_mixture(config.data_size, config.modes, config.layout, config.radius, config.std,
                              generator=generator)
    if config.arch != "dcgan":
        raise DataError("qr-gan: digits are images; use an image variant (paper, mnist)")
    from zoo.data.digits import load_digits_split

    images = load_digits_split(split).images
    images = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False) * 2 - 1
    return images.expand(-1, config.channels, -1, -1).contiguous()
