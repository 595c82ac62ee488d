"""Parity tests of ops.quantile_loss: every implementation against an explicit loop over the pinball pairs."""
from __future__ import annotations

import itertools

import pytest
import torch

from zoo.errors import InputError
from zoo.kernels import ops


def _loop(target: torch.Tensor, pred: torch.Tensor, taus: torch.Tensor, pairing: str) -> torch.Tensor:
    """mean over (h, k) of Σ ρ_τ(t - p), written out term by term (float64)."""
    t, p, tau = target.double(), pred.double(), taus.double()
    total = torch.zeros((), dtype=torch.float64)
    for h, k in itertools.product(range(t.shape[0]), range(p.shape[0])):
        for i in range(p.shape[1]):
            cols = [i] if pairing == "matched" else range(t.shape[1])
            for j in cols:
                u = t[h, j] - p[k, i]
                total = total + (u * tau[i] if u >= 0 else u * (tau[i] - 1.0))
    return total / (t.shape[0] * p.shape[0])


@pytest.mark.parametrize("pairing", ["all", "matched"])
@pytest.mark.parametrize("sizes", [(3, 4, 5), (1, 1, 1), (7, 2, 3)])  # (H, K, N); one sample, one quantile
def test_values_and_gradients(impl, gen, close, uses, pairing, sizes):
    h, k, n = sizes
    m = n if pairing == "matched" else n + 2
    target = torch.randn(h, m, generator=gen, requires_grad=True)
    pred = torch.randn(k, n, generator=gen, requires_grad=True)
    taus = (torch.arange(n) + 0.5) / n
    uses("quantile_loss", impl, target)
    loss = ops.quantile_loss(target, pred, taus, pairing)
    close(loss, _loop(target.detach(), pred.detach(), taus, pairing), torch.float32)
    (loss * 3.0).backward()
    t64 = target.detach().double().requires_grad_()
    p64 = pred.detach().double().requires_grad_()
    (_loop(t64, p64, taus, pairing) * 3.0).backward()
    close(target.grad, t64.grad, torch.float32)
    close(pred.grad, p64.grad, torch.float32)


def test_long_target_stream_and_ties(impl, close):
    """Targets span several streamed chunks; ties t == p count as u >= 0 (gradient τ, not τ - 1)."""
    target = torch.linspace(-2, 2, 300).reshape(2, 150).double().requires_grad_()
    pred = torch.tensor([[0.0, 2.0], [-2.0, 1.0]], dtype=torch.float64, requires_grad=True)
    taus = torch.tensor([0.25, 0.9], dtype=torch.float64)
    loss = ops.quantile_loss(target, pred, taus)
    loss.backward()
    close(loss, _loop(target.detach(), pred.detach(), taus, "all"))
    t64, p64 = target.detach().clone().requires_grad_(), pred.detach().clone().requires_grad_()
    _loop(t64, p64, taus, "all").backward()
    close(pred.grad, p64.grad)
    close(target.grad, t64.grad)


def test_matched_ties(impl, close):
    """``"matched"``: a tie t == p contributes gradient -τ to the prediction (1[0 < 0] = 0)."""
    target = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64, requires_grad=True)
    pred = torch.tensor([[1.0, -1.0]], dtype=torch.float64, requires_grad=True)
    taus = torch.tensor([0.2, 0.7], dtype=torch.float64)
    ops.quantile_loss(target, pred, taus, "matched").backward()
    # column 0: t = 1 (tie), 3 -> -(0.2 + 0.2) / 2; column 1: t = 2, -1 (tie) -> -(0.7 + 0.7) / 2
    close(pred.grad, torch.tensor([[-0.2, -0.7]], dtype=torch.float64))
    close(target.grad, torch.tensor([[0.1, 0.35], [0.1, 0.35]], dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision(impl, gen, close, dtype):
    target = torch.randn(4, 3, generator=gen).to(dtype).requires_grad_()
    pred = torch.randn(5, 3, generator=gen).to(dtype).requires_grad_()
    taus = torch.tensor([0.1, 0.5, 0.9])
    loss = ops.quantile_loss(target, pred, taus, "matched")
    assert loss.dtype == torch.float32
    close(loss, _loop(target.detach(), pred.detach(), taus, "matched"), dtype)
    loss.backward()
    assert pred.grad.dtype == dtype and target.grad.dtype == dtype


def test_gradcheck_float64(impl, gen):
    # away from the kinks (u = 0) the loss is piecewise linear, so finite differences are exact
    target = (torch.randn(3, 4, generator=gen, dtype=torch.float64)).requires_grad_()
    pred = (torch.randn(2, 4, generator=gen, dtype=torch.float64) + 0.013).requires_grad_()
    taus = torch.tensor([0.1, 0.3, 0.6, 0.95], dtype=torch.float64)
    for pairing in ("all", "matched"):
        assert torch.autograd.gradcheck(lambda t, p: ops.quantile_loss(t, p, taus, pairing), (target, pred),
                                        eps=1e-6, fast_mode=impl == "triton")


def test_matches_qr_gan_losses(impl, gen, close):
    """The QR-GAN critic objective and generator loss (zoo.gan) are these two pairings."""
    from zoo.gan.losses import quantile_critic_objective, quantile_generator_loss

    real = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    fake = torch.randn(5, 4, generator=gen, dtype=torch.float64)
    taus = torch.tensor([0.125, 0.375, 0.625, 0.875], dtype=torch.float64)
    close(ops.quantile_loss(real, fake, taus, "matched"), quantile_critic_objective(real, fake, taus))
    close(ops.quantile_loss(real, fake, taus, "all"), quantile_generator_loss(real, fake, taus))


def test_bad_input(impl):
    t, p, taus = torch.zeros(2, 3), torch.zeros(4, 3), torch.full((3,), 0.5)
    with pytest.raises(InputError, match="taus"):
        ops.quantile_loss(t, p, torch.full((2,), 0.5))
    with pytest.raises(InputError, match="pairing"):
        ops.quantile_loss(t, p, taus, pairing="diagonal")
    with pytest.raises(InputError, match="matched"):
        ops.quantile_loss(torch.zeros(2, 5), p, taus, pairing="matched")
    with pytest.raises(InputError, match="pred"):
        ops.quantile_loss(t, torch.zeros(3), taus)
    with pytest.raises(InputError, match="target must not be empty"):
        ops.quantile_loss(torch.zeros(0, 3), p, taus)
