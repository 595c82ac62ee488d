"""AugLocal vs end-to-end backprop on scikit-learn's digits: test accuracy and activation memory.

Supervised local learning splits a network into gradient-isolated modules, each trained by its own auxiliary
network, so autograd never holds the whole network's activations at once. This example builds the same
ResNet-14 twice, as ``auglocal-tiny`` (K = 7 local modules with augmented auxiliary networks) and as
``dgl-bp-tiny`` (K = 1: ordinary backprop through the same code path), and prints for each:

* the peak bytes autograd saves for backward during one training step
  (``zoo.engines.local_learning.peak_saved_bytes``: saved-tensor hooks, so it works on CPU), and the ratio
  to BP;
* the test accuracy after the same number of training steps (``zoo.train`` / ``zoo.evaluate``).

    python examples/local_learning.py                 # 200 steps each
    python examples/local_learning.py --quick         # a few steps (what the tests run)
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

METHODS = {"BP (K=1)": "dgl-bp-tiny", "AugLocal": "auglocal-tiny"}


def main(argv: Sequence[str] | None = None) -> int:
    """Measure memory and accuracy of BP and AugLocal side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few training steps (for tests)")
    parser.add_argument("--steps", type=int, default=200, help="training steps per method")
    parser.add_argument("--batch", type=int, default=64, help="batch of the memory measurement")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary folder)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="zoo-example-local-"))
    out.mkdir(parents=True, exist_ok=True)
    steps = 3 if args.quick else args.steps

    import torch

    import zoo
    from zoo.io import atomic_write_json
    from zoo.engines.local_learning import local_forward_backward, peak_saved_bytes

    results: dict[str, dict[str, float]] = {}
    for label, name in METHODS.items():
        torch.manual_seed(0)
        model = zoo.build(name)
        train = zoo.make_data(model, "digits", "train")
        test = zoo.make_data(model, "digits", "test")
        x = torch.stack([train[i][0] for i in range(args.batch)])
        y = torch.stack([train[i][1] for i in range(args.batch)])
        model.train()
        peak = peak_saved_bytes(lambda: local_forward_backward(model, x, y))  # noqa: B023 - called at once
        model.zero_grad(set_to_none=True)
        zoo.train(model, train, steps=steps, progress=False, out_dir=str(out / name))
        results[label] = {"saved_bytes": float(peak), "accuracy": zoo.evaluate(model, test)["accuracy"]}

    bp = results["BP (K=1)"]["saved_bytes"]
    print(f"{'method':<10} {'saved for backward':>19} {'vs BP':>7} {'test accuracy':>14}")
    for label, r in results.items():
        megabytes, ratio = r["saved_bytes"] / 2**20, r["saved_bytes"] / bp
        print(f"{label:<10} {megabytes:16.3f} MB {ratio:7.3f} {r['accuracy']:14.3f}")
    print(f"(ResNet-14 on digits, {steps} steps each, memory at batch {args.batch})")
    atomic_write_json(out / "results.json", results)
    print(f"outputs in {out}")
    return 0 if results["AugLocal"]["saved_bytes"] < bp else 1


if __name__ == "__main__":
    sys.exit(main())
