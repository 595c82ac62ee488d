"""A small CNN alone versus the same CNN with SAC: on scikit-learn digits (real, coarse) or on the synthetic
fine-grained task of :mod:`zoo_plugins.sac.finegrained` (``--task fine-grained``).

Both arms use the same backbone (``zoo_sac_cnn``, the tiny variant's), the same data split, the same optimizer,
learning-rate schedule, batch size and number of steps, and the same seeds (model initialisation and batch order).
The baseline trains the backbone's classifier with cross-entropy; SAC trains ``CE_1 + CE_2`` plus the dropped view
(so each SAC step costs about 2x the forward/backward work). Reported: test top-1 accuracy, mean and standard
deviation over the seeds, of the baseline, of SAC's fused prediction, and of each SAC classifier alone.

Run: ``.venv/bin/python benchmarks/bench_sac_digits.py [--seeds 0 1 2] [--steps 150 600] [--threads 1]`` or
``.venv/bin/python -m zoo_plugins.sac.experiments --task fine-grained --seeds 0 1 2 3 4 --steps 300 1000``.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from zoo.engines.trainer import fit
from zoo.options import TrainOptions
from zoo_plugins.sac.backbones import create_backbone
from zoo_plugins.sac.config import SACConfig, tiny
from zoo_plugins.sac.data import digits
from zoo_plugins.sac.model import SACModel
from zoo_plugins.sac.train import evaluate, recipe_for, train


def task_data(task: str, seed: int = 0) -> tuple[Any, Any]:
    """(train, test) of ``digits`` or ``fine-grained`` (1,000 / 500 images, 20 classes; seed 0 = one fixed task)."""
    if task == "digits":
        return digits("train"), digits("test")
    from zoo_plugins.sac.finegrained import make_fine_grained

    return make_fine_grained(1000, seed=seed), make_fine_grained(500, seed=seed + 1)


def task_config(task: str) -> SACConfig:
    """The tiny recipe, adapted to the task's images and classes."""
    if task == "digits":
        return tiny()
    from zoo_plugins.sac.finegrained import class_names

    names = class_names()
    return dataclasses.replace(tiny(), in_chans=3, image_size=16, mean=(0.0,) * 3, std=(1.0,) * 3,
                               num_classes=len(names), class_names=names)


def baseline_accuracy(config: SACConfig, seed: int, task: str = "digits") -> float:
    """Test top-1 of the backbone alone, trained with cross-entropy and SAC's recipe."""
    torch.manual_seed(seed)
    model = create_backbone(config.backbone, num_classes=config.num_classes, in_chans=config.in_chans,
                            width=config.backbone_width)
    train_set, test_set = task_data(task)

    def loss_fn(m: Any, batch: Any) -> torch.Tensor:
        images, labels = batch
        return F.cross_entropy(m(images), labels)

    fit(model, train_set, loss_fn, recipe_for(config, len(train_set)), TrainOptions(progress=False, seed=seed))
    model.eval()
    with torch.no_grad():
        return float((model(test_set.images).argmax(-1) == test_set.labels).float().mean())


def sac_accuracy(config: SACConfig, seed: int, task: str = "digits") -> dict[str, float]:
    """Test top-1 of SAC (fused, 1st and 2nd classifier) trained with the same recipe and seed."""
    torch.manual_seed(seed)
    model = SACModel(config)
    train_set, test_set = task_data(task)
    train(model, train_set, config, TrainOptions(progress=False, seed=seed))
    return evaluate(model, test_set)


def _stats(values: Sequence[float]) -> str:
    mean = statistics.mean(values)
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * mean:.2f} ± {100 * spread:.2f}"


def compare(seeds: Sequence[int], steps: int, variants: dict[str, SACConfig], task: str = "digits"
            ) -> list[list[str]]:
    """Rows of the results table for one training length."""
    base = task_config(task)
    runs: dict[str, list[float]] = {"baseline": []}
    start = time.perf_counter()
    for seed in seeds:
        runs["baseline"].append(baseline_accuracy(dataclasses.replace(base, steps=steps), seed, task))
    timings = {"baseline": time.perf_counter() - start}
    for name, config in variants.items():
        start = time.perf_counter()
        for seed in seeds:
            metrics = sac_accuracy(dataclasses.replace(config, steps=steps), seed, task)
            for key, label in (("top1_accuracy", "fused"), ("top1_first", "1st"), ("top1_second", "2nd")):
                runs.setdefault(f"{name} ({label})", []).append(metrics[key])
        timings[name] = time.perf_counter() - start
    rows = []
    for key, values in runs.items():
        arm = key.split(" (")[0]
        rows.append([str(steps), key, _stats(values), " ".join(f"{100 * v:.2f}" for v in values),
                     f"{timings[arm] / len(seeds):.1f}"])
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Print a markdown table: steps, arm, test top-1 % mean ± std, per-seed values, seconds per run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, nargs="+", default=[150, 600])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--task", choices=("digits", "fine-grained"), default="digits")
    parser.add_argument("--no-drop-ablation", action="store_true", help="skip the 'SAC, no dropping' arm")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    base = task_config(args.task)
    variants = {"SAC": base}
    if not args.no_drop_ablation:
        variants["SAC, no dropping"] = dataclasses.replace(base, drop_mode="none")
    print("| steps | arm | test top-1 % (mean ± std) | per seed | s/run |")
    print("|---|---|---|---|---|")
    for steps in args.steps:
        for row in compare(args.seeds, steps, variants, args.task):
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
