"""Transfer attacks on digits, the paper's comparison (Tables 2, 5, 6) at CPU scale, side by side.

A CNN source (white box) is attacked; the adversarial images are classified by black-box targets (an MLP and a
PGD-trained MLP). For each attack: white-box ASR, black-box ASR per target, and APS (pixels on [0, 255]), on the
test images every model classifies correctly. Same images, models and seeds for every attack.

    python -m zoo_plugins.mai_fgplm.experiments --seeds 0 1 2
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import torch

import zoo
import zoo.attacks as attacks
from zoo.options import TrainOptions
from zoo_plugins.mai_fgplm.attack import run_attack
from zoo_plugins.mai_fgplm.config import MAIConfig, tiny
from zoo_plugins.mai_fgplm.data import make_data
from zoo_plugins.mai_fgplm.targets import TARGETS, train_target
from zoo_plugins.mai_fgplm.train import train

COMPARED: tuple[tuple[str, dict[str, bool]], ...] = (
    ("ni-ti-dim", {}),
    ("ni-ti-di-aitm", {}),
    ("ni-ti-di-mailm", {"use_gr": False, "use_mix": False}),  # + PL
    ("ni-ti-di-mailm", {"use_mix": False}),                    # + PL + GR
    ("ni-ti-di-mailm", {}),                                    # + PL + GR + MIX = MAILM
)


def label(name: str, switches: dict[str, bool]) -> str:
    """Row label: the attack, or AITM + the MAILM parts switched on."""
    if not switches:
        return name.upper()
    parts = ["PL"] + (["GR"] if switches.get("use_gr", True) else []) + (["MIX"] if switches.get("use_mix", True)
                                                                          else [])
    return "NI-TI-DI-AITM + " + " + ".join(parts)


def run(seed: int, config: MAIConfig) -> list[tuple[str, float, list[float], float]]:
    """One seed: train the source and the targets, attack, measure."""
    train_data, test = make_data(config, "digits", "train"), make_data(config, "digits", "test")
    source = zoo.build("mai-fgplm-tiny", config=config, seed=seed)
    train(source, train_data, config, TrainOptions(seed=seed, progress=False))
    source.eval()
    targets = [train_target(kind, train_data, seed) for kind in TARGETS]
    x, y = test.images, test.labels
    with torch.no_grad():
        keep = source(x).argmax(1) == y
        for t in targets:
            keep &= t(x).argmax(1) == y
    x, y = x[keep], y[keep]
    rows = []
    for name, switches in COMPARED:
        cfg = replace(config, **switches)
        x_adv = run_attack(source, x, y, cfg, name, generator=torch.Generator().manual_seed(seed))
        rows.append((label(name, switches), attacks.attack_success_rate(source, x_adv, y),
                     [attacks.attack_success_rate(t, x_adv, y) for t in targets],
                     attacks.average_perturbation_size(x_adv, x)))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epsilon", type=float, default=16 / 255)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    config = replace(tiny(), epsilon=args.epsilon)
    table: dict[str, list[list[float]]] = {}
    for seed in args.seeds:
        for name, white, black, aps in run(seed, config):
            table.setdefault(name, []).append([white, *black, aps])
            print(f"seed {seed} {name:32s} white {100 * white:5.1f} | black {' '.join(f'{100 * b:5.1f}' for b in black)}"
                  f" | APS {aps:.2f}", flush=True)
    print(f"\nDigits, eps {args.epsilon:.4f}, T {config.steps}, seeds {args.seeds} (mean over seeds)")
    print(f"{'attack':32s} | white-box ASR | " + " | ".join(f"{t} ASR" for t in TARGETS) + " | avg black ASR | APS")
    for name, values in table.items():
        v = torch.tensor(values).mean(0).tolist()
        black = v[1:-1]
        print(f"{name:32s} | {100 * v[0]:13.1f} | " + " | ".join(f"{100 * b:{len(t) + 4}.1f}" for b, t in
                                                                   zip(black, TARGETS))
              + f" | {100 * sum(black) / len(black):13.1f} | {v[-1]:.2f}")


if __name__ == "__main__":
    main()
