"""PRAO inference: repaired images, keypoint heatmaps, descriptors, and a ranked gallery."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo.engines.retrieval.evaluate import rank
from zoo_plugins.prao.config import PRAOConfig
from zoo_plugins.prao.model import PRAO
from zoo_plugins.prao.train import describe, measure_ranking


def example_inputs(config: PRAOConfig) -> dict[str, torch.Tensor]:
    """Two synthetic pedestrians of the variant's size (one occluded)."""
    from zoo.engines.retrieval.data.reid import make_reid

    return {"image": make_reid(2, 1, 1, tuple(config.image_size), occlusion=0.5, seed=3).images}


def infer(model: PRAO, inputs: Mapping[str, torch.Tensor], options: Mapping[str, Any]) -> dict[str, Any]:
    """``repaired`` images, occluder ``mask``, ``descriptor``, keypoint ``confidence``; with ``gallery``: the
    top-k ``hits`` by the learned measure (or feature cosine)."""
    model.eval()
    images = inputs["image"]
    repair = options.get("repair", True) is not False
    with torch.no_grad():
        fixed, mask = model.repair(images) if repair else (images, torch.zeros_like(images[:, :1]))
        conf = model.dcfe(fixed)["confidence"]
    q = describe(model, images, repair)
    out: dict[str, Any] = {"repaired": fixed, "mask": mask, "descriptor": q["descriptor"], "confidence": conf}
    gallery = options.get("gallery")
    if gallery is not None:
        g = describe(model, torch.as_tensor(gallery).float(), repair)
        order = (measure_ranking(model, q["local"], g["local"]) if (options.get("ranking") or "measure") == "measure"
                 else rank(q["descriptor"], g["descriptor"]))
        out["hits"] = torch.as_tensor(order[:, : int(options.get("k") or 10)])
    return out
