"""The example plugin's own tests: the zoo conformance kit, the paper's equations, a training experiment, every
optional hook, and the paper variant's size. Run them with ``python -m pytest examples/third_party_plugin/tests``
after ``pip install -e examples/third_party_plugin``."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
import zoo.testing
from zoo.errors import DataError, InputError
from zoo_protonet.losses import episode_loss, proto_logits, prototypes


def test_conforms_to_the_zoo_contract() -> None:
    report = zoo.testing.check_method("protonet")
    assert "method card has the five sections" in report.checks and not report.notes


def test_prototypes_are_class_means_and_logits_negative_squared_distances() -> None:
    z = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [9.0, 9.0]])
    labels = torch.tensor([0, 0, 1, 2])
    protos = prototypes(z, labels, 4)  # eq. 1; class 3 has no support image
    assert torch.equal(protos, torch.tensor([[1.0, 0.0], [0.0, 4.0], [9.0, 9.0], [0.0, 0.0]]))
    logits = proto_logits(torch.tensor([[1.0, 1.0]]), protos)  # eq. 2 before the softmax
    assert torch.equal(logits, torch.tensor([[-1.0, -10.0, -128.0, -2.0]]))


def test_squared_euclidean_is_a_linear_classifier() -> None:
    """Section 2.4 of the paper: -||z - c||^2 = 2 c.z - c.c - z.z, so the argmax is a linear model's."""
    g = torch.Generator().manual_seed(0)
    z, protos = torch.randn(7, 5, generator=g), torch.randn(3, 5, generator=g)
    linear = z @ (2 * protos).T - protos.pow(2).sum(-1)
    assert torch.allclose(proto_logits(z, protos) + z.pow(2).sum(-1, keepdim=True), linear, atol=1e-5)


def test_episode_loss_is_the_query_cross_entropy() -> None:
    embed = torch.nn.Identity()
    support = torch.tensor([[0.0, 0.0], [4.0, 0.0]])
    query = torch.tensor([[1.0, 0.0]])
    loss, stats = episode_loss(embed, support, torch.tensor([0, 1]), query, torch.tensor([0]), way=2)
    expected = -torch.log_softmax(torch.tensor([-1.0, -9.0]), 0)[0]
    assert torch.isclose(loss, expected) and stats["episode_accuracy"] == 1.0


def test_episodic_training_learns_the_digits() -> None:
    events: list[str] = []
    model = zoo.build("protonet-tiny", seed=0)
    test = zoo.make_data(model, "digits", "test")
    before = zoo.evaluate(model, test, episodes=100)
    result = zoo.train(model, zoo.make_data(model, "digits", "train"), steps=100, seed=0, progress=False,
                       callbacks=[lambda event, state: events.append(event)])
    after = zoo.evaluate(model, test, episodes=100)
    assert {"on_train_start", "on_step_end", "on_train_end"} <= set(events)  # callbacks reach the shared trainer
    assert len(result.history["loss"]) == 100
    assert after["accuracy"] > 0.9  # 10 classes: chance is 0.1
    assert after["fewshot_accuracy"] > before["fewshot_accuracy"] + 0.04  # 5-way 5-shot on held-out images


def test_command_line_hooks(tmp_path: Path) -> None:
    model = zoo.build("protonet-tiny", seed=0)
    from zoo import discovery
    from zoo.options import route_options

    found = discovery.plugins()
    digit = zoo.make_data(model, "digits", "test").images[0, 0].numpy() * 16
    np.save(tmp_path / "digit.npy", digit)
    prep, inf, save = route_options(found.methods["protonet"], {"image": str(tmp_path / "digit.npy"), "top_k": "3"},
                                    ("prepare_inputs", "infer", "save_outputs"))
    assert inf.top_k == 3  # typed from the string the command line gives
    inputs = found.call("zoo_prepare_inputs", "protonet", config=model.zoo.config, options=prep)
    assert inputs["image"].shape == (1, 1, 8, 8) and float(inputs["image"].max()) == 1.0
    outputs = zoo.infer(model, inputs, **inf)
    written = found.call("zoo_save_outputs", "protonet", outputs=outputs, out_dir=tmp_path / "out",
                         config=model.zoo.config, options=save)
    rows = json.loads(Path(written[0]).read_text())["predictions"]
    assert len(rows) == 1 and len(rows[0]["top_classes"]) == 3
    assert found.call("zoo_preprocessing", "protonet", config=model.zoo.config)["image_size"] == 8
    with pytest.raises(DataError, match="no such file"):
        found.call("zoo_prepare_inputs", "protonet", config=model.zoo.config,
                   options=prep.replace(image=str(tmp_path / "missing.png")))


def test_wrong_image_size_is_an_input_error() -> None:
    model = zoo.build("protonet-tiny")
    with pytest.raises(InputError, match=r"\(B, 1, 8, 8\)"):
        zoo.infer(model, {"image": torch.rand(1, 1, 9, 9)})


def test_paper_variant_sizes() -> None:
    """Four blocks of 64 3x3 filters (with batch norm) on 28x28 images give a 64-d embedding."""
    config = zoo.get_config("protonet-paper")
    assert (config.blocks, config.channels, config.embed_dim, config.way, config.shot) == (4, 64, 64, 60, 5)
    model = zoo.build("protonet-paper")
    conv = lambda c_in: c_in * 64 * 9 + 64 + 2 * 64  # noqa: E731 - weights, bias, batch-norm scale and shift
    assert sum(p.numel() for p in model.parameters()) == conv(1) + 3 * conv(64)
    assert model.embed(torch.zeros(2, 1, 28, 28)).shape == (2, 64)


def test_each_block_is_conv_batchnorm_relu_maxpool() -> None:
    """The paper's embedding block, in this order; the tiny variant has two of them (64-d on 8x8 digits)."""
    model = zoo.build("protonet-tiny")
    kinds = [type(m).__name__ for block in model.embed[:-1] for m in block]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"] * 2
    assert type(model.embed[-1]).__name__ == "Flatten" and model.prototypes.shape == (10, 64)
