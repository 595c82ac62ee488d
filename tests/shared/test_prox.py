"""zoo.prox: every closed form against its definition (brute-force minimisation of the prox objective on a grid),
hand-computed values, and the known failure region of LOG-PBCD's log-thresholding formula."""
from __future__ import annotations

import math

import pytest
import torch

from zoo.prox import (
    grid_argmin,
    hard_objective,
    hard_threshold,
    log_objective,
    log_threshold,
    prox_log,
    relu_objective,
    relu_prox,
    relu_prox_exact,
    soft_objective,
    soft_threshold,
)

GRID = torch.linspace(-4.0, 4.0, 16001, dtype=torch.float64)  # spacing 5e-4
GRID[8000] = 0.0  # linspace gives -8e-17 there: the L0 penalty is discontinuous at 0, the grid must hold it exactly
X = torch.linspace(-3.0, 3.0, 241, dtype=torch.float64)
# objective error of a grid point at distance h from a minimiser of a 1-strongly-convex-ish objective: ~h^2
TOL = 1e-6


def test_soft_threshold_hand_values() -> None:
    x = torch.tensor([-2.0, -0.5, 0.0, 0.25, 0.5, 1.5])
    assert torch.equal(soft_threshold(x, 0.5), torch.tensor([-1.5, 0.0, 0.0, 0.0, 0.0, 1.0]))


@pytest.mark.parametrize("theta", [0.0, 0.3, 1.0, 2.5])
def test_soft_threshold_is_the_l1_prox(theta: float) -> None:
    a, best = grid_argmin(lambda a, x: soft_objective(a, x, theta), X, GRID)
    closed = soft_threshold(X, theta)
    assert (soft_objective(closed, X, theta) - best).max() <= TOL
    assert torch.allclose(closed, a, atol=1e-3)


def test_soft_threshold_learns_theta() -> None:
    """LISTA learns theta through the shrinkage: d h / d theta = -sign(x) where |x| > theta, else 0."""
    theta = torch.tensor(0.5, requires_grad=True)
    x = torch.tensor([-2.0, 0.1, 1.0])
    soft_threshold(x, theta).sum().backward()
    assert theta.grad is not None and float(theta.grad) == pytest.approx(1.0 - 1.0)  # -(-1) + 0 - 1


def test_hard_threshold_hand_values_and_prox() -> None:
    x = torch.tensor([-2.0, -0.5, 0.49, 0.51, 3.0])
    assert torch.equal(hard_threshold(x, 0.5), torch.tensor([-2.0, 0.0, 0.0, 0.51, 3.0]))
    for theta in (0.3, 1.0, 2.0):
        a, best = grid_argmin(lambda a, x: hard_objective(a, x, theta), X, GRID)
        closed = hard_threshold(X, theta)
        assert (hard_objective(closed, X, theta) - best).abs().max() <= TOL
        away = (X.abs() - theta).abs() > 1e-6  # at |x| = theta both 0 and x are minimisers
        assert torch.allclose(closed[away], a[away], atol=1e-3)
    # the penalty itself: theta^2 / 2 off zero, 0 at zero
    assert hard_objective(torch.tensor([0.0, 2.0]), torch.tensor([1.0, 2.0]), 3.0).tolist() == [0.5, 4.5]


# log penalty: (lam, eps) pairs spanning the convex (lam < eps^2) and non-convex (lam > eps^2) regimes;
# (3e-6, 1e-3) is LOG-PBCD's lambda / delta and eps.
LOG_CASES = [(3e-6, 1e-3), (0.03, 0.1), (0.25, 0.2), (0.5, 1.0), (1.0, 0.1)]


@pytest.mark.parametrize(("lam", "eps"), LOG_CASES)
def test_prox_log_is_the_exact_prox(lam: float, eps: float) -> None:
    a, best = grid_argmin(lambda a, x: log_objective(a, x, lam, eps), X, GRID)
    exact = prox_log(X, lam, eps)
    assert (log_objective(exact, X, lam, eps) - best).max() <= TOL
    assert torch.all(exact * X >= 0), "the log prox keeps the sign of x"


def test_log_threshold_hand_value() -> None:
    """Eq. 17 at lam = 0.25, eps = 0.5, x = 2: x0 = 2 sqrt(0.25) - 0.5 = 0.5 < 2, so
    a = ((2 - 0.5) + sqrt(2.5^2 - 1)) / 2 = (1.5 + sqrt(5.25)) / 2."""
    got = log_threshold(torch.tensor([2.0, -2.0, 0.4], dtype=torch.float64), 0.25, 0.5)
    want = (1.5 + math.sqrt(5.25)) / 2
    assert got.tolist() == pytest.approx([want, -want, 0.0])


