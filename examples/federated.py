"""Federated baselines on non-IID silos: FedAvg, FedProx and SCAFFOLD on scikit-learn's digits.

The training split is divided among 10 silos with a Dirichlet(0.3) label skew by the shared federated engine
(``zoo.engines.federated``: partitioners, the in-process simulator, aggregation through ``ops.mix``). The
example prints how skewed the silos are, then trains each baseline for the same number of rounds with
``zoo.train`` (the model ends holding the global weights) and compares test accuracy and the bytes exchanged.

    python examples/federated.py                 # 30 rounds per method (the tiny variants' recipe)
    python examples/federated.py --quick         # 2 rounds (what the tests run)
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

METHODS = ("fedavg", "fedprox", "scaffold")


def main(argv: Sequence[str] | None = None) -> int:
    """Show the silos' label skew, then train and compare the three baselines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds per method (for tests)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per method (default: the variant's)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary folder)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="zoo-example-federated-"))
    out.mkdir(parents=True, exist_ok=True)
    rounds = 2 if args.quick else args.rounds

    import torch

    import zoo
    from zoo.io import atomic_write_json
    from zoo.engines import federated as fl

    cfg = zoo.get_config("fedavg-tiny")
    train = zoo.make_data("fedavg-tiny", "digits", "train")
    test = zoo.make_data("fedavg-tiny", "digits", "test")
    parts = fl.dirichlet(train.y.numpy(), cfg.num_clients, cfg.alpha, cfg.seed, min_size=2)
    hist = fl.label_histogram(train.y.numpy(), parts, cfg.num_classes)
    print(f"{cfg.num_clients} silos, Dirichlet({cfg.alpha}) label skew over {len(train.y)} digits:")
    for silo, row in enumerate(hist):
        top = row.argmax()
        share = row[top] / max(row.sum(), 1)
        print(f"  silo {silo}: {int(row.sum()):4d} samples, {share:.0%} of them are '{top}'")

    results: dict[str, dict[str, float]] = {}
    for method in METHODS:
        torch.manual_seed(0)
        model = zoo.build(f"{method}-tiny")
        trained = zoo.train(model, train, steps=rounds, out_dir=str(out / method), progress=False)
        acc = zoo.evaluate(model, test)["accuracy"]
        results[method] = {"rounds": float(trained.steps), "accuracy": acc,
                           "megabytes": trained.metrics["bytes_total"] / 2**20}
    print(f"{'method':<9} {'rounds':>6} {'test accuracy':>14} {'MB exchanged':>13}")
    for method, r in results.items():
        print(f"{method:<9} {int(r['rounds']):>6} {r['accuracy']:14.3f} {r['megabytes']:13.2f}")
    atomic_write_json(out / "results.json", results)
    print(f"outputs in {out} (per-round history in <method>/history.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
