"""Experiments behind the method card (run with ``python -m zoo_plugins.fd_module.experiments NAME``).

- ``complexity``: parameters and multiply-accumulates of ResNet-50 / ResNeXt-50 with nothing, FD, SE and SE + FD
  at 224x224 (Table 5's Param and GFLOPs columns), counted on the ``meta`` device (no memory, no weights), plus
  the elementwise work FD adds (elements refined; ~7 operations each: subtract, smooth-L1, sigmoid, multiply).
- ``digits``: test error of ResNet-8 and FD-ResNet-8 on scikit-learn's digits over several seeds (Table 1's
  comparison at CPU scale; same initial weights with and without FD).
"""
from __future__ import annotations

import argparse
import statistics
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from zoo.compat import import_timm
from zoo_plugins.fd_module.model import add_fd, fd_blocks

#: Elementwise operations per refined element: F - X, smooth-L1 (|d|, compare, square/scale, select), sigmoid, M * F.
FD_OPS_PER_ELEMENT = 7


def count_complexity(name: str, fd: bool, image_size: int = 224) -> dict[str, Any]:
    """``params``, ``macs`` (convolutions and linear layers, FlopCounterMode / 2) and ``fd_elements`` (elements
    refined by FD gates in one forward pass of one image) of timm model ``name``, built on the meta device."""
    from torch.utils.flop_counter import FlopCounterMode

    timm = import_timm()
    with torch.device("meta"):
        model = timm.create_model(name, pretrained=False)
        if fd:
            add_fd(model)
        x = torch.empty(1, 3, image_size, image_size)
    elements = {"n": 0}

    def count(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        elements["n"] += output[0].numel()

    handles = [b.fd.register_forward_hook(count) for b in fd_blocks(model)]
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(x)
    for h in handles:
        h.remove()
    params = sum(p.numel() for p in model.parameters())
    return {"model": name + (" + FD" if fd else ""), "params": params, "macs": counter.get_total_flops() // 2,
            "fd_elements": elements["n"], "fd_blocks": len(fd_blocks(model))}


def complexity() -> list[dict[str, Any]]:
    """Table 5's complexity columns, measured."""
    rows = []
    for name in ("resnet50", "seresnet50", "resnext50_32x4d"):
        for fd in (False, True):
            rows.append(count_complexity(name, fd))
    print(f"{'model':28s} {'params':>12s} {'GMACs':>8s} {'FD blocks':>9s} {'FD elements':>12s} {'FD GOPs':>8s}")
    for r in rows:
        print(f"{r['model']:28s} {r['params']:12,d} {r['macs'] / 1e9:8.4f} {r['fd_blocks']:9d} "
              f"{r['fd_elements']:12,d} {r['fd_elements'] * FD_OPS_PER_ELEMENT / 1e9:8.4f}")
    return rows


def digits(seeds: int = 3, steps: int = 400, depth: int = 8, widths: tuple[int, ...] = (8, 16, 32)) -> dict:
    """Test error (%) with and without FD, same initialisation and data order per seed."""
    import zoo
    from zoo_plugins.fd_module.train import evaluate

    errors: dict[str, list[float]] = {"ResNet": [], "ResNet + FD": []}
    for seed in range(seeds):
        for label, fd in (("ResNet", False), ("ResNet + FD", True)):
            model = zoo.build("fdnet-tiny", seed=seed, fd=fd, depth=depth, widths=widths)
            config = model.zoo.config
            zoo.train(model, zoo.make_data(model, "digits", "train"), steps=steps, seed=seed, progress=False)
            errors[label].append(100 * evaluate(model, zoo.make_data(model, "digits", "test"))["error"])
            del config
    for label, values in errors.items():
        print(f"{label:12s} test error % per seed {['%.2f' % v for v in values]}  mean {statistics.mean(values):.2f}"
              f" +- {statistics.pstdev(values):.2f}")
    return errors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=("complexity", "digits"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--depth", type=int, default=8)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.experiment == "complexity":
        complexity()
    else:
        digits(args.seeds, args.steps, args.depth)


if __name__ == "__main__":
    main()
