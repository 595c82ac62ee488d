"""LDL-VA trains beyond chance on synthetic faces, learns higher uncertainty for flipped labels, separates its
centres; label-noise injection; conformance."""
from __future__ import annotations

import pytest
import torch

import zoo
from zoo.options import TrainOptions
from zoo_plugins.ldl_va.data import FaceSet, inject_label_noise, synthetic
from zoo_plugins.ldl_va.train import LDLVATraining, make_step_fn, neighbour_dataset


def test_tiny_trains_beyond_chance_with_noisy_labels() -> None:
    torch.manual_seed(0)
    model = zoo.build("ldl-va-tiny", train_size=280, test_size=140, label_noise=0.3, batch_size=16)
    train = zoo.make_data(model, "synthetic", "train")
    assert abs(train.noise_rate - 0.3) < 0.01
    separation0 = torch.pdist(model.centers.detach()).min()
    result = zoo.train(model, train, options=TrainOptions(steps=60, progress=False, seed=0))
    acc = zoo.evaluate(model, zoo.make_data(model, "synthetic", "test"))["accuracy"]
    assert acc > 0.3, acc  # chance is 1/7 = 0.143
    lam = result.extra["uncertainty"]
    assert lam.shape == (280,) and bool(((lam > 0) & (lam < 1)).all())
    assert result.metrics["lambda_flipped"] > result.metrics["lambda_clean"]  # flipped labels look uncertain
    assert torch.pdist(model.centers.detach()).min() > separation0  # centres start at 0 and separate
    assert {"l_cls", "l_d", "lambda_mean", "zeta_mean"} <= set(result.history)


