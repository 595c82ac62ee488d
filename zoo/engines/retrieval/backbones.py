"""timm backbones that expose intermediate stages (DOLG/CFCD tap res4 and res5)."""
from __future__ import annotations

from typing import Any

from torch import nn

from zoo.compat import import_timm


def stage_backbone(name: str, out_indices: tuple[int, ...], pretrained: bool = False,
                   **kwargs: Any) -> tuple[nn.Module, list[int], list[int]]:
    """A timm ``features_only`` model returning the feature maps of ``out_indices``, with their channel counts
    and strides. ``pretrained=True`` asks timm for its weights (from the Hugging Face hub or its cache)."""
    timm = import_timm()
    model = timm.create_model(name, pretrained=pretrained, features_only=True, out_indices=out_indices, **kwargs)
    return model, list(model.feature_info.channels()), list(model.feature_info.reduction())
