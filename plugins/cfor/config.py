"""CFOR variant configs (no torch import)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CFORConfig:
    """Ontology, backbones, heads, retrieval and training settings.

    Backbones are timm model names: the paper uses ResNet-101 (224 px) for the region and category models and
    NASNet-A-Large (331 px) for the attribute-group models, initialised from ImageNet (``pretrained``: passed to
    every timm backbone). ``dropout`` is the "APD" head's dropout (not given in the paper; 0.5 chosen here).
    ``index_factory`` is the wanted faiss index per leaf; each leaf's IVF lists are sized to its vectors.
    The training numbers (steps, batch, lr, weight decay) are not given by the blog or the paper: chosen here.
    """

    ontology: str = "tiny"
    image_size: int = 32
    class_backbone: str = "test_resnet"
    attr_backbone: str = "test_resnet"
    attr_image_size: int = 32
    pretrained: bool = False
    dropout: float = 0.5
    detector: str = "regressor"  # "regressor" (single-box regressor on a timm backbone) | "none" (whole image)
    detector_backbone: str = "test_resnet"
    # attribute learning: "local" (the paper: one multi-task network per attribute group), "single" (single-task
    # learning, one network per attribute) or "global" (global multi-task learning, one network for all)
    attribute_mode: str = "local"
    # retrieval
    index_factory: str = "Flat"  # faiss factory string per leaf: "Flat", "IVF16,Flat", "IVF16,PQ8np", ...
    first_stage: int = 50  # m: candidates from the global-feature search
    attr_weight: float = 1.0  # lambda in s = d_feat / median(d_feat) + lambda * d_attr
    expansion: int = 5  # n results averaged with the query for query expansion (0 disables)
    # training (one recipe for every sub-model; the sub-models are independent networks)
    steps: int = 150
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    synthetic_train: int = 256
    synthetic_test: int = 128


def tiny() -> CFORConfig:
    """Synthetic 4-leaf ontology, 32 px images, timm's test_resnet backbones."""
    return CFORConfig()


def paper() -> CFORConfig:
    """DeepFashion: 3 regions, 50 categories, 5 x 7 attributes; ResNet-101 APD (224 px) for the 4 classification
    models, NASNet-A-Large APD (331 px) for the 5 group models, ImageNet initialisation and full fine-tuning."""
    return CFORConfig(ontology="fashion", image_size=224, class_backbone="resnet101", attr_backbone="nasnetalarge",
                      attr_image_size=331, pretrained=True, detector_backbone="resnet50",
                      index_factory="IVF256,PQ64np", first_stage=100, expansion=10, steps=60000, batch_size=64,
                      lr=1e-3)


def preprocessing(config: CFORConfig) -> dict[str, Any]:
    """Image sizes and index settings that travel with the weights."""
    return {"image_size": config.image_size, "attr_image_size": config.attr_image_size, "range": [0.0, 1.0],
            "ontology": config.ontology, "index_factory": config.index_factory, "first_stage": config.first_stage,
            "attr_weight": config.attr_weight, "expansion": config.expansion}
