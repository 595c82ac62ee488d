"""Inference: class probabilities, and optionally the prediction under a PGD attack on the predicted class."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

import zoo.attacks as attacks
from zoo.inference import classify
from zoo_plugins.fgsmpr_at.config import FGSMPRConfig


def infer(method: str, model: nn.Module, inputs: Mapping[str, Any], config: FGSMPRConfig,
          options: Mapping[str, Any]) -> dict[str, Any]:
    """``probs``/``label`` of the images; with ``options.attack == "pgd"`` also ``adv_label`` (the prediction
    after a PGD attack within the variant's eps on the predicted label) and ``robust`` (unchanged label)."""
    out = classify(method, model, inputs, config)
    if options.get("attack", "none") == "pgd":
        was_training = model.training
        model.eval()
        try:
            x_adv = attacks.pgd(model, inputs["image"].float(), out["label"], config.epsilon, config.eval_alpha,
                                config.eval_pgd_steps, generator=torch.Generator().manual_seed(0))
            with torch.no_grad():
                adv = model(x_adv).argmax(-1)
        finally:
            model.train(was_training)
        out.update(adv_label=adv, robust=adv == out["label"])
    return out
