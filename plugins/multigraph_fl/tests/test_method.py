"""The plugin through the zoo contract: conformance, infer (cycle-time table), pictures, DPASGD on digits."""
from __future__ import annotations

import torch

import zoo
from zoo.options import TrainOptions


def test_conformance():
    import zoo.testing as t

    checks = t.check_method("multigraph-fl").checks
    assert "safetensors round trip gives identical outputs" in checks


def test_infer_gives_every_topology_and_the_paper_model_sizes():
    model = zoo.build("multigraph-fl-tiny")
    inputs = zoo.example_inputs(model)
    out = zoo.infer(model, inputs)
    assert list(out["cycle_time_ms"]) == ["STAR", "MATCHA", "MATCHA+", "MST", "delta-MBST", "RING", "MULTIGRAPH"]
    assert out["model_bits"] == 32 * sum(p.numel() for p in model.parameters())
    femnist = zoo.infer(model, inputs, dataset="femnist", baselines="false", rounds=120)
    assert femnist["model_bits"] == 4_843_243 and femnist["compute_ms"] == 4.6
    assert set(femnist["cycle_time_ms"]) == {"RING", "MULTIGRAPH"}
    assert femnist["cycle_time_ms"]["MULTIGRAPH"] <= femnist["cycle_time_ms"]["RING"]
    big = zoo.infer(model, inputs, dataset="femnist", size="params", baselines="false", rounds=120)
    assert big["model_bits"] == 32 * 1_207_166  # the FEMNIST CNN's fp32 parameters: 8x the paper's "4.62 Mb"


def test_prepare_inputs_and_save_outputs(tmp_path):
    from zoo import discovery

    model = zoo.build("multigraph-fl-tiny")
    found = discovery.plugins()
    options = {"network": "toy:5", "model": "femnist", "baselines": "false", "rounds": 30}
    inputs = found.call("zoo_prepare_inputs", "multigraph-fl", config=model.zoo.config, options=options)
    assert inputs["distance"].shape == (5, 5)
    out = zoo.infer(model, inputs, **options)
    paths = found.call("zoo_save_outputs", "multigraph-fl", config=model.zoo.config, outputs=out, out_dir=tmp_path, options=options)
    names = {p.name for p in paths}
    assert {"underlay.png", "overlay_ring.png", "multigraph.png", "cycle_times.txt"} <= names
    assert all(p.stat().st_size > 0 for p in paths)


def test_dpasgd_over_the_multigraph_beats_chance_on_digits():
    torch.set_num_threads(1)
    model = zoo.build("multigraph-fl-tiny")
    data = zoo.make_data(model, "digits", "train")
    assert data.federated.num_clients == 6
    result = zoo.train(model, data, options=TrainOptions(steps=40, progress=False, seed=0))
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.metrics["num_states"] > 1 and result.metrics["cycle_time_ms"] > 0
    acc = zoo.evaluate(model, zoo.make_data(model, "digits", "test"))["accuracy"]
    assert acc > 0.5  # chance is 0.1


def test_each_silo_keeps_one_adam_across_rounds_with_sqrt_decay():
    """The public code keeps one Adam per silo and decays its lr as 1/sqrt(t) over the silo's local steps."""
    import zoo_plugins.multigraph_fl.config as C
    from zoo_plugins.multigraph_fl.train import make_simulator

    assert C.paper().lr_schedule == "sqrt" and C.tiny().lr_schedule == "sqrt"
    model = zoo.build("multigraph-fl-tiny")
    sim = make_simulator(model, zoo.make_data(model, "digits", "train"), model.zoo.config, seed=0)
    assert sim.runtime.recipe.lr_schedule == "sqrt" and sim.runtime.recipe.optimizer_state == "persist"
    sim.run(3)
    for k in range(sim.num_clients):
        state = sim.node_state(k)
        assert float(state["opt.t"].reshape(-1)[0]) == 3.0 and state["opt.v"].abs().sum() > 0
