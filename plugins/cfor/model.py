"""CFOR's local multi-task deep networks (MDNN): region, per-region category and per-group attribute models.

Each model is a timm backbone with the paper's "APD" head (global average pooling + dropout + linear). The models
are separate networks, as in the paper: one region classifier, one category classifier per region, one
multi-task (sigmoid) network per attribute group, plus a pluggable detector. The per-attribute MCC-optimal
thresholds are buffers, so they travel with the weights.

The attribute networks follow ``config.attribute_mode``: ``local`` (the paper's local multi-task learning, one
network per group), or the paper's two baselines, ``single`` (one single-task network per attribute) and
``global`` (one multi-task network for every attribute).

Descriptors come from a category network, and each region has its own: a descriptor is only comparable with
descriptors of the same network. Its *descriptor space* is named ``category/<region>``; the index refuses to
compare descriptors of different spaces.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo.compat import import_timm
from zoo_plugins.cfor.config import CFORConfig
from zoo_plugins.cfor.ontology import Ontology, load


class APDNet(nn.Module):
    """A timm backbone with global average pooling, dropout and a linear layer ("ResNet APD", "NASNet APD")."""

    def __init__(self, backbone: str, outputs: int, dropout: float, pretrained: bool = False) -> None:
        super().__init__()
        timm = import_timm()
        self.backbone = timm.create_model(backbone, pretrained=pretrained, num_classes=0, global_pool="")
        self.dim = int(self.backbone.num_features)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.dim, outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled penultimate feature (the global descriptor): (B, dim)."""
        return self.backbone.forward_features(x).mean(dim=(-2, -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (pre-softmax / pre-sigmoid)."""
        return self.fc(self.dropout(self.features(x)))


class BoxRegressor(nn.Module):
    """A single-object detector on a timm backbone: normalised (cx, cy, w, h) of the main garment.

    Stands in for the paper's YOLOv3 (see the README): it finds one object per image; any detector can be
    plugged into :func:`zoo_plugins.cfor.infer.crop_objects` instead.
    """

    def __init__(self, backbone: str, pretrained: bool = False) -> None:
        super().__init__()
        self.net = APDNet(backbone, 4, dropout=0.0, pretrained=pretrained)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Boxes (B, 4) in [0, 1]."""
        return torch.sigmoid(self.net(x))


class CFORModel(nn.Module):
    """All of CFOR's networks for one ontology."""

    def __init__(self, config: CFORConfig, ontology: Ontology | None = None) -> None:
        super().__init__()
        self.config = config
        self.ontology = ontology or load(config.ontology)
        onto = self.ontology
        pre = config.pretrained
        self.region = APDNet(config.class_backbone, len(onto.region_names), config.dropout, pre)
        self.category = nn.ModuleDict({r: APDNet(config.class_backbone, len(c), config.dropout, pre)
                                       for r, c in onto.regions.items()})
        self.attribute_units = attribute_units(onto, config.attribute_mode)
        self.attributes = nn.ModuleDict({name: APDNet(config.attr_backbone, len(a), config.dropout, pre)
                                         for name, a in self.attribute_units.items()})
        self.detector = BoxRegressor(config.detector_backbone, pre) if config.detector == "regressor" else None
        self.register_buffer("thresholds", torch.full((len(onto.attributes),), 0.5))

    @property
    def descriptor_dim(self) -> int:
        """Size of the global descriptor (the category model's pooled feature)."""
        return next(iter(self.category.values())).dim

    def _resize(self, x: torch.Tensor, size: int) -> torch.Tensor:
        return x if x.shape[-1] == size and x.shape[-2] == size else F.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False)

    def attribute_scores(self, x: torch.Tensor) -> torch.Tensor:
        """Sigmoid scores of every attribute, group by group: (B, A)."""
        xa = self._resize(x, self.config.attr_image_size)
        return torch.cat([torch.sigmoid(self.attributes[name](xa)) for name in self.attribute_units], dim=1)

    def descriptor(self, x: torch.Tensor, region: str) -> torch.Tensor:
        """The L2-normalised global descriptor of (already resized) images by ``region``'s category network:
        descriptor space ``category/<region>``."""
        return F.normalize(self.category[region].features(x), dim=-1)

    def predict(self, x: torch.Tensor, region: torch.Tensor | None = None,
                category: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Coarse to fine: region, then the category within that region, then attributes and the descriptor.

        ``region``/``category`` (global category indices) may be given to override the predictions (a user's
        choice of leaf). Returns region and category indices and probabilities, attribute scores and their
        MCC-thresholded bits, the global descriptor (the category model's pooled feature, L2-normalised) and
        its ``descriptor_space`` per image (``category/<region>``: the network that computed it).
        """
        onto = self.ontology
        x = self._resize(x, self.config.image_size)
        region_prob = self.region(x).softmax(-1)
        region_idx = region_prob.argmax(-1) if region is None else region
        offsets = torch.tensor([0] + [len(c) for c in onto.regions.values()]).cumsum(0)
        b = x.shape[0]
        cat_idx = torch.zeros(b, dtype=torch.long)
        cat_prob = torch.zeros(b, len(onto.categories))
        desc = torch.zeros(b, self.descriptor_dim)
        for r_i, r in enumerate(onto.region_names):
            rows = (region_idx == r_i).nonzero().flatten()
            if rows.numel() == 0:
                continue
            model = self.category[r]
            feats = model.features(x[rows])
            probs = model.fc(model.dropout(feats)).softmax(-1)
            lo, hi = int(offsets[r_i]), int(offsets[r_i + 1])
            cat_prob[rows, lo:hi] = probs
            cat_idx[rows] = lo + probs.argmax(-1)
            desc[rows] = F.normalize(feats, dim=-1)
        if category is not None:
            cat_idx = category
        scores = self.attribute_scores(x)
        return {"region": region_idx, "region_prob": region_prob, "category": cat_idx, "category_prob": cat_prob,
                "attribute_scores": scores, "attributes": (scores >= self.thresholds).to(torch.uint8),
                "descriptor": desc,
                "descriptor_space": [f"category/{onto.region_names[int(r)]}" for r in region_idx]}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Alias of :meth:`predict`."""
        return self.predict(x)


ATTRIBUTE_MODES = ("local", "single", "global")


def attribute_units(onto: Ontology, mode: str) -> dict[str, tuple[str, ...]]:
    """The attribute networks of a mode and the attributes each predicts (their concatenation is the ontology's
    attribute order): ``local`` one per group, ``single`` one per attribute, ``global`` one (``all``)."""
    if mode == "local":
        return dict(onto.attribute_groups)
    if mode == "single":
        return {a: (a,) for a in onto.attributes}
    if mode == "global":
        return {"all": onto.attributes}
    raise ConfigError(f"cfor: attribute_mode must be one of {ATTRIBUTE_MODES}, got {mode!r}")


def build(config: CFORConfig, **kwargs: Any) -> CFORModel:
    """Build CFOR's networks (``config.pretrained`` asks timm for ImageNet weights, as the paper fine-tunes)."""
    return CFORModel(config, **kwargs)
