"""FedAvg, FedProx and SCAFFOLD plugins: contract, maths, and learning on digits (Dirichlet 0.3, 10 clients)."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

import zoo
from zoo.engines import federated as fl
from zoo.errors import InputError
from zoo_plugins.fl_baselines.algorithms import FedAvg, FedProx, Scaffold
from zoo_plugins.fl_baselines.train import make_simulator

METHODS = ("fedavg", "fedprox", "scaffold")


@pytest.fixture(scope="module")
def digits() -> tuple:
    cfg = zoo.get_config("fedavg-tiny")
    from zoo_plugins.fl_baselines.data import make_data

    return make_data(cfg, "digits", "train"), make_data(cfg, "digits", "test")


@pytest.mark.parametrize("method", METHODS)
def test_learns_digits_under_label_skew(method: str, digits: tuple) -> None:
    train, test = digits
    torch.manual_seed(0)
    model = zoo.build(f"{method}-tiny")
    cfg = model.zoo.config
    assert (cfg.num_clients, cfg.partition, cfg.alpha) == (10, "dirichlet", 0.3)
    result = zoo.train(model, (train, test), steps=20)
    acc = zoo.evaluate(model, test)["accuracy"]
    assert acc == pytest.approx(result.metrics["accuracy"])
    assert acc > 0.5  # chance is 0.1
    assert result.history["loss"][-1] < result.history["loss"][0]


def test_fedprox_with_mu_zero_is_fedavg(digits: tuple) -> None:
    train, _ = digits
    cfg = replace(zoo.get_config("fedavg-tiny"), rounds=2)
    vecs = []
    for c in (cfg, replace(cfg, method="fedprox", mu=0.0), replace(cfg, method="fedprox", mu=0.5)):
        torch.manual_seed(0)
        sim = make_simulator(zoo.build("fedavg-tiny"), train, c)
        sim.run(2)
        vecs.append(sim.global_vec)
    assert torch.equal(vecs[0], vecs[1])
    assert not torch.allclose(vecs[0], vecs[2])


def test_scaffold_control_variates(digits: tuple) -> None:
    train, _ = digits
    cfg = replace(zoo.get_config("scaffold-tiny"), num_clients=4)
    torch.manual_seed(0)
    sim = make_simulator(zoo.build("scaffold-tiny"), train, cfg)
    assert isinstance(sim.algorithm, Scaffold)
    records = sim.run(3).rounds
    c_i = torch.stack([sim.client_state(k)["c"] for k in range(4)])
    # with full participation the server variate stays the mean of the client variates
    assert torch.allclose(sim.server_state["c"], c_i.mean(0), atol=1e-6)
    assert c_i.abs().sum() > 0
    p = sim.layout.numel
    assert records[0].bytes_up == 4 * 2 * p * 4 and records[0].bytes_down == 4 * 2 * p * 4  # model + variate


def test_scaffold_partial_participation_updates_c_by_the_sampled_share(digits: tuple) -> None:
    train, _ = digits
    cfg = replace(zoo.get_config("scaffold-tiny"), num_clients=6, fraction=0.5)
    torch.manual_seed(0)
    sim = make_simulator(zoo.build("scaffold-tiny"), train, cfg)
    c_before = torch.stack([sim.client_state(k)["c"] for k in range(6)])
    rec = sim.round()
    c_after = torch.stack([sim.client_state(k)["c"] for k in range(6)])
    delta = (c_after - c_before)[rec.clients].mean(0)
    assert torch.allclose(sim.server_state["c"], len(rec.clients) / 6 * delta, atol=1e-7)
    untouched = [k for k in range(6) if k not in rec.clients]
    assert torch.equal(c_after[untouched], c_before[untouched])


@pytest.mark.parametrize("method", METHODS)
def test_infer_contract(method: str) -> None:
    model = zoo.build(f"{method}-tiny")
    out = zoo.infer(model, zoo.example_inputs(model))
    assert out["probs"].shape == (2, 10) and torch.allclose(out["probs"].sum(-1), torch.ones(2))
    with pytest.raises(InputError):
        zoo.infer(model, {"image": torch.rand(2, 1, 9, 9)})
    with pytest.raises(InputError):
        zoo.infer(model, {"image": torch.full((2, 1, 8, 8), float("nan"))})


@pytest.mark.parametrize("method", METHODS)
def test_paper_variants_build_and_run(method: str) -> None:
    model = zoo.build(f"{method}-paper")
    cfg = model.zoo.config
    assert cfg.image_size == 28
    out = zoo.infer(model, zoo.example_inputs(model))
    assert out["probs"].shape == (2, 10)
    n_params = sum(p.numel() for p in model.parameters())
    expected = {"fedavg": 1_663_370, "fedprox": 7_850, "scaffold": 199_210}[method]
    assert n_params == expected


def test_synthetic_source_is_learnable() -> None:
    cfg = replace(zoo.get_config("fedavg-tiny"), num_clients=4, rounds=8, lr=0.2)
    from zoo_plugins.fl_baselines.data import make_data

    train, test = make_data(cfg, "synthetic", "train"), make_data(cfg, "synthetic", "test")
    torch.manual_seed(0)
    model = zoo.build("fedavg-tiny")
    sim = make_simulator(model, train, cfg, test)
    hist = sim.run(8, eval_every=8)
    assert hist.rounds[-1].metrics["accuracy"] > 0.5
    assert isinstance(sim.sampler, fl.AllClients)


def test_train_writes_history(tmp_path, digits: tuple) -> None:
    import json

    train, test = digits
    model = zoo.build("fedavg-tiny")
    result = zoo.train(model, (train, test), steps=2, out_dir=str(tmp_path))
    records = json.loads((tmp_path / "history.json").read_text())
    assert [r["round"] for r in records] == [0, 1] and records[0]["clients"] == list(range(10))
    assert result.steps == 2 and result.metrics["bytes_total"] == sum(r["bytes_up"] + r["bytes_down"] for r in records)


# ------------------------------------------------------------------------------------ the algorithms, pinned
class _W(torch.nn.Module):
    """One parameter ``w``."""

    def __init__(self, w0: float) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([w0], dtype=torch.float64))


def _quad(model: torch.nn.Module, batch: tuple) -> torch.Tensor:
    a, b = batch
    return (0.5 * a * (model.w - b) ** 2).mean()  # client k: f_k(w) = a_k (w - b_k)^2 / 2


def _quad_data(a: list[float], b: list[float]) -> fl.FederatedData:
    return fl.FederatedData.per_silo([torch.utils.data.TensorDataset(torch.tensor([[x]], dtype=torch.float64),
                                                                     torch.tensor([[y]], dtype=torch.float64))
                                      for x, y in zip(a, b)])


def _quad_sim(algorithm: fl.Algorithm, a: list[float], b: list[float], w0: float, steps: int, lr: float,
              **kw: object) -> fl.FederatedSimulator:
    return fl.FederatedSimulator(_W(w0), _quad, _quad_data(a, b), algorithm=algorithm,
                                 recipe=fl.LocalRecipe(steps=steps, batch_size=1, lr=lr), **kw)


def test_scaffold_two_clients_one_parameter_by_hand() -> None:
    """Two rounds of SCAFFOLD (option II, full participation, uniform weights, server lr 1) written out from the
    paper's equations: y <- y - lr (g_i(y) - c_i + c); c_i+ = c_i - c + (x - y) / (K lr);
    x <- x + mean(dy); c <- c + |S|/N mean(dc)."""
    a, b, x, lr, steps = [1.0, 4.0], [0.0, 1.0], 2.0, 0.1, 3
    c, ci = 0.0, [0.0, 0.0]
    xs = []
    for _ in range(2):
        dys, dcs = [], []
        for k in range(2):
            y = x
            for _ in range(steps):
                y = y - lr * (a[k] * (y - b[k]) - ci[k] + c)
            new = ci[k] - c + (x - y) / (steps * lr)
            dys.append(y - x)
            dcs.append(new - ci[k])
            ci[k] = new
        x = x + sum(dys) / 2
        c = c + (2 / 2) * sum(dcs) / 2
        xs.append(x)
    sim = _quad_sim(Scaffold(weighting="uniform"), a, b, 2.0, steps, lr)
    for expected in xs:
        sim.round()
        assert sim.global_vec.item() == pytest.approx(expected, abs=1e-12)
    assert sim.server_state["c"].item() == pytest.approx(c, abs=1e-12)
    assert [sim.client_state(k)["c"].item() for k in range(2)] == pytest.approx(ci, abs=1e-12)
    fedavg = _quad_sim(FedAvg(weighting="uniform"), a, b, 2.0, steps, lr)
    fedavg.run(2)
    assert abs(fedavg.global_vec.item() - xs[-1]) > 1e-3  # the correction changes round 2


def test_scaffold_reaches_the_optimum_where_fedavg_drifts() -> None:
    """Heterogeneous quadratics, 10 local steps: FedAvg's fixed point is not argmin sum f_k = sum a b / sum a;
    SCAFFOLD's is."""
    a, b = [1.0, 10.0], [0.0, 1.0]
    optimum = sum(x * y for x, y in zip(a, b)) / sum(a)
    runs = {}
    for name, alg in (("fedavg", FedAvg(weighting="uniform")), ("scaffold", Scaffold(weighting="uniform"))):
        sim = _quad_sim(alg, a, b, 3.0, 10, 0.05)
        sim.run(40)  # SCAFFOLD is within 4e-13 of the optimum after 40 rounds (float64)
        runs[name] = sim.global_vec.item()
    assert runs["scaffold"] == pytest.approx(optimum, abs=1e-9)
    assert abs(runs["fedavg"] - optimum) > 0.1  # FedAvg's fixed point: 0.196 away


