"""GLSCL inference: caption-to-video scores and the top-k videos per caption."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo_plugins.glscl.config import GLSCLConfig
from zoo_plugins.glscl.model import GLSCL


def example_inputs(config: GLSCLConfig) -> dict[str, torch.Tensor]:
    """Four synthetic caption/video pairs of the variant's sizes."""
    from zoo.engines.retrieval.data.text_video import make_text_video

    data = make_text_video(4, config.dim, frames=config.frames, words=config.words, seed=7)
    return data.tensors()


@torch.no_grad()
def infer(model: GLSCL, inputs: Mapping[str, torch.Tensor], options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``scores`` (captions x videos), ``global``/``local`` parts, top-k ``videos`` per caption."""
    was = model.training
    model.eval()
    out = model(dict(inputs))
    model.train(was)
    k = min(int(options.get("k") or 5), out["score"].shape[1])
    result = {"scores": out["score"], "global": out["global"], "videos": out["score"].topk(k, dim=1).indices}
    if "local" in out:
        result["local"] = out["local"]
    return result
