"""The sparse-coding problems of the paper: a dictionary, signals, and their LASSO codes (the training targets).

- ``synthetic`` (Sect. 3.1): ``D`` with N(0, 1) entries (columns normalised when ``normalize_columns``), signals
  ``x ~ N(0, I_n)``.
- ``digits`` (Sect. 3.2): ``D`` = ``m`` scikit-learn digits (8x8 = 64 pixels) drawn at random, signals = the other
  digits; all images mean-removed and variance-normalised (``D``'s columns then unit-norm when
  ``normalize_columns``). scikit-learn ships 1,797 digits (the paper's "60,000 / 10,000" are MNIST's counts), so
  the split holds what remains after the dictionary: 80 % train, 20 % test.

Targets ``z*`` are FISTA's codes after ``fista_iters`` steps (float64), i.e. the LASSO solutions the learned
networks approximate. Everything is a deterministic function of the config (``data_seed``) and cached per process.
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch.utils.data import Dataset

from zoo.errors import ConfigError
from zoo.prox import fista
from zoo_plugins.lista_msn.config import ListaMSNConfig

SOURCES: dict[str, str] = {"synthetic": "gaussian", "digits": "digits"}


class SparseCodes(Dataset):
    """``(x [n], z* [m])`` pairs with the ``dictionary`` ``[n, m]`` and ``lam`` they were solved with."""

    def __init__(self, x: torch.Tensor, z: torch.Tensor, dictionary: torch.Tensor, lam: float, split: str) -> None:
        self.x, self.z, self.dictionary, self.lam, self.split = x, z, dictionary, lam, split

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.z[i]


def _key(config: ListaMSNConfig) -> tuple:
    return (config.n, config.m, config.lam, config.dictionary, config.normalize_columns, config.n_train,
            config.n_test, config.fista_iters, config.data_seed)


def _standardise(images: torch.Tensor) -> torch.Tensor:
    """Remove each image's mean and scale it to unit variance."""
    centred = images - images.mean(dim=1, keepdim=True)
    return centred / centred.std(dim=1, keepdim=True).clamp_min(1e-8)


@lru_cache(maxsize=4)
def _signals(key: tuple) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(D, x_train, x_test)`` in float64 (cheap: no solver), always real CPU tensors: the result is cached, and a
    first call under ``torch.device("meta")`` (zoo.load builds models on meta) must not cache meta tensors."""
    with torch.device("cpu"):
        return _make_signals(key)


def _make_signals(key: tuple) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n, m, _, kind, normalize, n_train, n_test, _, seed = key
    g = torch.Generator().manual_seed(seed)
    if kind == "gaussian":
        d = torch.randn(n, m, generator=g, dtype=torch.float64)
        x = torch.randn(n_train + n_test, n, generator=g, dtype=torch.float64)
        x_train, x_test = x[:n_train], x[n_train:]
    else:
        from zoo.data.digits import load_digits_split

        images = _standardise(load_digits_split("all").images.reshape(-1, 64).double())
        order = torch.randperm(images.shape[0], generator=g)
        if images.shape[0] - m < 10:
            raise ConfigError(f"the digits dictionary uses m = {m} of {images.shape[0]} images; too few remain")
        d = images[order[:m]].T.contiguous()
        rest = images[order[m:]]
        cut = int(0.8 * rest.shape[0])
        x_train, x_test = rest[:cut][:n_train], rest[cut:][:n_test]
    if normalize:
        d = d / d.norm(dim=0, keepdim=True)
    return d, x_train, x_test


@lru_cache(maxsize=4)
def _problem(key: tuple) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(D, x_train, z*_train, x_test, z*_test)`` in float32, the codes by FISTA in float64."""
    d, x_train, x_test = _signals(key)
    lam, iters = key[2], key[7]
    z_train, z_test = fista(x_train, d, lam, iters), fista(x_test, d, lam, iters)
    return d.float(), x_train.float(), z_train.float(), x_test.float(), z_test.float()


def dictionary(config: ListaMSNConfig) -> torch.Tensor:
    """The variant's dictionary ``D`` ``[n, m]`` (the model is initialised from it)."""
    return _signals(_key(config))[0].float()


def make_data(config: ListaMSNConfig, source: str, split: str) -> SparseCodes:
    """``synthetic`` or ``digits`` (must match the variant's dictionary) ``train`` / ``test`` codes."""
    if source not in SOURCES:
        raise ConfigError(f"lista-msn: unknown data source {source!r}; expected one of {', '.join(SOURCES)}")
    if SOURCES[source] != config.dictionary:
        raise ConfigError(f"lista-msn: source {source!r} needs dictionary={SOURCES[source]!r}, but the variant uses "
                          f"{config.dictionary!r} (the model is initialised from its dictionary; use "
                          "lista-msn-digits for digits)")
    if split not in ("train", "test"):
        raise ConfigError(f"lista-msn: unknown split {split!r}; expected train or test")
    d, x_train, z_train, x_test, z_test = _problem(_key(config))
    x, z = (x_train, z_train) if split == "train" else (x_test, z_test)
    return SparseCodes(x, z, d, config.lam, split)
