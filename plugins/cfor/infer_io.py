"""Reading query images for CFOR's command line."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from zoo.errors import InputError


def read_images(value: Any) -> torch.Tensor:
    """Images from a path or comma-separated paths, as (B, 3, H, W) floats in [0, 1] at the first image's size."""
    from PIL import Image, UnidentifiedImageError

    if not value:
        raise InputError("cfor: give the query with --image PATH")
    paths = [Path(p) for p in (value if isinstance(value, (list, tuple)) else str(value).split(","))]
    arrays = []
    size = None
    for path in paths:
        if not path.is_file():
            raise InputError(f"cfor: image not found: {path}")
        try:
            with Image.open(path) as img:
                rgb = img.convert("RGB")
                size = size or rgb.size
                arrays.append(np.asarray(rgb.resize(size), dtype=np.float32) / 255.0)
        except UnidentifiedImageError as exc:
            raise InputError(f"cfor: {path} is not a readable image ({exc})") from exc
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()


def example_inputs(config: Any) -> dict[str, torch.Tensor]:
    """Two random RGB images of the variant's size."""
    generator = torch.Generator().manual_seed(0)
    return {"image": torch.rand(2, 3, config.image_size, config.image_size, generator=generator)}


def prepare_inputs(options: Any) -> dict[str, torch.Tensor]:
    """The ``prepare_inputs`` hook: ``--image a.jpg[,b.jpg]`` -> ``{"image": (B, 3, H, W)}``."""
    return {"image": read_images(options.get("image"))}
