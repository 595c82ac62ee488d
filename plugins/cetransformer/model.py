"""CETransformer's networks (Fig. 2): covariate tokens through a transformer encoder (X_E = the CLS output), a
reconstruction decoder, a WGAN critic on X_E and the two outcome heads h(X_E, T)."""
from __future__ import annotations

import torch
from torch import nn

from zoo.errors import InputError
from zoo_plugins.cetransformer.config import CETConfig


def head(dim: int, hidden: int, out: int) -> nn.Sequential:
    """One hidden layer of ``hidden`` ELU units."""
    return nn.Sequential(nn.Linear(dim, hidden), nn.ELU(), nn.Linear(hidden, out))


class FeatureTokens(nn.Module):
    """Each covariate ``x_j`` becomes the token ``x_j w_j + b_j`` (``[B, F] -> [B, F, d]``), with a learnt CLS
    token prepended (``[B, F + 1, d]``)."""

    def __init__(self, num_features: int, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_features, dim) / dim ** 0.5)
        self.bias = nn.Parameter(torch.zeros(num_features, dim))
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x[:, :, None] * self.weight + self.bias
        return torch.cat([self.cls.expand(len(x), -1, -1), tokens], 1)


class TransformerEncoder(nn.Module):
    """Feature tokens, ``blocks`` pre-norm transformer layers (multi-head self-attention over the covariates,
    torch's SDPA inside, then an FFN), a final LayerNorm; the CLS token's output is X_E ``[B, d]``."""

    def __init__(self, config: CETConfig) -> None:
        super().__init__()
        self.tokens = FeatureTokens(config.num_features, config.dim)
        layer = nn.TransformerEncoderLayer(config.dim, config.heads, config.ffn, config.dropout, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.blocks = nn.TransformerEncoder(layer, config.blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(config.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.blocks(self.tokens(x))[:, 0])


class CETransformer(nn.Module):
    """``represent(x) = X_E``; ``reconstruct(X_E) = X_hat``; ``critic(X_E)`` scores treated vs control;
    ``outcomes(X_E) = [mu_0, mu_1]``; ``forward(x)`` gives ``[B, 2]`` potential outcomes on the original scale
    (the training outcomes are standardised by ``y_mean``/``y_std``, kept as buffers)."""

    def __init__(self, config: CETConfig) -> None:
        super().__init__()
        self.num_features = config.num_features
        if config.encoder == "transformer":
            self.encoder: nn.Module = TransformerEncoder(config)
        else:
            self.encoder = nn.Sequential(nn.Linear(config.num_features, config.hidden), nn.ELU(),
                                         nn.Linear(config.hidden, config.hidden), nn.ELU(),
                                         nn.Linear(config.hidden, config.dim))
        self.decoder = head(config.dim, config.hidden, config.num_features)
        self.critic = head(config.dim, config.hidden, 1)
        self.h0 = head(config.dim, config.hidden, 1)
        self.h1 = head(config.dim, config.hidden, 1)
        self.register_buffer("y_mean", torch.zeros(()))
        self.register_buffer("y_std", torch.ones(()))

    def represent(self, x: torch.Tensor) -> torch.Tensor:
        """X_E = f_trans(X)."""
        if x.dim() != 2 or x.shape[1] != self.num_features:
            raise InputError(f"cetransformer: x must be (B, {self.num_features}), got {tuple(x.shape)}")
        return self.encoder(x)

    def outcomes(self, rep: torch.Tensor) -> torch.Tensor:
        """Standardised potential outcomes ``[B, 2]`` (h_0, h_1) from X_E."""
        return torch.cat([self.h0(rep), self.h1(rep)], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outcomes(self.represent(x)) * self.y_std + self.y_mean

    def model_parameters(self) -> list[nn.Parameter]:
        """Everything but the critic (what the total loss of Eq. 7 trains)."""
        return [p for name, p in self.named_parameters() if not name.startswith("critic.")]


def build(config: CETConfig) -> CETransformer:
    """The variant's model, randomly initialised."""
    return CETransformer(config)
