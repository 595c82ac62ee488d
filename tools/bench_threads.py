"""How many intra-op threads should zoo give torch for its tiny models? Measured side by side.

    python tools/bench_threads.py --methods man,sac,gcd --steps 20 --threads 1,2 --load 1 --repeat 3

For each method, trains its ``tiny`` variant for ``--steps`` steps in a fresh process per measurement, once per
thread count, alternating the order, ``--repeat`` times, while ``--load`` busy processes (one core each) run beside
it to stand for the other jobs of a shared machine. Prints the median seconds per setting and the ratio to one
thread. The chosen default is ``zoo.constants.num_threads()`` (``ZOO_NUM_THREADS``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time

CHILD = """
import sys, tempfile, time, torch, zoo
torch.set_num_threads(int(sys.argv[2]))
model = zoo.build(sys.argv[1] + "-tiny", seed=0)
data = zoo.make_data(model, "synthetic", "train")
with tempfile.TemporaryDirectory() as out:
    start = time.perf_counter()
    zoo.train(model, data, steps=int(sys.argv[3]), seed=0, progress=False, out_dir=out)
    print(time.perf_counter() - start)
"""


def _spin(stop: mp.Event) -> None:  # type: ignore[valid-type]
    """Keep one core busy until told to stop (a stand-in for another job)."""
    x = 0
    while not stop.is_set():  # type: ignore[attr-defined]
        for _ in range(100_000):
            x += 1


def measure(method: str, threads: int, steps: int) -> float:
    """Seconds to train ``method``-tiny for ``steps`` steps on ``threads`` intra-op threads (fresh process)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), ZOO_NUM_THREADS=str(threads))
    proc = subprocess.run([sys.executable, "-c", CHILD, method, str(threads), str(steps)], env=env,
                          capture_output=True, text=True, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="man,sac,gcd")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--load", type=int, default=1, help="busy processes running beside (default 1)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    counts = [int(t) for t in args.threads.split(",")]
    stop = mp.Event()
    spinners = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(args.load)]
    for p in spinners:
        p.start()
    time.sleep(0.5)
    results: dict[tuple[str, int], list[float]] = {}
    try:
        for method in args.methods.split(","):
            for r in range(args.repeat):
                order = counts if r % 2 == 0 else counts[::-1]
                for n in order:
                    seconds = measure(method, n, args.steps)
                    results.setdefault((method, n), []).append(seconds)
                    print(f"  {method} {n} thread(s): {seconds:.2f} s", file=sys.stderr, flush=True)
    finally:
        stop.set()
        for p in spinners:
            p.join(timeout=5)
    print(f"{os.cpu_count()} CPUs, {args.load} busy process(es) beside, {args.steps} steps, median of {args.repeat}")
    print(f"{'method':<10}" + "".join(f"{f'{n} thread(s)':>14}" for n in counts) + "".join(
        f"{f'{n}T / 1T':>10}" for n in counts[1:]))
    for method in args.methods.split(","):
        med = {n: statistics.median(results[(method, n)]) for n in counts}
        print(f"{method:<10}" + "".join(f"{med[n]:>13.2f}s" for n in counts)
              + "".join(f"{med[n] / med[counts[0]]:>10.2f}" for n in counts[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
