"""The two-player GAN loop on the shared trainer (:func:`zoo.engines.trainer.fit`).

One trainer step = ``n_critic`` critic updates (each on its own slice of the real batch and fresh noise; weights
clipped after each when the objective clips) followed by one generator update, as in WGAN's and QR-GAN's
Algorithm 1. The trainer's batch is therefore ``n_critic * m`` real samples.

Both players share one ``torch.optim`` optimizer with two parameter groups (``critic`` and ``generator``, each with
its own learning rate). A step leaves the other player's gradients ``None`` (the generator is not differentiated in
a critic step, the critic is frozen in a generator step), and torch's Adam/RMSprop skip parameters without a
gradient, so this is exactly two separate optimizers; what it buys is the trainer's machinery unchanged: seeded data
order and noise, atomic checkpoints of both players' optimizer state and the RNG, exact resume, history, callbacks.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo.engines.steps import check_finite
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import ConfigError
from zoo.gan.losses import clip_weights_
from zoo.gan.objectives import Objective
from zoo.options import TrainOptions

OPTIMIZERS = ("adam", "rmsprop")


class GANPair(nn.Module):
    """A generator ``G(z)`` and a critic trained together; ``forward(z) = G(z)``, ``sample(n)`` draws ``z ~ N(0, I)``
    of size ``latent_dim`` from torch's global generator (seeded and checkpointed by the trainer)."""

    def __init__(self, generator: nn.Module, critic: nn.Module, latent_dim: int) -> None:
        super().__init__()
        if latent_dim < 1:
            raise ConfigError(f"latent_dim must be >= 1, got {latent_dim}")
        self.generator = generator
        self.critic = critic
        self.latent_dim = latent_dim

    def noise(self, n: int, device: Any = None) -> torch.Tensor:
        """``n`` latent codes ``z ~ N(0, I)``."""
        device = device if device is not None else next(self.generator.parameters()).device
        return torch.randn(n, self.latent_dim, device=device)

    def sample(self, n: int) -> torch.Tensor:
        """``n`` generated samples."""
        return self.generator(self.noise(n))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Turn off ``requires_grad`` on ``module``'s parameters inside the block (restored afterwards)."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


def two_player_optimizer(pair: GANPair, lr_generator: float, lr_critic: float, kind: str = "adam",
                         betas: tuple[float, float] = (0.5, 0.999), alpha: float = 0.99) -> torch.optim.Optimizer:
    """One optimizer, two parameter groups: ``critic`` (first) and ``generator``, each at its own learning rate.
    ``adam`` uses ``betas``; ``rmsprop`` (WGAN's choice) uses ``alpha``."""
    groups = [{"params": list(pair.critic.parameters()), "lr": lr_critic, "name": "critic"},
              {"params": list(pair.generator.parameters()), "lr": lr_generator, "name": "generator"}]
    if kind == "adam":
        return torch.optim.Adam(groups, betas=betas)
    if kind == "rmsprop":
        return torch.optim.RMSprop(groups, alpha=alpha)
    raise ConfigError(f"unknown GAN optimizer {kind!r}; expected one of {', '.join(OPTIMIZERS)}")


@dataclass(frozen=True)
class GANRecipe:
    """How to train a pair: ``steps`` generator iterations, ``batch_size`` (m) samples per player update,
    ``n_critic`` critic updates per generator update, learning rates, optimizer and betas/alpha."""

    steps: int
    batch_size: int
    n_critic: int = 5
    lr_generator: float = 5e-5
    lr_critic: float = 5e-5
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.5, 0.999)
    alpha: float = 0.99

    def __post_init__(self) -> None:
        if self.n_critic < 1 or self.batch_size < 1 or self.steps < 0:
            raise ConfigError(f"GAN recipe needs n_critic >= 1, batch_size >= 1, steps >= 0; got {self.n_critic}, "
                              f"{self.batch_size}, {self.steps}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown GAN optimizer {self.optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")


def _real(batch: Any) -> torch.Tensor:
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def gan_step_fn(objective: Objective, n_critic: int) -> Callable[[nn.Module, Any, torch.optim.Optimizer],
                                                                dict[str, float]]:
    """The trainer's ``step_fn`` for a :class:`GANPair`: ``n_critic`` critic updates then one generator update."""

    def step(pair: nn.Module, batch: Any, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        pair = getattr(pair, "module", pair)  # unwrap DDP
        chunks = _real(batch).chunk(n_critic)
        if len(chunks) != n_critic:
            raise ConfigError(f"a batch of {len(_real(batch))} real samples cannot feed {n_critic} critic steps")
        metrics: dict[str, float] = {}
        for real in chunks:
            optimizer.zero_grad(set_to_none=True)
            with torch.no_grad():
                fake = pair.sample(len(real))
            loss_c, metrics = objective.critic_loss(pair.critic, real, fake)
            check_finite(float(loss_c.detach()), "critic loss", 0)
            loss_c.backward()
            optimizer.step()
            if objective.clip is not None:
                clip_weights_(pair.critic, objective.clip)
        optimizer.zero_grad(set_to_none=True)
        with frozen(pair.critic):
            fake = pair.sample(len(chunks[-1]))
            loss_g, g_metrics = objective.generator_loss(pair.critic, chunks[-1], fake)
            loss_g.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return {"loss": float(loss_g.detach()), **metrics, **g_metrics, "critic_steps": float(len(chunks))}

    return step


def fit_gan(pair: GANPair, data: Any, objective: Objective, recipe: GANRecipe, options: TrainOptions | None = None,
            *, callbacks: Sequence[Any] = (), eval_fn: Callable[[nn.Module], dict[str, float]] | None = None,
            schedule: str = "constant") -> TrainResult:
    """Train ``pair`` on real samples ``data`` (a tensor, a tuple of tensors or a map-style dataset whose items are
    samples) with ``objective``; ``options`` are the trainer's run settings (steps, seed, out_dir, resume, ...)."""
    if isinstance(data, torch.Tensor):
        data = (data,)
    optimizer = two_player_optimizer(pair, recipe.lr_generator, recipe.lr_critic, recipe.optimizer, recipe.betas,
                                     recipe.alpha)
    trainer_recipe = Recipe(steps=recipe.steps, batch_size=recipe.batch_size * recipe.n_critic,
                            lr=recipe.lr_critic, optimizer="adam", schedule=schedule)
    return fit(pair, data, None, trainer_recipe, options, optimizer=optimizer, callbacks=callbacks, eval_fn=eval_fn,
               step_fn=gan_step_fn(objective, recipe.n_critic))
