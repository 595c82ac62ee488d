"""LDL-VA training through the shared trainer (a custom ``step_fn``: two optimisers, one for the network and one
for the per-sample uncertainties), and evaluation.

One step (``loss="ldl"``) on a batch of faces x^i with labels l^i and their K VA-neighbours x^k:
  1. f(x^i), v^i from the network (with gradient); f(x^k), v^k for the neighbours (no gradient, as the code);
  2. zeta = sigmoid(g([v^i, v^k])), c = zeta * s, d~ = sum_k c f(x^k) / sum_k c;
  3. lambda^i = sigmoid(u^i) (u: one trainable scalar per training sample), d = (1 - lambda) l + lambda d~;
  4. L = L_cls(d, f(x^i)) + gamma L_D; backward; Adam step on the network (backbone, classifier, g, centres), SGD
     step (lr ``lambda_lr``) on u.
``loss="ce"`` is the plain cross-entropy baseline on the given labels (same network, recipe and augmentation).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError, DataError
from zoo.options import TrainOptions
from zoo_plugins.ldl_va.config import LDLVAConfig
from zoo_plugins.ldl_va.data import FaceSet, WithNeighbours
from zoo_plugins.ldl_va.losses import (code_center_update, discriminative_loss, distribution_cross_entropy,
                                       local_similarity, target_distribution, va_neighbours)
from zoo_plugins.ldl_va.model import LDLVANet


class LDLVATraining(nn.Module):
    """What training optimises: the network plus one uncertainty logit u^i per training sample (lambda = sigmoid(u),
    the paper's convention: lambda is the weight of the neighbourhood distribution)."""

    def __init__(self, net: LDLVANet, num_samples: int, lambda_init: float) -> None:
        super().__init__()
        self.net = net
        logit = math.log(lambda_init / (1 - lambda_init))
        self.uncertainty_logits = nn.Parameter(torch.full((num_samples,), logit))

    def uncertainty(self) -> torch.Tensor:
        """lambda (N,) in the paper's convention (1 = trust the neighbours; the code stores 1 - lambda)."""
        return torch.sigmoid(self.uncertainty_logits.detach())


def recipe_for(config: LDLVAConfig, num_samples: int) -> Recipe:
    """Adam with the step schedule; epochs become steps (``ceil(n / batch)`` per epoch)."""
    per_epoch = max(1, math.ceil(num_samples / config.batch_size))
    steps = config.steps if config.steps is not None else config.epochs * per_epoch
    if steps <= 0:
        raise ConfigError("LDLVAConfig needs steps > 0 or epochs > 0")
    milestones = tuple(e * per_epoch for e in config.lr_milestones_epochs if e * per_epoch < steps)
    return Recipe(steps=steps, batch_size=config.batch_size, lr=config.lr, optimizer="adam",
                  weight_decay=config.weight_decay, schedule="step" if milestones else "constant",
                  milestones=milestones, gamma=config.lr_decay)


def augment(images: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Pad by ``pad`` (zeros), random crop back to size, random horizontal flip; per image."""
    n, _, h, w = images.shape
    flip = torch.rand(n, generator=generator) < 0.5
    images = torch.where(flip.to(images.device)[:, None, None, None], images.flip(-1), images)
    if pad <= 0:
        return images
    padded = F.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).tolist()
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).tolist()
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def neighbour_dataset(data: FaceSet, config: LDLVAConfig) -> WithNeighbours:
    """The training set with each sample's K nearest VA-neighbours (``ops.l2_topk``) and local similarities."""
    if data.va is None or not bool(torch.isfinite(data.va).all()):
        raise DataError("LDL-VA training needs finite valence-arousal for every training sample (pseudo-labels "
                        "when the dataset has none); this training set has missing values")
    index, _ = va_neighbours(data.va, config.k)
    return WithNeighbours(data, index, local_similarity(data.va, index, config.similarity, config.delta))


def make_step_fn(config: LDLVAConfig, lambda_opt: torch.optim.Optimizer | None) -> Any:
    """``step_fn(training, batch, optimizer)`` for the trainer."""

    def step_fn(training: LDLVATraining, batch: dict[str, torch.Tensor], opt: torch.optim.Optimizer
                ) -> dict[str, float]:
        net = training.net
        faces, labels = batch["face"], batch["label"]
        if config.augment:
            faces = augment(faces, config.pad)
        opt.zero_grad(set_to_none=True)
        logits, v = net(faces)
        logs: dict[str, float] = {}
        if config.loss == "ce":
            loss = F.cross_entropy(logits, labels)
        else:
            assert lambda_opt is not None
            lambda_opt.zero_grad(set_to_none=True)
            b, k = batch["neighbour_faces"].shape[:2]
            nb = batch["neighbour_faces"].flatten(0, 1)
            if config.augment:
                nb = augment(nb, config.pad)
            with torch.set_grad_enabled(config.neighbour_grad):
                nb_logits, nb_v = net(nb)
            nb_probs = nb_logits.softmax(1).view(b, k, -1)
            zeta = net.calibration(v, nb_v.view(b, k, -1))
            lam = torch.sigmoid(training.uncertainty_logits[batch["index"]])
            target, _ = target_distribution(labels, config.num_classes, nb_probs, batch["similarity"].to(v), zeta,
                                            lam)
            l_cls = distribution_cross_entropy(target, logits)
            weight = 1 - (lam if config.lambda_grad_from_center else lam.detach())
            code_centres = config.center_update == "code"
            l_d = discriminative_loss(v, labels, net.centers.detach() if code_centres else net.centers, weight,
                                      config.repulsion, include_repulsion=not code_centres)
            loss = l_cls + config.gamma * l_d
            logs.update(l_cls=float(l_cls.detach()), l_d=float(l_d.detach()), lambda_mean=float(lam.detach().mean()),
                        zeta_mean=float(zeta.detach().mean()))
        if not math.isfinite(float(loss.detach())):
            from zoo.errors import TrainingError

            raise TrainingError(f"LDL-VA loss became {float(loss)}; lower lr or lambda_lr")
        loss.backward()
        opt.step()
        if config.loss == "ldl":
            assert lambda_opt is not None
            lambda_opt.step()
            if config.center_update == "code":
                code_center_update(net.centers.data, v.detach(), labels, weight.detach(), config.center_alpha,
                                   config.center_repulsion_lr, config.repulsion)
        logs["loss"] = float(loss.detach())
        logs["train_accuracy"] = float((logits.argmax(1) == labels).float().mean())
        return logs

    return step_fn


def train(model: LDLVANet, data: FaceSet, config: LDLVAConfig, options: TrainOptions,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Train ``net`` in place; the result's ``extra["uncertainty"]`` holds the learned lambda of every training
    sample, and its metrics the mean lambda over clean and flipped labels when the set has flips."""
    net = model
    if not isinstance(data, FaceSet):
        raise ConfigError(f"ldl-va trains on a FaceSet (zoo.make_data('ldl-va-tiny')), got {type(data).__name__}")
    training = LDLVATraining(net, len(data), config.lambda_init)
    code_centres = config.center_update == "code"
    net.centers.requires_grad_(not code_centres and config.loss == "ldl")
    params = [p for p in net.parameters() if p.requires_grad]
    recipe = recipe_for(config, len(data))
    optimizer = torch.optim.Adam(params, lr=recipe.lr, betas=recipe.betas, weight_decay=recipe.weight_decay)
    lambda_opt = torch.optim.SGD([training.uncertainty_logits], lr=config.lambda_lr, momentum=0.0) \
        if config.loss == "ldl" else None
    dataset = neighbour_dataset(data, config) if config.loss == "ldl" else data
    result = fit(training, dataset, None, recipe, options, callbacks=callbacks, optimizer=optimizer,
                 step_fn=make_step_fn(config, lambda_opt))
    net.centers.requires_grad_(True)
    lam = training.uncertainty()
    result.extra["uncertainty"] = lam
    flipped = data.labels != data.clean_labels
    if config.loss == "ldl" and bool(flipped.any()) and bool((~flipped).any()):
        result.metrics["lambda_flipped"] = float(lam[flipped].mean())
        result.metrics["lambda_clean"] = float(lam[~flipped].mean())
    return result


@torch.no_grad()
def predict(net: nn.Module, data: Any, batch_size: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """(class probabilities (N, C), clean labels (N,)) of a face set, in eval mode."""
    net.eval()
    device = next(net.parameters()).device
    probs, labels = [], []
    for start in range(0, len(data), batch_size):
        idx = range(start, min(len(data), start + batch_size))
        faces = torch.stack([data.face(i) for i in idx]) if hasattr(data, "face") else \
            torch.stack([data[i]["face"] for i in idx])
        probs.append(net(faces.to(device))[0].softmax(1).cpu())
    labels = data.clean_labels if hasattr(data, "clean_labels") else torch.stack([data[i]["label"]
                                                                                   for i in range(len(data))])
    return torch.cat(probs), labels


def evaluate(model: nn.Module, data: Any) -> dict[str, float]:
    """``{"accuracy"}`` (the paper's metric) against the clean labels, and the mean per-class accuracy."""
    net = model
    from zoo.metrics import accuracy

    probs, target = predict(net, data)
    pred = probs.argmax(1)
    per_class = [float((pred[target == c] == c).float().mean()) for c in target.unique().tolist()]
    return {"accuracy": accuracy(pred, target), "mean_class_accuracy": sum(per_class) / len(per_class)}
