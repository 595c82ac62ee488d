"""Memory of a federation with many registered clients: only the clients of a round are materialised, the state
of the others lives in a memory-mapped client store (``DiskStore``) or in RAM (``MemoryStore``).

Work: N registered clients (default 10,000) of 64 digits each, SCAFFOLD (per-client control variate ``c_i``)
with SGD momentum 0.9 kept per client (``optimizer_state="persist"``), so every client that took part holds
2 x P floats of state; 1 % of the clients take part in each round (batched local training, 10 steps of batch 32).
Prints the process's peak resident memory (and, sampled after every round, its anonymous part, i.e. without the
store's file-backed pages that the kernel may drop at any time), the bytes of state written and the disk blocks
the store allocated, next to what a dense ``[N, P]`` buffer per state tensor would need.

Run:  .venv/bin/python benchmarks/bench_fl_memory.py [--clients 10000] [--rounds 5] [--store disk|memory]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch


def rss_parts() -> tuple[float, float]:
    """Current ``(RssAnon, RssFile)`` of this process in MiB (Linux; zeros elsewhere)."""
    anon = file = 0.0
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                anon = float(line.split()[1]) / 1024
            elif line.startswith("RssFile:"):
                file = float(line.split()[1]) / 1024
    except OSError:
        pass
    return anon, file


def main() -> None:
    """Run the rounds and print the memory figures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_fl_clients import cnn, federation, loss_fn

    from zoo.engines import federated as fl
    from zoo_plugins.fl_baselines.algorithms import Scaffold

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--fraction", type=float, default=0.01)
    ap.add_argument("--store", choices=("disk", "memory"), default="disk")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    data = federation(args.clients)
    with tempfile.TemporaryDirectory() as tmp:
        store = fl.DiskStore(Path(tmp) / "clients", args.clients) if args.store == "disk" else fl.MemoryStore()
        sim = fl.FederatedSimulator(cnn(), loss_fn, data, algorithm=Scaffold(weighting="uniform"),
                                    recipe=fl.LocalRecipe(steps=10, batch_size=32, lr=0.05, momentum=0.9),
                                    sampler=fl.UniformFraction(args.fraction), store=store, execution="batched")
        p = sim.layout.numel
        peaks = [0.0, 0.0]

        def sample(_record: object) -> None:
            anon, file = rss_parts()
            peaks[0], peaks[1] = max(peaks[0], anon), max(peaks[1], file)

        start = time.perf_counter()
        sim.run(args.rounds, callback=sample)
        took = time.perf_counter() - start
        touched = len(store.clients())
        written = store.nbytes()
        disk = store.disk_bytes() if isinstance(store, fl.DiskStore) else 0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
        dense = args.clients * 2 * p * 4
    print(f"{args.clients:,} registered clients, P = {p:,} parameters, {args.rounds} rounds of "
          f"{len(sim.history.rounds[0].clients)} clients ({took:.1f} s), store: {args.store}")
    print(f"clients with state: {touched:,}; state written: {written / 2**20:.1f} MiB; store's disk blocks: "
          f"{disk / 2**20:.1f} MiB")
    print(f"dense [N, P] buffers for c_i and the momentum: {dense / 2**30:.2f} GiB "
          f"(the old engine's [N, P] client buffer alone: {args.clients * p * 4 / 2**30:.2f} GiB)")
    print(f"peak resident memory: {peak:.0f} MiB (after importing torch and loading data: {rss0:.0f} MiB); "
          f"largest after a round: anonymous {peaks[0]:.0f} MiB, file-backed {peaks[1]:.0f} MiB")


if __name__ == "__main__":
    main()
