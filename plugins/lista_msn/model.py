"""LISTA (Gregor & LeCun 2010) and the Mixture Sparsity Network head of LISTA-MSN (Sect. 2, Algorithm 1)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from zoo.prox import lipschitz, soft_threshold
from zoo_plugins.lista_msn.config import ListaMSNConfig


class LISTA(nn.Module):
    """``B = W_e x; z(0) = h_theta(B); z(t) = h_theta(B + S z(t-1))``, t = 1..K (Eq. 1 / Algorithm 1), weights
    shared across layers, initialised from ISTA: ``W_e = D^T / L``, ``S = I - D^T D / L``, ``theta = lam / L``."""

    def __init__(self, dictionary: torch.Tensor, lam: float, layers: int) -> None:
        super().__init__()
        m = dictionary.shape[1]
        inv_l = 1.0 / lipschitz(dictionary)
        self.W_e = nn.Parameter(dictionary.T.clone() * inv_l)
        self.S = nn.Parameter(torch.eye(m) - inv_l * dictionary.T @ dictionary)
        self.theta = nn.Parameter(torch.full((m,), lam * inv_l))
        self.layers = layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The coarse codes ``z_hat = z(K)`` ``[B, m]``."""
        b = x @ self.W_e.T
        z = soft_threshold(b, self.theta)
        for _ in range(self.layers):
            z = soft_threshold(b + z @ self.S.T, self.theta)
        return z


def modified_elu(t: torch.Tensor, gamma: float) -> torch.Tensor:
    """Eq. 4: ``t + 1`` for ``t >= 0``, ``gamma (e^t - 1) + 1`` otherwise (positive for gamma <= 1)."""
    return torch.where(t >= 0, t + 1, gamma * torch.expm1(torch.clamp(t, max=0.0)) + 1)


@dataclass
class Mixture:
    """The MSN's output: weights ``alpha [B, M]``, means ``mu [B, M, m]``, deviations ``sigma [B, M, m]``."""

    alpha: torch.Tensor
    mu: torch.Tensor
    sigma: torch.Tensor

    def mode(self) -> torch.Tensor:
        """The centre of the most probable kernel, ``mu_{argmax alpha}`` (Eq. 12)."""
        index = self.alpha.argmax(dim=1)
        return self.mu[torch.arange(self.mu.shape[0]), index]

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """A kernel drawn according to ``alpha``; its centre is the sample (Sect. 2.2)."""
        index = torch.multinomial(self.alpha, 1, generator=generator).squeeze(1)
        return self.mu[torch.arange(self.mu.shape[0]), index]


class MSNHead(nn.Module):
    """``o = W_m z_hat`` (no bias) split per kernel into ``(o^alpha, o^mu [m], o^sigma [m])``;
    ``alpha = softmax(o^alpha)``, ``mu = h_eps(o^mu)``, ``sigma = ELU_gamma(o^sigma)`` (Eq. 6).

    Initialisation (ours; the paper gives none): the mean blocks start as the identity, so every kernel starts at
    LISTA's (soft-thresholded) estimate; the weight and deviation blocks as ``nn.Linear`` (random, which makes
    the kernels' responsibilities, and so their updates, differ).
    """

    def __init__(self, m: int, components: int, mu_eps: float, elu_gamma: float, sigma_floor: float,
                 bias: bool = False) -> None:
        super().__init__()
        self.m, self.components = m, components
        self.mu_eps, self.elu_gamma, self.sigma_floor = mu_eps, elu_gamma, sigma_floor
        self.W_m = nn.Linear(m, (2 * m + 1) * components, bias=bias)
        with torch.no_grad():
            weight = self.W_m.weight.view(components, 2 * m + 1, m)
            weight[:, 1:m + 1] = torch.eye(m)
            if bias:
                self.W_m.bias.zero_()

    def forward(self, z_hat: torch.Tensor) -> Mixture:
        """The mixture parameters for the coarse codes ``z_hat [B, m]``."""
        o = self.W_m(z_hat).view(-1, self.components, 2 * self.m + 1)
        alpha = torch.softmax(o[..., 0], dim=1)
        mu = soft_threshold(o[..., 1:self.m + 1], self.mu_eps)
        sigma = modified_elu(o[..., self.m + 1:], self.elu_gamma).clamp_min(self.sigma_floor)
        return Mixture(alpha, mu, sigma)


class ListaMSN(nn.Module):
    """LISTA followed by the MSN head (``head="msn"``), or plain LISTA (``head="none"``). The dictionary is a
    buffer (it defines the problem; saved with the weights)."""

    def __init__(self, config: ListaMSNConfig, dictionary: torch.Tensor) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("dictionary", dictionary.clone())
        self.lista = LISTA(dictionary, config.lam, config.layers)
        self.msn = (MSNHead(config.m, config.components, config.mu_eps, config.elu_gamma, config.sigma_floor,
                            config.head_bias) if config.head == "msn" else None)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Mixture | None]:
        """``(z_hat, mixture)``; ``mixture`` is ``None`` for plain LISTA."""
        z_hat = self.lista(x)
        return z_hat, (self.msn(z_hat) if self.msn is not None else None)

    def codes(self, x: torch.Tensor, how: str = "mode", generator: torch.Generator | None = None) -> torch.Tensor:
        """The sparse codes: LISTA's ``z_hat``, or the MSN's ``mode`` / ``sample``."""
        z_hat, mixture = self(x)
        if mixture is None:
            return z_hat
        return mixture.mode() if how == "mode" else mixture.sample(generator)


def build(config: ListaMSNConfig) -> ListaMSN:
    """The variant's network, initialised from its dictionary."""
    from zoo_plugins.lista_msn.data import dictionary

    return ListaMSN(config, dictionary(config))