@pytest.mark.parametrize(("lam", "eps"), LOG_CASES)
def test_log_threshold_matches_the_prox_away_from_its_threshold(lam: float, eps: float) -> None:
    """The paper's formula is the exact prox outside the band between its x0 and the true jump point."""
    exact = prox_log(X, lam, eps)
    paper = log_threshold(X, lam, eps)
    x0 = 2 * math.sqrt(lam) - eps
    jump = X.abs()[exact != 0].min() if bool((exact != 0).any()) else torch.tensor(float("inf"))
    outside = (X.abs() <= min(x0, float(jump))) | (X.abs() >= max(float(jump), lam / eps) + 1e-9)
    assert torch.allclose(paper[outside], exact[outside], atol=1e-12)


def test_log_threshold_differs_from_the_prox_where_the_paper_formula_is_not_global() -> None:
    """Non-convex regime lam > eps^2: just above x0 the stationary point the formula returns has a higher
    objective than 0; convex regime lam < eps^2: for x0 < x < lam/eps it even returns a negative value."""
    lam, eps = 1.0, 0.1
    x = torch.tensor([1.95], dtype=torch.float64)  # x0 = 1.9
    paper, exact = log_threshold(x, lam, eps), prox_log(x, lam, eps)
    assert float(paper) > 0 and float(exact) == 0.0
    assert float(log_objective(paper, x, lam, eps)) > float(log_objective(exact, x, lam, eps))
    lam, eps = 0.5, 1.0  # x0 = sqrt(2) - 1 = 0.414, lam/eps = 0.5
    x = torch.tensor([0.45], dtype=torch.float64)
    assert float(log_threshold(x, lam, eps)) < 0 <= float(prox_log(x, lam, eps))


@pytest.mark.parametrize("eta", [0.2, 1.0, 1.7, 5.0])
def test_relu_prox_cases_match_brute_force(eta: float) -> None:
    s = torch.linspace(-3.0, 3.0, 25, dtype=torch.float64)
    a = torch.linspace(-2.0, 3.0, 21, dtype=torch.float64)
    ss, aa = torch.meshgrid(s, a, indexing="ij")
    grid = torch.linspace(-4.0, 4.0, 4001, dtype=torch.float64)  # spacing 2e-3: objective error <= 1.2e-5
    _, best = grid_argmin(lambda z, _: relu_objective(z, aa.unsqueeze(0), ss.unsqueeze(0), eta), ss, grid)
    for op in (relu_prox, relu_prox_exact):
        z = op(aa, ss, eta)
        assert (relu_objective(z, aa, ss, eta) - best).max() <= 1e-9, op.__name__
    assert torch.allclose(relu_prox(aa, ss, eta), relu_prox_exact(aa, ss, eta), atol=1e-12)


def test_relu_prox_hand_cases() -> None:
    """eta = 1, k = sqrt(2) - 1: case 1 (a=1, s=1) -> 1; case 2 (a=1, s=-0.2: -k <= -0.2) -> 0.4;
    case 3 (a=1, s=-0.8: -1 <= -0.8 <= -k) -> -0.8; case 4 (a=1, s=-2) -> -2; (a=-1, s=0.5) -> 0."""
    a = torch.tensor([1.0, 1.0, 1.0, 1.0, -1.0], dtype=torch.float64)
    s = torch.tensor([1.0, -0.2, -0.8, -2.0, 0.5], dtype=torch.float64)
    assert relu_prox(a, s, 1.0).tolist() == pytest.approx([1.0, 0.4, -0.8, -2.0, 0.0])


def test_ista_and_fista_solve_the_lasso() -> None:
    """Both converge to a point satisfying the LASSO optimality conditions (|D^T r| <= lam, = lam sign(z) on the
    support); FISTA's cost after k steps is below ISTA's (its O(1/k^2) rate)."""
    from zoo.prox import fista, ista, lasso_cost

    g = torch.Generator().manual_seed(0)
    d = torch.randn(16, 40, generator=g, dtype=torch.float64)
    d = d / d.norm(dim=0, keepdim=True)
    x = torch.randn(6, 16, generator=g, dtype=torch.float64)
    lam = 0.3
    z = fista(x, d, lam, 3000)
    corr = (x - z @ d.T) @ d
    assert float(corr.abs().max()) <= lam + 1e-6
    support = z != 0
    assert torch.allclose(corr[support], lam * z[support].sign(), atol=1e-6)
    assert torch.allclose(ista(x, d, lam, 8000), z, atol=1e-4)
    assert bool((lasso_cost(x, d, fista(x, d, lam, 30), lam) < lasso_cost(x, d, ista(x, d, lam, 30), lam)).all())
