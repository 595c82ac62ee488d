"""Inference: class probabilities, and on request the mean FD mask of every refined block (Fig. 5's reading:
masks near 0.5 mean the convolution hardly changed its input)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from zoo.inference import classify
from zoo.options import Options
from zoo_plugins.fd_module.config import FDConfig
from zoo_plugins.fd_module.model import fd_blocks


def infer(model: nn.Module, inputs: Mapping[str, torch.Tensor], config: FDConfig,
          options: Options) -> dict[str, Any]:
    """``probs [B, K]``, ``label [B]``; with ``masks=True`` also ``mask_means [B, n_blocks]`` (mean of M over each
    refined block's channels and positions, blocks in forward order)."""
    blocks = fd_blocks(model) if options.masks else []
    for block in blocks:
        block.fd.keep_mask, block.fd.last_mask = True, None
    try:
        out = classify("fdnet", model, inputs, config)
        if blocks:
            means = [b.fd.last_mask.flatten(1).mean(1) if b.fd.last_mask is not None
                     else torch.full((len(out["label"]),), float("nan")) for b in blocks]
            out["mask_means"] = torch.stack(means, 1)
    finally:
        for block in blocks:
            block.fd.keep_mask, block.fd.last_mask = False, None
    return out
