"""The central claim at CPU scale (run with ``python -m zoo_plugins.qr_gan.experiments NAME``): W1 to the target of
QR-GAN (Algorithm 1), QR-GAN with the score-distribution W1 generator loss (``sorted``, not the paper's algorithm)
and weight-clipped WGAN, same networks, data, optimizer (Adam 0.5/0.999), lr, c = 0.05, m = 64, n_critic = 5.

- ``ring``: the 2-D ring of 8 Gaussians (the tiny variant), W1 (exact, Euclidean) on 1,000 held-out samples;
- ``gauss1d``: a 1-D Gaussian N(3, 0.5^2), W1 on 1,000 samples; also the generated standard deviation, which
  shows collapse (0 for a point mass; the target's is 0.5).
"""
from __future__ import annotations

import argparse
import statistics
from typing import Any

import torch

import zoo
from zoo.gan import wasserstein1_1d

METHODS: dict[str, dict[str, Any]] = {
    "QR-GAN (Alg. 1)": {"variant": "tiny"},
    "QR-GAN, sorted score W1": {"variant": "tiny", "generator_loss": "sorted"},
    "WGAN (clipped)": {"variant": "wgan"},
}


def run(method: str, seed: int, steps: int, problem: str, lr: float | None = None) -> dict[str, float]:
    """Train one method from seed ``seed`` and measure W1 (and the samples' spread) on held-out data."""
    spec = dict(METHODS[method])
    variant = spec.pop("variant")
    if problem == "gauss1d":
        spec.update(data_dim=1, latent_dim=1, hidden=32, feature_dim=32, lr=2e-3)
    if lr is not None:
        spec["lr"] = lr
    model = zoo.build(f"qr-gan-{variant}", seed=seed, **spec)
    if problem == "ring":
        train, test = zoo.make_data(model, "mixture", "train"), zoo.make_data(model, "mixture", "test")
        zoo.train(model, train, steps=steps, seed=seed, progress=False)
        metrics = zoo.evaluate(model, test, samples=1000)
        with torch.no_grad():
            metrics["spread"] = float(model.sample(1000).std(0).mean())
        return metrics
    g = torch.Generator().manual_seed(1000 + seed)
    train = 3 + 0.5 * torch.randn(10_000, 1, generator=g)
    test = 3 + 0.5 * torch.randn(1000, 1, generator=g)
    zoo.train(model, train, steps=steps, seed=seed, progress=False)
    with torch.no_grad():
        fake = model.sample(1000)
    return {"w1": wasserstein1_1d(fake, test), "spread": float(fake.std())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problem", choices=("ring", "gauss1d"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    parser.add_argument("--lr", type=float, default=None, help="learning rate of both players (default: variant's)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for method in args.methods:
        rows = [run(method, seed, args.steps, args.problem, args.lr) for seed in range(args.seeds)]
        w1 = [r["w1"] for r in rows]
        spread = [r["spread"] for r in rows]
        print(f"{method:26s} W1 per seed {['%.3f' % v for v in w1]} mean {statistics.mean(w1):.3f}  "
              f"spread {statistics.mean(spread):.3f}", flush=True)


if __name__ == "__main__":
    main()
