"""Model and training of the example plugin."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo_protonet.config import ProtoNetConfig


class ProtoNet(nn.Module):
    """Conv embedding; class prototypes are buffers updated from training embeddings."""

    def __init__(self, config: ProtoNetConfig) -> None:
        super().__init__()
        c = config.channels
        self.embed = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
            nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Linear(c, config.embed_dim),
        )
        self.register_buffer("prototypes", torch.zeros(config.num_classes, config.embed_dim))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Logits = negative squared Euclidean distance to each prototype."""
        z = self.embed(image)
        return -torch.cdist(z, self.prototypes).pow(2)


def make_data(source: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's digits (the only source this example supports)."""
    if source not in ("digits", "synthetic"):
        from zoo.errors import DataError

        raise DataError(f"protonet: unknown data source {source!r}; this example supports 'digits'")
    return digits_tensors(split)


def digits_tensors(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn digits as (N,1,8,8) floats in [0,1] and labels; a fixed 75/25 split."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(digits.target)
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(labels), generator=g)
    cut = int(0.75 * len(labels))
    idx = order[:cut] if split == "train" else order[cut:]
    return images[idx], labels[idx]


def fit(model: ProtoNet, data: Any, config: ProtoNetConfig, options: Any) -> Any:
    """Train the embedding on the shared trainer (prototypes recomputed per batch), then store the prototypes.

    A third-party plugin gets the shared trainer's progress bar, checkpoints, exact resume and curves for free.
    """
    from torch.utils.data import TensorDataset

    from zoo.engines.trainer import Recipe, fit as train_loop

    images, labels = data

    def loss_fn(net: ProtoNet, batch: Any) -> torch.Tensor:
        x, y = batch
        z = net.embed(x)
        onehot = torch.nn.functional.one_hot(y, config.num_classes).float()
        protos = (onehot.T @ z) / onehot.sum(0).clamp(min=1).unsqueeze(1)
        return nn.functional.cross_entropy(-torch.cdist(z, protos).pow(2), y)

    recipe = Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer="adam")
    result = train_loop(model, TensorDataset(images, labels), loss_fn, recipe, options)
    model.eval()
    with torch.no_grad():
        z = model.embed(images)
        onehot = torch.nn.functional.one_hot(labels, config.num_classes).float()
        model.prototypes.copy_((onehot.T @ z) / onehot.sum(0).clamp(min=1).unsqueeze(1))
    return result
