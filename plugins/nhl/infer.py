"""NHL inference: classify a batch, adapting on it first when asked (``adapt=True``: the batch is the stream)."""
from __future__ import annotations

from typing import Any

import torch

from zoo.inference import classify
from zoo_plugins.nhl.adapt import StreamAdapter
from zoo_plugins.nhl.config import NHLConfig


def infer(method: str, model: Any, inputs: dict[str, Any], config: NHLConfig, options: Any) -> dict[str, Any]:
    """``probs``/``label`` of ``inputs["image"]``; with ``adapt`` the model (a copy) adapts on the batch first."""
    out = classify(method, model, inputs, config)
    if not options.get("adapt", False):
        return out
    adapter = StreamAdapter(model, config)
    adapter.step(inputs["image"].float())
    with torch.no_grad():
        probs = adapter.model(inputs["image"].float()).softmax(-1)
    return {"probs": probs, "label": probs.argmax(-1)}
