"""Episodic training on the shared trainer, then the stored prototypes from the whole training set."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_protonet.config import ProtoNetConfig
from zoo_protonet.data import Episodes, first, tensors
from zoo_protonet.losses import episode_loss, prototypes
from zoo_protonet.model import ProtoNet

#: Episodes in the (virtual) episode dataset; each is drawn from a generator seeded by its index.
EPISODES = 100_000


def recipe_of(config: ProtoNetConfig, steps: int) -> Recipe:
    """Adam at ``lr``, halved every ``lr_halve_every`` episodes (one episode per optimizer step)."""
    milestones = tuple(range(config.lr_halve_every, max(steps, 1), config.lr_halve_every))
    return Recipe(steps=config.steps, batch_size=1, lr=config.lr, optimizer="adam", schedule="step",
                  milestones=milestones, gamma=0.5)


def train(model: ProtoNet, data: Any, config: ProtoNetConfig, options: TrainOptions,
          callbacks: Sequence[Any]) -> TrainResult:
    """Train the embedding on episodes through the shared trainer (``callbacks`` receive its events: ``on_step_end``
    ...), then store one prototype per class of ``data`` for inference.

    The trainer brings seeding, the progress bar, checkpoints and exact resume, ``history.json`` and curves.
    """
    images, labels = tensors(data)
    steps = options.steps if options.steps is not None else config.steps

    def loss_fn(net: ProtoNet, episode: Any) -> tuple[torch.Tensor, dict[str, float]]:
        support, support_labels, query, query_labels = episode
        return episode_loss(net.embed, support, support_labels, query, query_labels, config.way)

    result = fit(model, Episodes(images, labels, config, EPISODES), loss_fn, recipe_of(config, steps), options,
                 collate=first, callbacks=callbacks)
    store_prototypes(model, images, labels)
    return result


@torch.no_grad()
def store_prototypes(model: ProtoNet, images: torch.Tensor, labels: torch.Tensor) -> None:
    """Set the model's prototypes to the class means of the embedded ``images`` (eval mode)."""
    model.eval()
    z = torch.cat([model.embed(chunk) for chunk in images.split(512)])
    model.prototypes.copy_(prototypes(z, labels, model.prototypes.shape[0]))
