"""Shared set-up of the federated-engine tests: tiny seeded problems (fixture ``h``) and one torch thread.

Tiny models on a busy 2-core machine run far faster on one thread (no OpenMP spin-waiting).
"""
from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from zoo.engines import federated as fl


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def blobs(n: int = 120, d: int = 6, classes: int = 3, seed: int = 0) -> torch.utils.data.TensorDataset:
    """Linearly separable-ish Gaussian blobs."""
    g = torch.Generator().manual_seed(seed)
    centers = 2.0 * torch.randn(classes, d, generator=g)
    y = torch.randint(classes, (n,), generator=g)
    x = centers[y] + 0.5 * torch.randn(n, d, generator=g)
    return torch.utils.data.TensorDataset(x, y)


def mlp(d: int = 6, classes: int = 3, seed: int = 0) -> nn.Module:
    """A seeded 2-layer MLP."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 8), nn.Tanh(), nn.Linear(8, classes))


def ce(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy loss_fn."""
    return nn.functional.cross_entropy(model(batch[0]), batch[1])


def federation(num_clients: int = 4, n: int = 120, seed: int = 0) -> fl.FederatedData:
    """Blobs split IID over ``num_clients``."""
    ds = blobs(n, seed=seed)
    return fl.FederatedData.partitioned(ds, fl.iid(n, num_clients, seed))


class Scalar(nn.Module):
    """One parameter ``w`` (shape [1]): the model of the hand-computed quadratic cases."""

    def __init__(self, w0: float = 0.0) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([float(w0)]))


def quad_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """``f(w) = 0.5 * a * (w - b)^2`` (mean over the batch's ``(a, b)`` rows): gradient ``a (w - b)``."""
    a, b = batch
    return (0.5 * a * (model.w - b) ** 2).mean()


def quadratic(a: list[float], b: list[float]) -> fl.FederatedData:
    """Client ``k`` holds one sample ``(a_k, b_k)``: its loss is ``0.5 a_k (w - b_k)^2``."""
    return fl.FederatedData.per_silo([torch.utils.data.TensorDataset(torch.tensor([[ak]]), torch.tensor([[bk]]))
                                      for ak, bk in zip(a, b)])


@pytest.fixture()
def h() -> SimpleNamespace:
    """The helper functions above, for tests (importlib mode gives test modules no shared import path)."""
    return SimpleNamespace(blobs=blobs, mlp=mlp, ce=ce, federation=federation, Scalar=Scalar, quad_loss=quad_loss,
                           quadratic=quadratic)
