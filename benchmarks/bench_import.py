"""Cost of listing models: ``import zoo; zoo.list_models()`` versus ``import timm; timm.list_models()``.

Each side runs in 5 fresh interpreter processes; the script prints the medians and their ratio (target <= 0.25).
Run: ``python benchmarks/bench_import.py``.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

ZOO = "import zoo; zoo.list_models()"
TIMM = "from zoo.compat import ensure_torchvision_ops; ensure_torchvision_ops(); import timm; timm.list_models()"
# The timm side must load the torchvision shim first on CPU-only torch (else `import timm` fails here); the shim
# imports torch, which `import timm` does anyway.


def _time(code: str, repeats: int = 5) -> list[float]:
    """Wall time of ``python -c code`` in fresh processes (after one warm-up run for the OS file cache)."""
    subprocess.run([sys.executable, "-c", code], check=True)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    """Measure both sides, interleaved in one run, and print the ratio."""
    zoo_times = _time(ZOO)
    timm_times = _time(TIMM)
    z, t = statistics.median(zoo_times), statistics.median(timm_times)
    print(f"import zoo; zoo.list_models()    median {z * 1000:8.1f} ms  ({', '.join(f'{x*1000:.0f}' for x in zoo_times)})")
    print(f"import timm; timm.list_models()  median {t * 1000:8.1f} ms  ({', '.join(f'{x*1000:.0f}' for x in timm_times)})")
    print(f"ratio zoo / timm = {z / t:.3f}  (target <= 0.25)")


if __name__ == "__main__":
    main()
