"""Round time of one FedAvg round with many clients: the engine's sequential loop, its batched path (torch.func)
and Flower's simulation engine (flwr + Ray) doing the same work, measured side by side in one run.

Work: N clients, each holding 64 of scikit-learn's 8x8 digits (label-skewed, drawn with replacement across
clients), train a small CNN for 10 local SGD steps of batch 32; the server averages. ``--arch pooled`` (default,
52.5k parameters): conv3x3(1->8)-ReLU-maxpool2-conv3x3(8->16)-ReLU-FC(256->192)-ReLU-FC(192->10), 2.4 MMAC per
step and client; ``--arch dense`` (55k parameters): both convolutions at full 8x8 resolution (16 and 32 channels),
pooling after, 13 MMAC per step and client: there arithmetic, not per-client overhead, dominates. Each
column's round time is the steady state: the second round of a two-round run (the first pays start-up costs:
Ray workers, torch.func's first trace). The three runs start from the same model and draw the same batches, so
they must end with the same weights (sequential vs Flower: bit for bit; batched: to float rounding); the script
checks and prints the differences.

Run:  .venv/bin/python benchmarks/bench_fl_clients.py --clients 100 [--threads 1] [--flower-workers 1]
      [--skip-flower] [--max-batch 1024]

Threads are pinned (``torch.set_num_threads``; Flower's Ray workers get one CPU each). Not a test: nothing
asserts on time. The last line is ``speedup_vs_flower=<Flower round time / batched round time>``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn


ARCH = "pooled"


def cnn() -> nn.Module:
    """The benchmark's CNN (``ARCH``: ``pooled`` or ``dense``, see the module docstring), seeded."""
    torch.manual_seed(0)
    if ARCH == "dense":
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 4 * 4, 96), nn.ReLU(), nn.Linear(96, 10))
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
                         nn.ReLU(), nn.Flatten(), nn.Linear(16 * 4 * 4, 192), nn.ReLU(), nn.Linear(192, 10))


def loss_fn(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Cross-entropy."""
    return nn.functional.cross_entropy(model(batch[0]), batch[1])


def federation(num_clients: int, per_client: int = 64, seed: int = 0):  # -> fl.FederatedData
    """Digits split over ``num_clients``: each client draws ``per_client`` images, 80 % from two classes."""
    from zoo.data.digits import load_digits_split
    from zoo.engines import federated as fl

    ds = load_digits_split("train", seed=0)
    x, y = ds.images.float(), ds.labels.long()
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(y.numpy() == c) for c in range(10)]
    parts = []
    for _ in range(num_clients):
        major = rng.choice(10, size=2, replace=False)
        n_major = int(0.8 * per_client)
        idx = np.concatenate([rng.choice(by_class[c], n_major // 2) for c in major]
                             + [rng.choice(len(y), per_client - 2 * (n_major // 2))])
        parts.append(np.sort(idx))
    return fl.FederatedData.partitioned(torch.utils.data.TensorDataset(x, y), parts)


def simulate(data, execution: str, max_batch: int) -> tuple[float, torch.Tensor]:
    """Two rounds in the engine; returns (second round's seconds, global vector)."""
    from zoo.engines import federated as fl

    sim = fl.FederatedSimulator(cnn(), loss_fn, data, recipe=fl.LocalRecipe(steps=10, batch_size=32, lr=0.05),
                                execution=execution, max_batch=max_batch)  # type: ignore[arg-type]
    sim.round()
    start = time.perf_counter()
    sim.round()
    return time.perf_counter() - start, sim.global_vec


def flower(data, workers: int) -> tuple[float, torch.Tensor]:
    """Two rounds as a Flower simulation (Ray); returns (second round's seconds, global vector)."""
    from zoo.engines import federated as fl
    from zoo.engines.federated.flower import FlowerTask, run_flower_simulation

    task = FlowerTask(cnn, loss_fn, fl.LocalRecipe(steps=10, batch_size=32, lr=0.05), fl.Algorithm(), data)
    result = run_flower_simulation(task, rounds=2, num_cpus=workers, num_cpus_per_client=1.0, personal=False)[0]
    assert result.global_vec is not None
    return result.round_wall_s[1], result.global_vec


def main() -> None:
    """Print the table and ``speedup_vs_flower``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--flower-workers", type=int, default=1, help="Ray workers (one CPU each)")
    ap.add_argument("--max-batch", type=int, default=1024, help="clients trained together (batched path)")
    ap.add_argument("--skip-flower", action="store_true")
    ap.add_argument("--arch", choices=("pooled", "dense"), default="pooled")
    args = ap.parse_args()
    global ARCH
    ARCH = args.arch
    torch.set_num_threads(args.threads)
    data = federation(args.clients)
    params = sum(p.numel() for p in cnn().parameters())
    print(f"{args.clients} clients x 10 steps of batch 32, {args.arch} CNN with {params:,} parameters, "
          f"{args.threads} torch thread(s), {args.flower_workers} Flower worker(s)")
    seq_s, seq_w = simulate(data, "sequential", args.max_batch)
    print(f"(a) sequential loop   {seq_s:8.2f} s/round", flush=True)
    bat_s, bat_w = simulate(data, "batched", args.max_batch)
    print(f"(b) batched torch.func {bat_s:7.2f} s/round   max |w - w_seq| = {(bat_w - seq_w).abs().max():.2e}",
          flush=True)
    if args.skip_flower:
        print(f"speedup_batched_vs_sequential={seq_s / bat_s:.2f}")
        return
    flw_s, flw_w = flower(data, args.flower_workers)
    print(f"(c) Flower simulation {flw_s:8.2f} s/round   max |w - w_seq| = {(flw_w - seq_w).abs().max():.2e}")
    print(f"speedup_batched_vs_sequential={seq_s / bat_s:.2f}")
    print(f"speedup_vs_flower={flw_s / bat_s:.2f}")


if __name__ == "__main__":
    main()
