"""BEVPlace inference: the global descriptor, the best database places and an estimated position."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from zoo.engines.retrieval.tasks import describe_and_search
from zoo.errors import InputError
from zoo_plugins.bevplace.config import BEVPlaceConfig
from zoo_plugins.bevplace.model import BEVPlace
from zoo_plugins.bevplace.train import estimate_position


def example_inputs(config: BEVPlaceConfig) -> dict[str, torch.Tensor]:
    """Two BEV images of random scans of the variant's size."""
    from zoo.engines.retrieval.data.places import bev_image, make_world, scan

    world = make_world(seed=0)
    rng = np.random.default_rng(0)
    clouds = [scan(world, 60.0 + 10 * i, 80.0, 0.3 * i, config.radius, rng=rng) for i in range(2)]
    return {"bev": torch.stack([bev_image(c, config.radius, config.resolution) for c in clouds])}


def infer(model: BEVPlace, inputs: Mapping[str, torch.Tensor], options: Mapping[str, Any]) -> dict[str, Any]:
    """``descriptor``; with ``options.database``: ``hits``/``scores``; with ``options.positions`` too: the
    estimated ``position`` (metres) of each query."""
    bev = inputs["bev"]
    size = model.config.size
    if tuple(bev.shape[-2:]) != (size, size):
        raise InputError(f"bevplace: BEV images must be {size} x {size} for this variant, got {tuple(bev.shape)}")
    out: dict[str, Any] = describe_and_search(model, model.descriptor, bev, options.get("database"),
                                              int(options.get("k") or 5))
    positions = options.get("positions")
    if positions is not None and "hits" in out:
        db = describe_and_search(model, model.descriptor, torch.as_tensor(options["database"]).float())["descriptor"]
        out["position"] = estimate_position(out["descriptor"], db, np.asarray(positions, dtype=np.float64))
    return out
