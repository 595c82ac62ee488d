"""DOLG inference: L2-normalised descriptors, and the top-k of a database when one is given."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo.engines.retrieval.tasks import describe_and_search
from zoo_plugins.dolg.config import DOLGConfig
from zoo_plugins.dolg.model import DOLG


def example_inputs(config: DOLGConfig) -> dict[str, torch.Tensor]:
    """Two random images of the variant's size."""
    generator = torch.Generator().manual_seed(0)
    return {"image": torch.rand(2, 3, config.image_size, config.image_size, generator=generator)}


def infer(model: DOLG, inputs: Mapping[str, torch.Tensor], options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``descriptor`` (B, dim); with ``options.database``: ``hits`` (B, k) database indices and ``scores``."""
    return describe_and_search(model, model.descriptor, inputs["image"], options.get("database"),
                               int(options.get("k") or 10), options.get("index"))
