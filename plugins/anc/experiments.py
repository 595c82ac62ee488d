"""ANC on scikit-learn's digits, the paper's Table 2 protocol at small scale: train an MLP, compress it by
mean-shift neuron clustering at several bandwidths, fine-tune; compare with k-means clustering at the same number
of clusters per layer (MSN) and with the compressed architecture trained from scratch ("Re-cons").

    nice -n 10 .venv/bin/python -m zoo_plugins.anc.experiments --quantiles 0.01 0.02 0.04 --seeds 0 1 2

Bandwidths are either absolute (``--bandwidths``, as the paper sets them) or scikit-learn's per-layer estimate at
a quantile of the neuron distances (``--quantiles``), which adapts to how far apart a layer's neurons are.
"""
from __future__ import annotations

import argparse
import copy
from dataclasses import replace

import numpy as np
import torch

from zoo_plugins.anc.compress import compress
from zoo_plugins.anc.config import tiny
from zoo_plugins.anc.data import digits
from zoo_plugins.anc.model import ANCNet, num_parameters
from zoo_plugins.anc.train import accuracy, fit_epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bandwidths", type=float, nargs="+", default=[])
    parser.add_argument("--quantiles", type=float, nargs="+", default=[0.01, 0.02, 0.04])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--finetune", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train, test = digits("train"), digits("test")
    base_cfg = replace(tiny(), epochs=args.epochs, finetune_epochs=args.finetune)
    settings = [("bandwidth", b) for b in args.bandwidths] + [("quantile", q) for q in args.quantiles]
    rows: dict[tuple[str, float], list[dict[str, float]]] = {s: [] for s in settings}
    originals = []
    for seed in args.seeds:
        torch.manual_seed(seed)
        net = ANCNet(base_cfg)
        fit_epochs(net, train, base_cfg, args.epochs, {"seed": seed})
        originals.append(accuracy(net, test))
        for setting in settings:
            kind, value = setting
            cfg = replace(base_cfg, bandwidth=value) if kind == "bandwidth" else replace(base_cfg, quantile=value)
            anc = copy.deepcopy(net)
            rep = compress(anc, cfg)
            out = {"ratio": rep.ratio, "params": rep.params_after, "no_ft": accuracy(anc, test),
                   "widths": float(np.prod([l.after for l in rep.layers]))}
            fit_epochs(anc, train, rep.config, args.finetune, {"seed": seed})
            out["anc"] = accuracy(anc, test)
            counts = [l.after for l in rep.layers]
            km = copy.deepcopy(net)
            krep = compress(km, replace(cfg, clusterer="kmeans"), clusters=counts)
            out["kmeans_no_ft"] = accuracy(km, test)
            fit_epochs(km, train, krep.config, args.finetune, {"seed": seed})
            out["kmeans"] = accuracy(km, test)
            torch.manual_seed(seed)
            scratch = ANCNet(rep.config)
            fit_epochs(scratch, train, rep.config, args.epochs + args.finetune, {"seed": seed})
            out["scratch"] = accuracy(scratch, test)
            out["hidden"] = counts  # type: ignore[assignment]
            rows[setting].append(out)
    params0 = num_parameters(ANCNet(base_cfg))
    print(f"digits MLP 64-128-128-10 ({params0} parameters), {args.epochs} epochs + {args.finetune} fine-tuning, "
          f"seeds {args.seeds}; test accuracy of the original: {np.mean(originals):.4f}+-{np.std(originals):.4f}")
    print(f"{'setting':>15s} {'hidden':>14s} {'removed':>8s} {'ANC no FT':>10s} {'ANC':>14s} {'k-means no FT':>13s} "
          f"{'k-means (MSN)':>14s} {'from scratch':>14s}")
    for (kind, value), runs in rows.items():
        def ms(key: str) -> str:
            v = np.array([r[key] for r in runs])
            return f"{v.mean():.4f}+-{v.std():.4f}"

        hidden = "/".join(str(h) for h in runs[0]["hidden"])  # type: ignore[union-attr]
        print(f"{kind[0]}={value:<13g} {hidden:>14s} {np.mean([r['ratio'] for r in runs]):8.3f} "
              f"{np.mean([r['no_ft'] for r in runs]):10.4f} {ms('anc'):>14s} "
              f"{np.mean([r['kmeans_no_ft'] for r in runs]):13.4f} {ms('kmeans'):>14s} {ms('scratch'):>14s}",
              flush=True)


if __name__ == "__main__":
    main()
