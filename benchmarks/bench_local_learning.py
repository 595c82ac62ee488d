"""Local learning and BP-free training against back-propagation: accuracy and training memory, side by side.

Every method trains through its plugin (the shared trainer, each method's own step) on the same CPU thread
budget. Memory is measured as the papers report it, in both forms:

- **activations**: peak bytes autograd saves for backward during a short training run (saved-tensor hooks);
- **total**: activations + parameters and buffers + gradients + optimizer state — the CPU reading of the papers'
  peak GPU memory; on a GPU the run's ``torch.cuda.max_memory_allocated`` is printed as well.

Each method is compared with BP **on its own network**: the ResNet methods (DGL, InfoPro, AugLocal, MAN) with the
same ResNet trained end to end (K = 1), tpSGD with its MLP trained by BP, ForwardGNN with its GCN trained by BP
through the same class scoring.

    python benchmarks/bench_local_learning.py                        # tiny variants, digits / karate club
    python benchmarks/bench_local_learning.py --steps 300 --seeds 3
    python benchmarks/bench_local_learning.py --device cuda           # adds the CUDA peak column
    python benchmarks/bench_local_learning.py --variant paper --memory-only --batch 128   # paper-size networks
"""
from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

import zoo
from zoo.engines.local_learning.memory import TrainingMemory, measure_run_memory

MIB = 2.0 ** 20


@dataclass(frozen=True)
class Row:
    """One method: its model name, config overrides, data source, and the BP row it is compared with."""

    label: str
    name: str
    source: str
    baseline: str
    overrides: tuple[tuple[str, Any], ...] = ()
    steps_scale: float = 1.0


ROWS: tuple[Row, ...] = (
    Row("BP (ResNet)", "dgl-bp-tiny", "digits", "BP (ResNet)"),
    Row("DGL", "dgl-tiny", "digits", "BP (ResNet)"),
    Row("InfoPro", "dgl-infopro-tiny", "digits", "BP (ResNet)"),
    Row("AugLocal", "auglocal-tiny", "digits", "BP (ResNet)"),
    Row("MAN", "man-tiny", "digits", "BP (ResNet)"),
    Row("BP (MLP)", "tpsgd-tiny", "digits", "BP (MLP)", (("rule", "bp"),), 2.0),
    Row("tpSGD", "tpsgd-tiny", "digits", "BP (MLP)", (), 2.0),
    Row("BP (GCN)", "forwardgnn-tiny", "karate", "BP (GCN)", (("rule", "bp"),), 1.0 / 3.0),
    Row("ForwardGNN (SF)", "forwardgnn-tiny", "karate", "BP (GCN)", (), 1.0 / 3.0),
    Row("ForwardGNN (FF)", "forwardgnn-ff", "karate", "BP (GCN)", (), 1.0 / 3.0),
)


PAPER_NAMES = {"dgl-bp-tiny": "dgl-bp-paper", "dgl-tiny": "dgl-paper", "dgl-infopro-tiny": "dgl-infopro-paper",
               "auglocal-tiny": "auglocal-paper", "man-tiny": "man-paper", "tpsgd-tiny": "tpsgd-paper",
               "forwardgnn-tiny": "forwardgnn-paper"}


def _data(model: Any, source: str) -> tuple[Any, Any]:
    return zoo.make_data(model, source, "train"), zoo.make_data(model, source, "test")


def paper_row(row: Row, batch: int | None) -> Row | None:
    """The row at the paper's network size (synthetic inputs of that size; ``None`` if it has no such variant)."""
    name = PAPER_NAMES.get(row.name)
    if name is None:
        return None
    overrides = dict(row.overrides)
    if batch is not None and not name.startswith("forwardgnn"):
        overrides["batch_size"] = batch
    return Row(row.label, name, "synthetic", row.baseline, tuple(overrides.items()), row.steps_scale)


