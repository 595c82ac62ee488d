"""IHDP-like data with known potential outcomes (the real IHDP covariates are not bundled).

Each realization (seeded) draws ``units`` units with 25 covariates like IHDP's (6 continuous, standardised and
correlated; 19 binary, correlated with them), a treatment assigned with selection bias (a logistic propensity in
the covariates, ~19 % treated as in IHDP's 139 of 747), and outcomes from Hill's (2011) response surface B, the
one the IHDP benchmark uses::

    mu_0 = exp((X + W) beta),  mu_1 = X beta - omega,  y = mu_t + N(0, 1),

``W`` = 0.5 everywhere, ``beta_k`` in {0, .1, .2, .3, .4} with probabilities {.6, .1, .1, .1, .1}, and ``omega``
such that the average effect on the treated is 4. Splits follow the CFR protocol: 63 / 27 / 10 % train /
validation / test within a realization.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from zoo.errors import DataError
from zoo_plugins.cetransformer.config import CETConfig

SOURCES: tuple[str, ...] = ("ihdp-like", "synthetic")
SPLITS: tuple[str, ...] = ("train", "val", "test", "all")


@dataclass
class Units(Dataset):
    """Covariates ``x [n, F]``, treatment ``t [n]`` (0/1), factual outcome ``y [n]`` and the noiseless potential
    outcomes ``mu0``, ``mu1`` (what PEHE is measured against)."""

    x: torch.Tensor
    t: torch.Tensor
    y: torch.Tensor
    mu0: torch.Tensor
    mu1: torch.Tensor

    def __len__(self) -> int:
        return len(self.t)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.x[i], self.t[i], self.y[i]

    @property
    def ite(self) -> torch.Tensor:
        """True individual effects ``mu1 - mu0``."""
        return self.mu1 - self.mu0

    def subset(self, index: torch.Tensor) -> "Units":
        return Units(self.x[index], self.t[index], self.y[index], self.mu0[index], self.mu1[index])


def ihdp_like(units: int = 747, num_features: int = 25, continuous: int = 6, treated_fraction: float = 0.186,
              seed: int = 0) -> Units:
    """One realization (see the module docstring)."""
    g = torch.Generator().manual_seed(10_007 * seed + 1)
    binary = num_features - continuous
    mix = torch.randn(num_features, num_features, generator=g) * 0.3 + torch.eye(num_features)
    latent = torch.randn(units, num_features, generator=g, dtype=torch.float64) @ mix.double().T
    cont = latent[:, :continuous]
    cont = (cont - cont.mean(0)) / cont.std(0)
    thresholds = torch.empty(binary, dtype=torch.float64).uniform_(-1.0, 1.0, generator=g)
    bins = (latent[:, continuous:] / latent[:, continuous:].std(0) > thresholds).double()
    x = torch.cat([cont, bins], 1)
    # selection bias: a logistic propensity; the intercept is solved for the treated fraction
    gamma = torch.randn(num_features, generator=g, dtype=torch.float64) * 0.4
    score = (x - x.mean(0)) @ gamma
    low, high = -20.0, 20.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if torch.sigmoid(score + mid).mean() < treated_fraction else (low, mid)
    t = (torch.rand(units, generator=g, dtype=torch.float64) < torch.sigmoid(score + low)).long()
    values = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    beta = values[torch.multinomial(torch.tensor([0.6, 0.1, 0.1, 0.1, 0.1]), num_features, replacement=True,
                                    generator=g)]
    mu0 = torch.exp((x + 0.5) @ beta)
    linear = x @ beta
    treated = t == 1
    omega = float((linear[treated] - mu0[treated]).mean()) - 4.0 if bool(treated.any()) else 0.0
    mu1 = linear - omega
    y = torch.where(treated, mu1, mu0) + torch.randn(units, generator=g, dtype=torch.float64)
    return Units(x.float(), t, y.float(), mu0.float(), mu1.float())


def split_units(data: Units, part: str, seed: int = 0) -> Units:
    """The ``train`` (63 %), ``val`` (27 %) or ``test`` (10 %) units of a realization (``all``: every unit)."""
    if part not in SPLITS:
        raise DataError(f"cetransformer: unknown split {part!r}; expected one of {', '.join(SPLITS)}")
    if part == "all":
        return data
    n = len(data)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + 99))
    n_test = round(0.1 * n)
    n_val = round(0.27 * n)
    pieces = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    return data.subset(pieces[part].sort().values)


def make_data(config: CETConfig, source: str, split: str = "train", realization: int = 0) -> Units:
    """``ihdp-like`` (alias ``synthetic``): the ``split`` units of realization ``realization``."""
    if source not in SOURCES:
        raise DataError(f"cetransformer: unknown data source {source!r}; expected one of {', '.join(SOURCES)} "
                        "(the IHDP, Twins and Jobs files are not bundled)")
    data = ihdp_like(config.units, config.num_features, config.continuous, config.treated_fraction, realization)
    return split_units(data, split, realization)
