"""ForwardGNN: virtual class nodes and scores by hand, per-layer optimizers on detached inputs, inference by summed
per-layer scores, the FF label appending, and node classification on the karate club and an SBM."""
from __future__ import annotations

import contextlib
import dataclasses

import pytest
import torch

import zoo
import zoo.testing
from zoo.engines.local_learning.forward_forward import layer_goodness
from zoo.errors import ConfigError, InputError
from zoo.options import TrainOptions
from zoo_plugins.forward_gnn.config import ForwardGNNConfig, ff, paper, sbm, tiny
from zoo_plugins.forward_gnn.data import make_data
from zoo_plugins.forward_gnn.model import ForwardGNN, class_scores, label_features, with_class_nodes
from zoo_plugins.forward_gnn.train import accuracy, backward_fn_for, train, wrong_labels


def test_conforms() -> None:
    zoo.testing.check_method("forwardgnn")


def test_paper_sizes() -> None:
    config = paper()
    assert (config.num_layers, config.hidden, config.lr, config.epochs, config.conv) == (4, 128, 1e-3, 1000, "gcn")
    net = zoo.build("forwardgnn-paper")
    assert sum(p.numel() for p in net.parameters()) == (16 * 128 + 128) + 3 * (128 * 128 + 128)
    with pytest.raises(ConfigError, match="GNN layer"):
        ForwardGNNConfig(conv="gin")


def test_virtual_class_nodes_by_hand() -> None:
    x = torch.tensor([[1.0, 0.0], [3.0, 2.0], [0.0, 4.0], [5.0, 5.0]])
    edges = torch.tensor([[0, 1], [1, 0]])
    labels = torch.tensor([0, 0, 1, -1])
    x_aug, e_aug = with_class_nodes(x, edges, labels, 2)
    torch.testing.assert_close(x_aug[4:], torch.tensor([[2.0, 1.0], [0.0, 4.0]]))  # class means of known nodes
    added = set(map(tuple, e_aug[:, 2:].T.tolist()))
    assert added == {(0, 4), (4, 0), (1, 4), (4, 1), (2, 5), (5, 2)}  # node 3 (unknown) joins no class node
    x_none, _ = with_class_nodes(x, edges, torch.tensor([0, 0, -1, -1]), 2)  # class 1 has no labelled node
    torch.testing.assert_close(x_none[5], torch.zeros(2))  # zero features, not 0/0
    h = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [3.0, 0.0], [0.0, 1.0]])
    r = 0.5 ** 0.5  # real nodes [1,0], [0,2], [1,1] against class nodes [3,0], [0,1]: cosines / 0.5
    torch.testing.assert_close(class_scores(h, 3, 2, 0.5), torch.tensor([[1.0, 0.0], [0.0, 1.0], [r, r]]) / 0.5)
    h[3] = torch.tensor([3.0, 1.0])  # class nodes off the axes: each vector is normalised on its own
    cosines = torch.nn.functional.cosine_similarity(h[:3, None, :], h[None, 3:5, :], dim=-1)
    torch.testing.assert_close(class_scores(h, 3, 2, 0.5), cosines / 0.5)


def test_inference_averages_every_layers_class_probabilities() -> None:
    torch.manual_seed(0)
    model = zoo.build("forwardgnn-tiny")
    graph = make_data(model.zoo.config, "karate", "test")[0]
    x_aug, edges = with_class_nodes(graph.x, graph.edge_index, graph.known_labels(), 2)
    states = model.layer_states(x_aug, edges)
    expected = torch.stack([torch.softmax(class_scores(h, 34, 2, 0.5), 1) for h in states]).mean(0)
    torch.testing.assert_close(model.predict(graph.x, graph.edge_index, graph.known_labels()), expected)
    bp = zoo.build("forwardgnn-tiny", rule="bp")  # BP is trained through the last layer's scores only
    last = bp.layer_states(x_aug, edges)[-1]
    torch.testing.assert_close(bp.predict(graph.x, graph.edge_index, graph.known_labels()),
                               torch.softmax(class_scores(last, 34, 2, 0.5), 1))
    ffm, labels = zoo.build("forwardgnn-ff"), graph.known_labels()  # FF: goodness summed over layers
    sums = []
    for c in range(2):
        candidate = torch.where(labels >= 0, labels, torch.full_like(labels, c))
        goodness = layer_goodness(ffm.layers, label_features(graph.x, candidate, 2), ffm.config.theta,
                                  (graph.edge_index,))
        assert len(goodness) > 1
        sums.append(sum(goodness))
    torch.testing.assert_close(ffm.predict(graph.x, graph.edge_index, labels),
                               torch.softmax(torch.stack(sums, 1), 1))


def test_layers_learn_alone_with_their_own_optimizer_on_detached_inputs() -> None:
    torch.manual_seed(0)
    model = zoo.build("forwardgnn-tiny")
    graph = make_data(model.zoo.config, "karate", "train")[0]
    inputs: list[torch.Tensor] = []
    for layer in model.layers:
        layer.register_forward_pre_hook(lambda m, args: inputs.append(args[0]))
    reached: list[list[int]] = []

    class Tools:  # records which layer each local loss reaches; steps nothing
        optimizer = [None, None]

        @staticmethod
        def backward(loss: torch.Tensor, name: str) -> float:
            grads = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
            owners = [i for i, layer in enumerate(model.layers) for _ in layer.parameters()]
            reached.append(sorted({o for o, g in zip(owners, grads) if g is not None}))
            return float(loss.detach())

        @staticmethod
        def step(optimizer: object) -> None:
            pass

        autocast = staticmethod(contextlib.nullcontext)

    backward_fn_for(model.zoo.config)(model, graph, Tools())
    assert reached == [[0], [1]]
    assert all(t.grad_fn is None for t in inputs)
    result = zoo.train(model, make_data(model.zoo.config, "karate", "train"), steps=2, progress=False)
    assert len(result.history["layer_loss_0"]) == 2


def test_forward_forward_inputs_append_the_label() -> None:
    x = torch.zeros(3, 2)
    feats = label_features(x, torch.tensor([1, -1, 0]), 2)
    torch.testing.assert_close(feats[:, 2:], torch.tensor([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]))
    y = torch.randint(0, 4, (200,))
    assert not bool((wrong_labels(y, 4) == y).any())


def _fit_accuracy(config: ForwardGNNConfig, epochs: int, seed: int = 0) -> float:
    graphs = make_data(config, config.dataset, "train")
    torch.manual_seed(seed)
    model = ForwardGNN(config)
    train(model, graphs, config, TrainOptions(steps=epochs, progress=False, seed=seed))
    return accuracy(model, graphs[0])


def test_single_forward_classifies_the_karate_club() -> None:
    assert _fit_accuracy(tiny(), 80) >= 0.85  # identity features: the graph does the work; 2 classes


def test_forward_forward_classifies_the_karate_club() -> None:
    assert _fit_accuracy(ff(), 80) >= 0.85


def test_single_forward_learns_an_sbm_from_its_edges() -> None:
    config = dataclasses.replace(sbm(), sbm_sizes=(30, 30, 30))
    assert _fit_accuracy(config, 100) > 0.6  # chance 1/3; the features alone give about chance


def test_bad_graph_inputs_are_rejected() -> None:
    model = zoo.build("forwardgnn-tiny")
    inputs = zoo.example_inputs(model)
    with pytest.raises(InputError, match="edge_index"):
        zoo.infer(model, {**inputs, "edge_index": inputs["edge_index"] + 100})
    with pytest.raises(InputError, match="labels"):
        zoo.infer(model, {**inputs, "labels": inputs["labels"] + 5})
