"""CFOR's training losses: softmax cross-entropy for region and category, BCE per attribute group, box loss."""
from __future__ import annotations

import torch
from torch.nn import functional as F

from zoo_plugins.cfor.model import CFORModel


def cfor_loss(model: CFORModel, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Sum of the independent sub-models' losses (they share no parameters, so each gets its own gradient).

    - region: CE over the regions;
    - category: for each region, CE over that region's categories on that region's samples only (the paper's
      per-state training sets, ``extract_nes_dta``);
    - attributes: per attribute network (a group, one attribute or all, by ``attribute_mode``), mean BCE over
      its sigmoid outputs;
    - detector: L1 on the normalised box.
    """
    onto = model.ontology
    x = model._resize(batch["image"], model.config.image_size)
    logs: dict[str, float] = {}
    region_loss = F.cross_entropy(model.region(x), batch["region"])
    total = region_loss
    logs["region_ce"] = float(region_loss.detach())
    offset = 0
    for r_i, (region, cats) in enumerate(onto.regions.items()):
        rows = batch["region"] == r_i
        if rows.any():
            logits = model.category[region](x[rows])
            loss = F.cross_entropy(logits, batch["category"][rows] - offset)
            total = total + loss * rows.float().mean()
            logs[f"category_ce/{region}"] = float(loss.detach())
        offset += len(cats)
    xa = model._resize(batch["image"], model.config.attr_image_size)
    start = 0
    for name, attrs in model.attribute_units.items():
        target = batch["attributes"][:, start:start + len(attrs)]
        loss = F.binary_cross_entropy_with_logits(model.attributes[name](xa), target)
        total = total + loss
        logs[f"bce/{name}"] = float(loss.detach())
        start += len(attrs)
    if model.detector is not None:
        box_loss = F.l1_loss(model.detector(x), batch["box"])
        total = total + box_loss
        logs["box_l1"] = float(box_loss.detach())
    return total, logs