def test_fedprox_mu_zero_is_fedavg_bit_for_bit_and_its_gradient_by_hand() -> None:
    a, b, lr, mu = [2.0], [1.0], 0.1, 0.5
    base = _quad_sim(FedAvg(), a, b, 3.0, 3, lr)
    prox0 = _quad_sim(FedProx(0.0), a, b, 3.0, 3, lr)
    base.run(2)
    prox0.run(2)
    assert torch.equal(base.global_vec, prox0.global_vec)
    # three proximal steps from w0 = 3: g = a (w - b) + mu (w - w0)
    w0 = w = 3.0
    for _ in range(3):
        w = w - lr * (a[0] * (w - b[0]) + mu * (w - w0))
    prox = _quad_sim(FedProx(mu), a, b, 3.0, 3, lr)
    prox.round()
    assert prox.global_vec.item() == pytest.approx(w, abs=1e-12)
    plain = 3.0
    for _ in range(3):
        plain = plain - lr * a[0] * (plain - b[0])
    assert abs(w - plain) > 1e-3  # the proximal term matters from the second step on


def test_batched_execution_gives_the_sequential_weights(digits: tuple) -> None:
    """Round by round from the same state (server model and every client's stored state), the batched trainer
    (torch.func) gives the sequential loop's global model and client states to float rounding. (Over several
    rounds a 1e-8 rounding difference can grow at ReLU kinks, so rounds are compared from a common start.)"""
    train, _ = digits
    for method in ("fedavg", "fedprox", "scaffold"):
        cfg = replace(zoo.get_config(f"{method}-tiny"), num_clients=6, fraction=0.5, mu=0.1)
        sims = {}
        for execution in ("sequential", "batched"):
            torch.manual_seed(0)
            sims[execution] = make_simulator(zoo.build(f"{method}-tiny"), train, cfg, execution=execution)
        seq, bat = sims["sequential"], sims["batched"]
        for _ in range(2):
            bat.global_vec = seq.global_vec.clone()
            bat.cohorts["default"].server_state = {k: v.clone() for k, v in seq.server_state.items()}
            for k in seq.store.clients():
                bat.store.put(k, seq.store.get(k))
            rec_s, rec_b = seq.round(), bat.round()
            assert rec_s.clients == rec_b.clients and rec_s.steps == rec_b.steps
            assert torch.allclose(seq.global_vec, bat.global_vec, atol=1e-6), method
            for k in rec_s.clients:
                a, b = seq.raw_client_state(k), bat.raw_client_state(k)
                assert set(a) == set(b) and all(torch.allclose(a[key], b[key], atol=1e-5) for key in a), method


def test_server_learning_rate_scales_the_averaged_update_by_hand() -> None:
    """x <- x + lr_g * sum_k p_k (y_k - x) with p_k ∝ n_k (one sample each: uniform), lr_g = 0.5, 2 local steps."""
    a, b, lr, x0 = [1.0, 4.0], [0.0, 1.0], 0.1, 2.0
    ys = []
    for k in range(2):
        y = x0
        for _ in range(2):
            y = y - lr * a[k] * (y - b[k])
        ys.append(y)
    sim = _quad_sim(FedAvg(aggregator=fl.WeightedFedAvg(server_lr=0.5)), a, b, x0, 2, lr)
    sim.round()
    assert sim.global_vec.item() == pytest.approx(x0 + 0.5 * sum(y - x0 for y in ys) / 2, abs=1e-12)
