"""DCAL inference: PWCA removed; FGVC adds the SA and GLCA class probabilities, re-ID concatenates their class
tokens (and ranks a gallery when one is given)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo.engines.retrieval.tasks import describe_and_search, encode_all
from zoo_plugins.dcal.config import DCALConfig
from zoo_plugins.dcal.model import DCAL


def example_inputs(config: DCALConfig) -> dict[str, torch.Tensor]:
    """Two random images of the variant's size."""
    generator = torch.Generator().manual_seed(0)
    return {"image": torch.rand(2, 3, *config.image_size, generator=generator)}


def infer(model: DCAL, inputs: Mapping[str, torch.Tensor], options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """FGVC: ``probs`` (SA + GLCA, summing to 2) and the top-k ``classes``; re-ID: ``descriptor`` and, with a
    ``gallery``, its top-k ``hits`` and ``scores``."""
    k = int(options.get("k") or 5)
    images = inputs["image"]
    if model.config.task == "reid":
        return describe_and_search(model, model.descriptor, images, options.get("gallery"), k)
    probs = encode_all(model, model.probabilities, images)
    top = probs.topk(min(k, probs.shape[1]), dim=1)
    return {"probs": probs, "classes": top.indices, "scores": top.values}
