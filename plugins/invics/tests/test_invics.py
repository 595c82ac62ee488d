"""InvICS: exact invertibility (1e-5), the GDM's Woodbury inverse, the sampling adjoint, memory-saving gradients
equal to plain autograd, the loss by hand, the paper's configuration, and reconstruction beating Phi^T y."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

import zoo
import zoo.testing
from zoo.options import TrainOptions
from zoo_plugins.invics.config import STANDARD_M, paper, ratio, tiny
from zoo_plugins.invics.data import has_skimage, make_data
from zoo_plugins.invics.losses import discrepancy, invics_loss, orthogonality, psnr
from zoo_plugins.invics.model import GDM, build, scale
from zoo_plugins.invics.train import evaluate, train


def test_conformance() -> None:
    zoo.testing.check_method("invics")


def _model_and_state(seed: int = 0) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    model = zoo.build("invics-tiny", seed=seed).eval()
    x = torch.rand(2, 1, 33, 22, generator=torch.Generator().manual_seed(seed))
    y = model.sampling.phi(x)
    return model, model.initial(y).detach(), y.detach()


@torch.no_grad()
def test_recovery_subnet_is_exactly_invertible() -> None:
    model, u0, y = _model_and_state()
    with torch.no_grad():  # perturb every coupling so the test does not rely on near-identity initial weights
        g = torch.Generator().manual_seed(0)  # seeded: float32 round-off alone is ~5e-6 here (U is orthogonal
        for p in model.phases.parameters():  # to ~1e-7 in float32), so the draw must not vary from run to run
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    u_k = model.recover(u0, y)
    assert float((u_k - u0).abs().max()) > 1e-2  # the phases do change the state
    assert float((model.unrecover(u_k, y) - u0).abs().max()) < 1e-5
    phase = model.phases[1]
    assert float((phase.inverse(phase(u0, y, model.sampling), y, model.sampling) - u0).abs().max()) < 1e-5
    aacm = phase.aacm
    assert float((aacm.inverse(aacm(u0)) - u0).abs().max()) < 1e-5
    w = aacm.mix.weight
    assert torch.allclose(w @ w.T, torch.eye(w.shape[0]), atol=1e-6)  # U is orthogonal: U^T undoes it


@torch.no_grad()
def test_gdm_step_and_woodbury_inverse_match_dense_algebra() -> None:
    """Per block, r = (I - rho Phi^T Phi) x + rho Phi^T y; its inverse by a dense N x N solve equals GDM.inverse;
    rho = sigmoid(rho*) + 1 lies in (1, 2)."""
    model, u0, y = _model_and_state(1)
    sampling, gdm = model.sampling, GDM()
    gdm.rho_star.fill_(0.7)
    rho = float(gdm.rho)
    assert 1.0 < rho < 2.0 and rho == pytest.approx(1 / (1 + 2.718281828 ** -0.7) + 1)
    out = gdm(u0, y, sampling)
    phi = sampling.matrix.double()
    block = u0[0, 0, :11, :11].double().reshape(-1)
    meas = y[0, :, 0, 0].double()
    want = block - rho * phi.T @ (phi @ block - meas)
    assert torch.allclose(out[0, 0, :11, :11].double().reshape(-1), want, atol=1e-5)
    dense = torch.linalg.solve(torch.eye(121, dtype=torch.float64) - rho * phi.T @ phi, want - rho * phi.T @ meas)
    back = gdm.inverse(out, y, sampling)
    assert torch.allclose(back[0, 0, :11, :11].double().reshape(-1), dense, atol=1e-5)
    assert torch.allclose(back, u0, atol=1e-5)


def test_phi_t_is_the_adjoint_of_phi() -> None:
    model = zoo.build("invics-tiny")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 1, 22, 33, generator=g)
    y = torch.randn(2, model.config.m, 2, 3, generator=g)
    with torch.no_grad():
        lhs = (model.sampling.phi(x) * y).sum()
        rhs = (x * model.sampling.phi_t(y)).sum()
    assert float(lhs) == pytest.approx(float(rhs), rel=1e-5)
    phi = model.sampling.matrix
    assert torch.allclose(phi @ phi.T, torch.eye(model.config.m), atol=1e-5)  # orthonormal rows at init


def test_scale_range() -> None:
    t = torch.tensor([-50.0, 0.0, 50.0])
    assert scale(t).tolist() == pytest.approx([0.5, 0.75, 1.0])


def test_memory_saving_gradients_equal_plain_autograd() -> None:
    grads = {}
    for saving in (True, False):
        model = zoo.build("invics-tiny", config=replace(tiny(), memory_saving=saving), seed=0).train()
        x = torch.rand(2, 1, 22, 22, generator=torch.Generator().manual_seed(3))
        x_hat, _ = model(x)
        invics_loss(x, x_hat, model.sampling.matrix, 0.01).backward()
        grads[saving] = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    assert grads[True].keys() == grads[False].keys() and len(grads[True]) == len(list(model.parameters()))
    for name, g in grads[False].items():
        torch.testing.assert_close(grads[True][name], g, rtol=1e-3, atol=1e-5, msg=name)


def test_loss_hand_values() -> None:
    x = torch.zeros(2, 1, 2, 2)
    x_hat = torch.ones(2, 1, 2, 2)
    x_hat[1] = 2.0
    assert float(discrepancy(x, x_hat)) == pytest.approx((4 * 1 + 4 * 4) / 2)
    phi = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])  # Phi Phi^T - I = diag(0, 3)
    assert float(orthogonality(phi)) == pytest.approx(9.0 / 2)
    assert float(invics_loss(x, x_hat, phi, 0.01)) == pytest.approx(10.0 + 0.045)
    assert float(psnr(torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.1))) == pytest.approx(20.0)


def test_paper_configuration() -> None:
    """N = 1089 (33x33 filters, stride 33), M = 272 at 25 %, K = 30, z = 32, gamma 0.01, 100 + 10 epochs at
    1e-4 then 1e-5 (33 then 99 blocks); every phase has at least 10 convolutions."""
    config = paper()
    assert (config.block, config.n, config.m, config.phases, config.channels) == (33, 1089, 272, 30, 32)
    assert (config.gamma, config.lr, config.epochs, config.lr2, config.epochs2) == (0.01, 1e-4, 100, 1e-5, 10)
    assert (config.stage1_size, config.stage2_size) == (33, 99)
    assert [ratio(r).m for r in (0.01, 0.04, 0.10, 0.25, 0.50)] == [10, 43, 109, 272, 545]
    assert STANDARD_M[0.25] == 272
    net = build(config)  # 1.35M parameters: cheap to build (the orthogonal parametrisation needs real tensors)
    assert tuple(net.sampling.weight.shape) == (272, 1, 33, 33) and len(net.phases) == 30
    convs = sum(isinstance(m, torch.nn.Conv2d) for m in net.phases[0].modules()) + 1  # + the 1x1 orthogonal U
    assert convs >= 10
    assert net.p_block[-1].out_channels == 31  # u0 = [x0, P(x0)] has z = 32 channels


def test_training_beats_the_initial_estimate() -> None:
    """Fifteen steps on natural-image crops (scikit-image; synthetic images without it): the recovery subnet
    reconstructs held-out images better than the initial estimate Phi^T y."""
    source = "natural" if has_skimage() else "synthetic"
    config = replace(tiny(), steps=15)   # measured: 12.0 dB untrained -> 18.1 dB (Phi^T y alone: 9.7 dB)
    model = zoo.build("invics-tiny", config=config, seed=0)
    before = evaluate(model, make_data(config, source, "test"))
    train(model, make_data(config, source, "train"), config, TrainOptions(progress=False, seed=0))
    after = evaluate(model, make_data(config, source, "test"))
    assert after["psnr"] > before["psnr"] + 3.0
    assert after["psnr"] > after["psnr_initial"] + 3.0
