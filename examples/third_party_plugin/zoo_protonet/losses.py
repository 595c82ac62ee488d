"""The method's defining computations (Snell et al., 2017, eqs. 1-2): prototypes as class means of support
embeddings, and a softmax over negative squared Euclidean distances to them."""
from __future__ import annotations

import torch
from torch import nn


def prototypes(embeddings: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Eq. 1: ``c_k`` = mean of the embeddings of class ``k`` (``[num_classes, D]``; an absent class gives 0)."""
    onehot = nn.functional.one_hot(labels, num_classes).to(embeddings.dtype)
    counts = onehot.sum(0).clamp(min=1).unsqueeze(1)
    return onehot.T @ embeddings / counts


def proto_logits(queries: torch.Tensor, protos: torch.Tensor) -> torch.Tensor:
    """Eq. 2's logits: ``-||f(x) - c_k||^2`` for every query and prototype (``[Q, K]``)."""
    return -(queries.unsqueeze(1) - protos.unsqueeze(0)).pow(2).sum(-1)


def episode_loss(embed: nn.Module, support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor,
                 query_labels: torch.Tensor, way: int) -> tuple[torch.Tensor, dict[str, float]]:
    """The episode's loss: cross-entropy of the queries against prototypes of the support set (and accuracy)."""
    z = embed(torch.cat([support, query]))
    protos = prototypes(z[: len(support)], support_labels, way)
    logits = proto_logits(z[len(support):], protos)
    loss = nn.functional.cross_entropy(logits, query_labels)
    accuracy = (logits.argmax(-1) == query_labels).float().mean().item()
    return loss, {"episode_accuracy": accuracy}