def memory_of(row: Row, device: str) -> TrainingMemory:
    """Memory of a two-step training run of the row's method (its own recipe's batch)."""
    model = zoo.build(row.name, seed=0, **dict(row.overrides))
    train = zoo.make_data(model, row.source, "train")

    def run(callbacks: list[Any]) -> Any:
        return zoo.train(model, train, steps=2, progress=False, device=device, callbacks=callbacks)

    return measure_run_memory(model, run, device)


def accuracy_of(row: Row, steps: int, seed: int, device: str) -> float:
    """Test accuracy after ``steps`` (scaled per row) of the method's own training."""
    model = zoo.build(row.name, seed=seed, **dict(row.overrides))
    train, test = _data(model, row.source)
    zoo.train(model, train, steps=max(1, round(steps * row.steps_scale)), progress=False, seed=seed, device=device)
    return float(zoo.evaluate(model.cpu(), test)["accuracy"])


def main(argv: list[str] | None = None) -> None:
    """Print one table: accuracy, both memory figures and their ratios to the row's BP."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="training steps of the ResNet rows (others scaled)")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated row labels to run (default: all)")
    parser.add_argument("--variant", default="tiny", choices=("tiny", "paper"))
    parser.add_argument("--memory-only", action="store_true", help="measure memory only (no accuracy)")
    parser.add_argument("--batch", type=int, default=None, help="batch size of the image rows (paper variant)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = [r for r in ROWS if not args.only or r.label in args.only.split(",")]
    if args.variant == "paper":
        rows = [p for p in (paper_row(r, args.batch) for r in rows) if p is not None]
    results: dict[str, dict[str, Any]] = {}
    for row in rows:
        accs = [float("nan")] if args.memory_only else \
            [accuracy_of(row, args.steps, seed, args.device) for seed in range(args.seeds)]
        results[row.label] = {"mem": memory_of(row, args.device), "acc": statistics.mean(accs),
                              "sd": statistics.stdev(accs) if len(accs) > 1 else 0.0}
    cuda = args.device.startswith("cuda")
    head = f"{'method':<17} {'test accuracy':>16} {'activations':>12} {'vs BP':>6} {'total':>10} {'vs BP':>6}"
    print(head + (f" {'CUDA peak':>10} {'vs BP':>6}" if cuda else ""))
    for row in rows:
        r = results[row.label]
        mem: TrainingMemory = r["mem"]
        base: TrainingMemory | None = results.get(row.baseline, {}).get("mem")
        ratio: Callable[[float, float | None], str] = lambda a, b: f"{a / b:6.3f}" if b else f"{'-':>6}"  # noqa: E731
        acc = f"{r['acc']:8.4f} ± {r['sd']:.4f}" if r["acc"] == r["acc"] else f"{'-':>17}"
        line = (f"{row.label:<17} {acc} {mem.activations / MIB:9.3f}MiB "
                f"{ratio(mem.activations, base.activations if base else None)} {mem.cpu_total / MIB:7.3f}MiB "
                f"{ratio(mem.cpu_total, base.cpu_total if base else None)}")
        if cuda:
            peak = mem.cuda_peak or 0
            line += f" {peak / MIB:7.2f}MiB {ratio(peak, base.cuda_peak if base else None)}"
        print(line)
    if args.variant == "paper":
        print(f"(paper-size networks on synthetic inputs of their size: ResNet-32 K=16 on 3x32x32, MLP 784-500-500-10, "
              f"4-layer GCN hidden 128 on the SBM graph; image batch {args.batch or 'of the recipe'}; memory of a "
              f"2-step run; device {args.device}, {args.threads} thread(s))")
    else:
        print(f"(ResNet rows: {args.steps} steps at batch 64 on digits; MLP rows: {round(args.steps * 2)} steps at "
              f"batch 32; GCN rows: {round(args.steps / 3)} full-graph epochs on the karate club; {args.seeds} "
              f"seed(s); memory: a 2-step run at each method's batch; device {args.device}, {args.threads} thread(s))")


if __name__ == "__main__":
    main()
