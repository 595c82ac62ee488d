"""Parity tests of ops.mean_shift: every implementation against a per-seed loop and scikit-learn's MeanShift."""
from __future__ import annotations

import math

import pytest
import torch

from zoo.errors import InputError
from zoo.kernels import ops


def _loop(means: torch.Tensor, points: torch.Tensor, h: float, kernel: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One step, seed by seed and point by point (float64)."""
    new, counts = [], []
    for m in means.double():
        num = torch.zeros(points.shape[1], dtype=torch.float64)
        mass, count = 0.0, 0
        for x in points.double():
            d = float(((m - x) ** 2).sum())
            inside = d <= h * h
            w = float(inside) if kernel == "flat" else math.exp(-d / (2 * h * h))
            num += w * x
            mass += w
            count += int(inside)
        new.append(num / mass if mass > 0 else m)
        counts.append(count)
    return torch.stack(new), torch.tensor(counts)


@pytest.mark.parametrize("kernel", ["flat", "gaussian"])
@pytest.mark.parametrize("sizes", [(5, 40, 3), (1, 1, 1), (20, 37, 45)])  # (S, N, D): feature dim > one block
def test_step_values(impl, gen, close, uses, kernel, sizes):
    s, n, d = sizes
    points = torch.randn(n, d, generator=gen)
    means = points[:s].clone() + 0.1 * torch.randn(min(s, n), d, generator=gen)
    h = 0.9 * math.sqrt(d)
    uses("mean_shift", impl, means)
    new, counts = ops.mean_shift(means, points, h, kernel)
    want_new, want_counts = _loop(means, points, h, kernel)
    assert new.dtype == means.dtype and counts.dtype == torch.int64
    close(new, want_new, torch.float32)
    assert torch.equal(counts, want_counts)


def test_lonely_seed_stays_put(impl, close):
    """A seed with no point within the bandwidth (flat) keeps its position and has count 0; a point exactly at
    the bandwidth is inside (d <= h², as scikit-learn's radius query)."""
    points = torch.tensor([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [10.0, 10.0]], dtype=torch.float64)
    means = torch.tensor([[0.0, 0.0], [-50.0, 3.0]], dtype=torch.float64)
    new, counts = ops.mean_shift(means, points, 1.0)
    close(new, torch.tensor([[0.5, 0.0], [-50.0, 3.0]], dtype=torch.float64))
    assert counts.tolist() == [3, 0]


def test_iterated_steps_match_sklearn_modes(impl):
    """Iterated flat steps from every point converge to scikit-learn MeanShift's cluster centres."""
    sklearn = pytest.importorskip("sklearn.cluster")
    gen = torch.Generator().manual_seed(3)
    centres = torch.tensor([[0.0, 0.0], [6.0, 6.0]])
    points = torch.cat([c + 0.5 * torch.randn(15, 2, generator=gen) for c in centres]).double()
    means = points.clone()
    for _ in range(30):
        means, _ = ops.mean_shift(means, points, 2.0)
    ms = sklearn.MeanShift(bandwidth=2.0).fit(points.numpy())
    found = torch.unique(torch.round(means, decimals=4), dim=0)
    assert found.shape[0] == len(ms.cluster_centers_)
    want = torch.tensor(ms.cluster_centers_)
    order = lambda a: a[torch.argsort(a[:, 0])]  # noqa: E731
    # scikit-learn stops once a seed moves less than 1e-3 * bandwidth; the iterated steps go further
    torch.testing.assert_close(order(found), order(want), atol=5e-3, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision(impl, gen, close, dtype):
    points = torch.randn(12, 4, generator=gen).to(dtype)
    means = points[:5].clone()
    new, counts = ops.mean_shift(means, points, 2.5, "gaussian")
    assert new.dtype == dtype
    close(new, _loop(means.float(), points.float(), 2.5, "gaussian")[0], dtype)


def test_bad_input(impl):
    x = torch.zeros(4, 3)
    with pytest.raises(InputError, match="bandwidth"):
        ops.mean_shift(x, x, 0.0)
    with pytest.raises(InputError, match="kernel"):
        ops.mean_shift(x, x, 1.0, kernel="epanechnikov")
    with pytest.raises(InputError, match="dimension"):
        ops.mean_shift(torch.zeros(2, 2), x, 1.0)
    with pytest.raises(InputError, match="points must not be empty"):
        ops.mean_shift(x, torch.zeros(0, 3), 1.0)
    with pytest.raises(InputError, match="means"):
        ops.mean_shift(torch.zeros(3, dtype=torch.long), x, 1.0)
