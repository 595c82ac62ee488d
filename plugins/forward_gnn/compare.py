"""ForwardGNN's rules against back-propagation on the same GNN, on the karate club and an SBM graph.

    python -m zoo_plugins.forward_gnn.compare --seeds 3

Test-node accuracy after the variant's epochs for single-forward (SF), forward-forward (FF) and BP, with GCN,
GraphSAGE and GAT layers; the SBM row also shows a features-only logistic regression (what the graph adds).
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics

import torch

from zoo.options import TrainOptions
from zoo_plugins.forward_gnn.config import ForwardGNNConfig, sbm, tiny
from zoo_plugins.forward_gnn.data import make_data
from zoo_plugins.forward_gnn.model import ForwardGNN
from zoo_plugins.forward_gnn.train import accuracy, train


def run(config: ForwardGNNConfig, seeds: int) -> tuple[float, float]:
    """Mean and standard deviation of the test-node accuracy over seeds."""
    graph = make_data(config, config.dataset, "train")
    accs = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        model = ForwardGNN(config)
        train(model, graph, config, TrainOptions(seed=seed, progress=False))
        accs.append(accuracy(model, graph[0]))
    return statistics.mean(accs), statistics.stdev(accs) if seeds > 1 else 0.0


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'graph':<7} {'layer':<5} {'SF':>16} {'FF':>16} {'BP':>16}")
    for graph_config in (tiny(), sbm()):
        for conv in ("gcn", "sage", "gat"):
            cells = []
            for rule in ("sf", "ff", "bp"):
                hidden = 32 if rule == "ff" else graph_config.hidden
                config = dataclasses.replace(graph_config, conv=conv, rule=rule, hidden=hidden, epochs=args.epochs)
                mean, sd = run(config, args.seeds)
                cells.append(f"{mean:.4f} ± {sd:.4f}")
            print(f"{graph_config.dataset:<7} {conv:<5} {cells[0]:>16} {cells[1]:>16} {cells[2]:>16}")
    from sklearn.linear_model import LogisticRegression

    g = make_data(sbm(), "sbm", "train")[0]
    clf = LogisticRegression(max_iter=2000).fit(g.x[g.train_mask].numpy(), g.y[g.train_mask].numpy())
    print(f"(sbm, node features only, logistic regression: {clf.score(g.x[g.test_mask].numpy(), g.y[g.test_mask].numpy()):.4f}; "
          f"{args.epochs} epochs, {args.seeds} seed(s); karate: 30% of members labelled, sbm: 20%)")


if __name__ == "__main__":
    main()