def test_one_step_gives_uncertainty_and_calibration_gradients() -> None:
    torch.manual_seed(0)
    model = zoo.build("ldl-va-tiny")
    config = model.zoo.config
    data = neighbour_dataset(synthetic(config, "train"), config)
    from torch.utils.data import default_collate

    batch = default_collate([data[i] for i in range(8)])
    assert batch["neighbour_faces"].shape == (8, 4, 3, 32, 32)
    training = LDLVATraining(model, len(data), config.lambda_init)
    lam_opt = torch.optim.SGD([training.uncertainty_logits], lr=10.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    calib_before = [p.detach().clone() for p in model.calibration.parameters()]
    before = training.uncertainty_logits.detach().clone()
    make_step_fn(config, lam_opt)(training, batch, opt)
    moved = (training.uncertainty_logits.detach() - before).abs()
    assert bool((moved[:8] > 0).all()) and bool((moved[8:] == 0).all())  # only the batch's lambdas move
    assert any(not torch.equal(a, b) for a, b in zip(calib_before, model.calibration.parameters()))


def test_label_noise_flips_the_requested_fraction_to_other_classes() -> None:
    base = FaceSet(torch.arange(200) % 7, torch.zeros(200, 2), tuple("abcdefg"), faces=torch.zeros(200, 3, 4, 4))
    noisy = inject_label_noise(base, 0.3, seed=1)
    flipped = noisy.labels != noisy.clean_labels
    assert int(flipped.sum()) == 60 and torch.equal(noisy.clean_labels, base.labels)
    assert torch.equal(inject_label_noise(base, 0.3, seed=1).labels, noisy.labels)
    assert not torch.equal(inject_label_noise(base, 0.3, seed=2).labels, noisy.labels)


def test_plain_ce_baseline_runs_without_neighbours() -> None:
    torch.manual_seed(0)
    model = zoo.build("ldl-va-tiny", loss="ce", train_size=70)
    result = zoo.train(model, options=TrainOptions(steps=3, progress=False))
    assert "l_cls" not in result.history and len(result.history["loss"]) == 3


def test_conformance_and_wrong_size() -> None:
    import pytest

    from zoo.errors import InputError

    assert "infer" in zoo.testing.check_method("ldl-va").checks
    model = zoo.build("ldl-va-tiny")
    with pytest.raises(InputError, match="32, 32"):
        zoo.infer(model, {"image": torch.rand(1, 3, 48, 48)})


def test_code_preset_options_train() -> None:
    """The authors' code choices (L1 similarity, /V repulsion, centre-loss update, clamped calibration) run."""
    torch.manual_seed(0)
    model = zoo.build("ldl-va-tiny", similarity="l1", repulsion="linear", center_update="code",
                      calibration_clamp=True, train_size=64)
    result = zoo.train(model, options=TrainOptions(steps=3, progress=False))
    assert len(result.history["l_d"]) == 3
    assert model.centers.detach().abs().sum() > 0  # moved by the code's centre update, not by the optimiser
    assert result.history["zeta_mean"][-1] >= torch.sigmoid(torch.tensor(-1.3)).item() - 1e-6


def test_one_step_loss_is_l_cls_plus_gamma_l_d_with_the_papers_weights() -> None:
    """One training step, augmentation off, recomputed from the pure functions: L = L_cls(d, f(x)) + gamma L_D with
    d built from the (gradient-free) neighbour predictions and L_D weighted by 1 - lambda; lambda gets its gradient
    from L_cls only (the centre term's weight is detached), and the step moves u by -lambda_lr * that gradient."""
    import dataclasses

    from torch.utils.data import default_collate

    from zoo_plugins.ldl_va.losses import discriminative_loss, distribution_cross_entropy, target_distribution

    torch.manual_seed(0)
    model = zoo.build("ldl-va-tiny", augment=False, gamma=0.3)
    config = dataclasses.replace(model.zoo.config, va_source="clean")
    data = neighbour_dataset(synthetic(config, "train"), config)
    batch = default_collate([data[i] for i in range(6)])
    training = LDLVATraining(model, len(data), config.lambda_init)
    with torch.no_grad():
        training.uncertainty_logits[:6] = torch.tensor([-1.0, 0.0, 0.5, 1.0, -2.0, 2.0])
    model.eval()  # BN in eval on both sides: the recomputation sees the same numbers as the step
    u = training.uncertainty_logits.detach()[batch["index"]].clone().requires_grad_(True)
    logits, v = model(batch["face"])
    with torch.no_grad():
        nb_logits, nb_v = model(batch["neighbour_faces"].flatten(0, 1))
    lam = torch.sigmoid(u)
    zeta = model.calibration(v, nb_v.view(6, 4, -1))
    d, _ = target_distribution(batch["label"], 7, nb_logits.softmax(1).view(6, 4, -1), batch["similarity"], zeta,
                               lam)
    l_cls = distribution_cross_entropy(d, logits)
    l_d = discriminative_loss(v, batch["label"], model.centers, 1 - lam.detach(), "sqrt")
    (u_grad,) = torch.autograd.grad(l_cls, u, retain_graph=True)
    lam_opt = torch.optim.SGD([training.uncertainty_logits], lr=config.lambda_lr)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    logs = make_step_fn(config, lam_opt)(training, batch, opt)
    assert logs["l_cls"] == pytest.approx(float(l_cls), rel=1e-5)
    assert logs["l_d"] == pytest.approx(float(l_d), rel=1e-5)
    assert logs["loss"] == pytest.approx(float(l_cls) + 0.3 * float(l_d), rel=1e-5)
    torch.testing.assert_close(training.uncertainty_logits.detach()[:6], u.detach() - config.lambda_lr * u_grad)


@pytest.mark.parametrize("lambda_init", [0.1, 0.3, 0.8])
def test_every_sample_starts_at_the_configured_lambda(lambda_init: float) -> None:
    """u^i = logit(lambda_init), so sigmoid(u^i) = lambda_init for every sample before training."""
    training = LDLVATraining(zoo.build("ldl-va-tiny"), 7, lambda_init)
    torch.testing.assert_close(training.uncertainty(), torch.full((7,), lambda_init))
    assert not training.uncertainty().requires_grad  # a read-out, not part of the graph
