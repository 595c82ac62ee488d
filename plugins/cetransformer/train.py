"""Training (alternating WGAN critic steps and steps of Eq. 7 on the shared trainer) and the causal metrics:
sqrt(PEHE) and the ATE error against the known potential outcomes."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from zoo.engines.steps import check_finite
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.gan import clip_weights_, frozen
from zoo.options import Options, TrainOptions
from zoo_plugins.cetransformer.config import CETConfig
from zoo_plugins.cetransformer.data import Units, make_data
from zoo_plugins.cetransformer.losses import (
    adversarial_loss,
    critic_loss,
    factual_loss,
    reconstruction_loss,
    total_loss,
)
from zoo_plugins.cetransformer.model import CETransformer


def optimizer_of(model: CETransformer, config: CETConfig) -> torch.optim.Optimizer:
    """Adam with two parameter groups, the critic's and the rest's (each step leaves the other's gradients
    ``None``, which Adam skips: two optimizers in one, checkpointed by the trainer)."""
    return torch.optim.Adam([{"params": list(model.critic.parameters()), "name": "critic"},
                             {"params": model.model_parameters(), "name": "model"}],
                            lr=config.lr, weight_decay=config.weight_decay)


def step_fn(config: CETConfig) -> Any:
    """One step: ``n_critic`` critic updates on the detached representations (weights clipped after each, or a
    gradient penalty), then one update of encoder, decoder and heads on Eq. 7 with the critic frozen."""

    def step(model: CETransformer, batch: Any, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        x, t, y = batch
        y_std = (y - model.y_mean) / model.y_std
        logs: dict[str, float] = {}
        if config.beta:
            for _ in range(config.n_critic):
                optimizer.zero_grad(set_to_none=True)
                with torch.no_grad():
                    rep = model.represent(x)
                loss_c = critic_loss(model.critic, rep, t, config.gp_weight)
                check_finite(float(loss_c.detach()), "critic loss", 0)
                if loss_c.requires_grad:
                    loss_c.backward()
                    optimizer.step()
                if config.clip is not None:
                    clip_weights_(model.critic, config.clip)
                logs["critic_loss"] = float(loss_c.detach())
        optimizer.zero_grad(set_to_none=True)
        with frozen(model.critic):
            rep = model.represent(x)
            reco = reconstruction_loss(x, model.decoder(rep))
            adv = adversarial_loss(model.critic(rep).squeeze(1), t) if config.beta else rep.sum() * 0.0
            pred = factual_loss(model.outcomes(rep), t, y_std)
            loss = total_loss(reco, adv, pred, config.alpha, config.beta, config.gamma)
            loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return {"loss": float(loss.detach()), "reconstruction": float(reco.detach()),
                "adversarial": float(adv.detach()), "factual": float(pred.detach()), **logs}

    return step


def train(model: CETransformer, data: Units, config: CETConfig, options: TrainOptions,
          callbacks: Sequence[Any] = ()) -> TrainResult:
    """Standardise the outcomes on ``data``, then train on mini-batches of units (x, t, y)."""
    with torch.no_grad():
        model.y_mean.fill_(float(data.y.mean()))
        model.y_std.fill_(float(data.y.std().clamp_min(1e-6)))
    recipe = Recipe(steps=config.steps, batch_size=min(config.batch_size, len(data)), lr=config.lr,
                    optimizer="adam")
    return fit(model, (data.x, data.t, data.y), None, recipe, options, optimizer=optimizer_of(model, config),
               callbacks=callbacks, step_fn=step_fn(config))


def effect_errors(mu0_hat: torch.Tensor, mu1_hat: torch.Tensor, data: Units) -> dict[str, float]:
    """``sqrt_pehe`` = sqrt(mean((tau_hat - tau)^2)) and ``ate_error`` = |mean tau_hat - mean tau| with the true
    effects tau = mu1 - mu0 (noiseless)."""
    tau_hat = (mu1_hat - mu0_hat).double()
    tau = data.ite.double()
    return {"sqrt_pehe": float(((tau_hat - tau) ** 2).mean().sqrt()), "ate_error": float((tau_hat.mean() - tau.mean()).abs())}


@torch.no_grad()
def predict(model: CETransformer, x: torch.Tensor) -> torch.Tensor:
    """Potential outcomes ``[n, 2]`` in eval mode."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(chunk) for chunk in x.split(1024)])
    finally:
        model.train(was_training)


def evaluate(model: CETransformer, data: Units | None, config: CETConfig, options: Options) -> dict[str, float]:
    """sqrt(PEHE) and ATE error on ``data`` (default: the test units of ``options.realization``), plus the factual
    RMSE."""
    if data is None:
        data = make_data(config, "ihdp-like", "test", options.realization)
    out = predict(model, data.x)
    factual = out.gather(1, data.t.view(-1, 1)).squeeze(1)
    return {**effect_errors(out[:, 0], out[:, 1], data),
            "factual_rmse": float((factual - data.y).pow(2).mean().sqrt())}
