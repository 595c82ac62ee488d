"""Benchmark the fused kernel ops against eager PyTorch and torch.compile (not a test).

Each op runs at a realistic size, forward + backward (``l2_topk`` and ``mix(out=)``: forward only), three ways:

* ``fused``   -- the Triton implementation (``ZOO_KERNELS=triton``)
* ``eager``   -- the torch reference (``ZOO_KERNELS=torch``), i.e. what a plugin gets without kernels
* ``compile`` -- ``torch.compile`` of the torch reference (default mode, dynamic=False)

On a GPU the time of each is the median of ``--repeats`` runs measured with CUDA events (after warm-up). The table
gives the ratios eager/fused and compile/fused, the achieved bandwidth (minimum bytes the op must move / time) as a
fraction of the device's peak, and for the matmul-like ops the achieved FLOP/s.

    python benchmarks/bench_kernels.py                       # on a CUDA machine
    python benchmarks/bench_kernels.py --ops mix,l2_topk --repeats 50 --json out.json
    python benchmarks/bench_kernels.py --smoke               # CPU, Triton interpreter, tiny sizes: checks the script
    python benchmarks/bench_kernels.py --cpu --ops quantile_loss,mean_shift   # CPU, 1 thread: eager vs compile only

``--cpu`` times only the torch reference (eager) and its ``torch.compile`` on the CPU with one thread pinned
(``torch.set_num_threads(1)``); the fused column stays empty there (Triton kernels run on CUDA; the interpreter is a
correctness tool, not a speed one), and a ``compile/eager`` line follows each row.

Peak figures default to the H100 SXM (3.35 TB/s HBM3, 495 TFLOP/s dense TF32, 67 TFLOP/s fp32 without tensor
cores); an H200 (4.8 TB/s), an H100 PCIe (2.0 TB/s) and an A100 80GB (2.0 TB/s) are recognised by name; override with
``--peak-bw`` / ``--peak-flops``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

if "--smoke" in sys.argv:  # the interpreter must be chosen before any Triton kernel module is imported
    os.environ["TRITON_INTERPRET"] = "1"

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zoo.io import atomic_write_json
from zoo.kernels import SMPL_FOOT_JOINTS, SMPL_PARENTS, ops
from zoo.kernels import reference as ref

Fn = Callable[[], object]

_PEAKS = {  # name fragment -> (bytes/s, TF32 dense FLOP/s)
    "H200": (4.8e12, 495e12),
    "H100 PCIe": (2.0e12, 378e12),
    "H100": (3.35e12, 495e12),
    "A100-SXM4-80GB": (2.039e12, 156e12),
    "A100": (1.555e12, 156e12),
}


@dataclass
class Case:
    """One benchmarked op: callables per implementation, the bytes it must move and the FLOPs it must do."""

    name: str
    size: str
    runs: dict[str, Fn]
    min_bytes: float
    flops: float = 0.0
    results: dict[str, float] = field(default_factory=dict)  # seconds per run


# --------------------------------------------------------------------------------------------------- helpers
def _policy(name: str, fn: Callable[[], object]) -> Fn:
    """Run ``fn`` with ``ZOO_KERNELS=name`` (read per call by the registry)."""

    def run() -> object:
        os.environ["ZOO_KERNELS"] = name
        return fn()

    return run


def _backward(outputs: object, inputs: list[torch.Tensor]) -> None:
    """Backpropagate ones-like gradients from ``outputs`` (a tensor, tuple or dict of tensors) into ``inputs``."""
    if isinstance(outputs, dict):
        outputs = sum(outputs.values())
    if isinstance(outputs, (tuple, list)):
        outputs = outputs[0]
    assert isinstance(outputs, torch.Tensor)
    grad = torch.ones_like(outputs)
    torch.autograd.grad(outputs, inputs, grad)


def _three_ways(name: str, op: Callable[..., object], reference: Callable[..., object], args: tuple,
                grads: list[torch.Tensor] | None, compile_: bool, **kwargs: object) -> dict[str, Fn]:
    """fused / eager / compile closures (forward + backward when ``grads`` names the inputs to differentiate)."""
    compiled = torch.compile(reference, dynamic=False) if compile_ else None

    def wrap(fn: Callable[..., object]) -> Callable[[], object]:
        def run() -> object:
            out = fn(*args, **kwargs)
            if grads:
                _backward(out, grads)
            return out

        return run

    runs: dict[str, Fn] = {"fused": _policy("triton", wrap(op)), "eager": _policy("torch", wrap(op))}
    if compiled is not None:
        runs["compile"] = wrap(compiled)
    return runs


def _elt(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


# ------------------------------------------------------------------------------------------------------ cases
def case_info_nce(dev: torch.device, smoke: bool, compile_: bool) -> Case:
    b, k1 = (8, 5) if smoke else (65536, 1 + 64)
    logits = torch.randn(b, k1, device=dev, requires_grad=True)
    runs = _three_ways("info_nce", ops.info_nce, ref.info_nce, (logits, 0.07), [logits], compile_)
    return Case("info_nce fwd+bwd", f"B={b} 1+K={k1} fp32", runs, min_bytes=3 * b * k1 * 4)


def case_l2_topk(dev: torch.device, smoke: bool, compile_: bool) -> Case:
    q, n, d, k = (6, 70, 8, 5) if smoke else (4096, 1_000_000, 128, 10)
    queries, database = torch.randn(q, d, device=dev), torch.randn(n, d, device=dev)
    runs = _three_ways("l2_topk", ops.l2_topk, ref.l2_topk, (queries, database, k), None, compile_)
    return Case("l2_topk", f"Q={q} N={n} D={d} k={k} fp32", runs, min_bytes=(q + n) * d * 4, flops=2.0 * q * n * d)


def case_group_modulation(dev: torch.device, smoke: bool, compile_: bool, dtype: torch.dtype) -> Case:
    b, length, c = (2, 10, 8) if smoke else (64, 5 * 150, 512)
    h = torch.randn(b, length, c, device=dev, dtype=dtype, requires_grad=True)
    mask = torch.rand(b, length, device=dev) > 0.2
    scale = torch.randn(b, c, device=dev, dtype=dtype, requires_grad=True)
    shift = torch.randn(b, c, device=dev, dtype=dtype, requires_grad=True)
    runs = _three_ways("group_modulation", ops.group_modulation, ref.group_modulation, (h, mask, scale, shift),
                       [h, scale, shift], compile_)
    # fwd: read h, write y; bwd: read h and dy, write dh
    return Case("group_modulation fwd+bwd", f"B={b} L={length} C={c} {str(dtype)[6:]}", runs,
                min_bytes=5 * b * length * c * _elt(dtype))


def case_mix(dev: torch.device, smoke: bool, compile_: bool, dtype: torch.dtype) -> Case:
    n, p = (4, 100) if smoke else (32, 25_000_000)
    weights = torch.softmax(torch.randn(n, n, device=dev), 1)
    buffers = torch.randn(n, p, device=dev, dtype=dtype)
    out = torch.empty_like(buffers)
    runs = _three_ways("mix", ops.mix, ref.mix, (weights, buffers), None, compile_, out=out)
    return Case("mix out= (gossip)", f"M=N={n} P={p} {str(dtype)[6:]}", runs,
                min_bytes=2 * n * p * _elt(dtype), flops=2.0 * n * n * p)


def case_rot6d(dev: torch.device, smoke: bool, compile_: bool) -> Case:
    rows = 50 if smoke else 64 * 5 * 150 * 24
    x = torch.randn(rows, 6, device=dev, requires_grad=True)
    runs = _three_ways("rot6d", ops.rot6d_to_matrix, ref.rot6d_to_matrix, (x,), [x], compile_)
    return Case("rot6d_to_matrix fwd+bwd", f"R={rows} fp32", runs, min_bytes=rows * (6 + 9 + 9 + 6) * 4)


def case_fk(dev: torch.device, smoke: bool, compile_: bool) -> Case:
    poses = 6 if smoke else 64 * 5 * 150
    rot = ref.rot6d_to_matrix(torch.randn(poses, 24, 6, device=dev)).requires_grad_()
    root = torch.randn(poses, 3, device=dev, requires_grad=True)
    offsets = torch.randn(24, 3, device=dev) * 0.1
    runs = _three_ways("fk", ops.forward_kinematics, ref.forward_kinematics, (rot, root, offsets, SMPL_PARENTS),
                       [rot, root], compile_)
    # fwd: read R (216 floats), write joints (72); bwd: read R and d joints, write dR
    return Case("forward_kinematics fwd+bwd (SMPL)", f"poses={poses} J=24 fp32", runs,
                min_bytes=poses * (216 + 72 + 216 + 72 + 216) * 4)


def case_geo(dev: torch.device, smoke: bool, compile_: bool) -> Case:
    b, n, t = (1, 2, 4) if smoke else (64, 5, 150)
    pred = torch.randn(b, n, t, 24, 3, device=dev, requires_grad=True)
    target = torch.randn(b, n, t, 24, 3, device=dev)
    mask = torch.rand(b, n, t, device=dev) > 0.1
    contact = torch.rand(b, n, t, 4, device=dev) > 0.5
    runs = _three_ways("geo", ops.geometric_losses, ref.geometric_losses,
                       (pred, target, mask, SMPL_FOOT_JOINTS, contact), [pred], compile_)
    frames = b * n * t * 72 * 4
    return Case("geometric_losses fwd+bwd", f"B={b} N={n} T={t} J=24 fp32", runs, min_bytes=4 * frames)


def case_quantile_loss(dev: torch.device, smoke: bool, compile_: bool, cpu: bool) -> Case:
    """QR-GAN's generator loss (pairing "all"): batch m real and m fake samples, N quantiles."""
    m, n = (3, 4) if smoke else (64, 16) if cpu else (256, 32)
    real = torch.randn(m, n, device=dev, requires_grad=True)
    fake = torch.randn(m, n, device=dev, requires_grad=True)
    taus = (torch.arange(n, device=dev) + 0.5) / n
    runs = _three_ways("quantile_loss", ops.quantile_loss, ref.quantile_loss, (real, fake, taus), [real, fake],
                       compile_, pairing="all")
    # every (target, prediction) pair is visited: m*m*n*n pinball terms, ~4 FLOPs each, forward and backward
    return Case("quantile_loss fwd+bwd (all pairs)", f"m={m} N=M={n} fp32", runs,
                min_bytes=4 * m * n * 4, flops=8.0 * m * m * n * n)


def case_mean_shift(dev: torch.device, smoke: bool, compile_: bool, cpu: bool, kernel: str) -> Case:
    """ANC's neuron clustering: one mean-shift step of every neuron vector over all of them (3x3 conv, 64 in)."""
    s, d = (9, 5) if smoke else (256, 576) if cpu else (4096, 576)
    points = torch.randn(s, d, device=dev)
    runs = _three_ways("mean_shift", ops.mean_shift, ref.mean_shift, (points, points, float(d) ** 0.5, kernel),
                       None, compile_)
    return Case(f"mean_shift step ({kernel})", f"S=N={s} D={d} fp32", runs, min_bytes=3 * s * d * 4,
                flops=4.0 * s * s * d)


# ----------------------------------------------------------------------------------------------------- timing
def _time(fn: Fn, dev: torch.device, warmup: int, repeats: int) -> float:
    """Median seconds per call: CUDA events on a GPU, perf_counter on the CPU."""
    for _ in range(warmup):
        fn()
    samples = []
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        for _ in range(repeats):
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            samples.append(start.elapsed_time(stop) / 1e3)
    else:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def _peaks(dev: torch.device, args: argparse.Namespace) -> tuple[str, float, float]:
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    bw, flops = next((v for k, v in _PEAKS.items() if k in name), _PEAKS["H100"])
    return name, args.peak_bw or bw, args.peak_flops or flops


def _fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:9.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", default="all", help="comma-separated subset: info_nce,l2_topk,group_modulation,"
                        "mix,rot6d,fk,geo,quantile_loss,mean_shift")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile column")
    parser.add_argument("--smoke", action="store_true", help="CPU + Triton interpreter, tiny sizes (checks the script)")
    parser.add_argument("--cpu", action="store_true", help="CPU, one thread: eager vs torch.compile only (no fused)")
    parser.add_argument("--peak-bw", type=float, default=None, help="device peak bandwidth, bytes/s")
    parser.add_argument("--peak-flops", type=float, default=None, help="device peak FLOP/s for the matmul ops")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)

    if args.smoke:
        dev = torch.device("cpu")
        args.repeats, args.warmup = min(args.repeats, 3), 1
    elif args.cpu:
        dev = torch.device("cpu")
        torch.set_num_threads(1)
    elif torch.cuda.is_available():
        dev = torch.device("cuda")
    else:
        print("bench_kernels: no CUDA device; run on a GPU machine, or with --smoke to check the script on CPU")
        return 2
    compile_ = not args.no_compile and not args.smoke
    builders: dict[str, Callable[[], Case | list[Case]]] = {
        "info_nce": lambda: case_info_nce(dev, args.smoke, compile_),
        "l2_topk": lambda: case_l2_topk(dev, args.smoke, compile_),
        "group_modulation": lambda: [case_group_modulation(dev, args.smoke, compile_, d)
                                     for d in (torch.float32, torch.bfloat16)],
        "mix": lambda: [case_mix(dev, args.smoke, compile_, d) for d in (torch.float32, torch.bfloat16)],
        "rot6d": lambda: case_rot6d(dev, args.smoke, compile_),
        "fk": lambda: case_fk(dev, args.smoke, compile_),
        "geo": lambda: case_geo(dev, args.smoke, compile_),
        "quantile_loss": lambda: case_quantile_loss(dev, args.smoke, compile_, args.cpu),
        "mean_shift": lambda: [case_mean_shift(dev, args.smoke, compile_, args.cpu, k) for k in ("flat", "gaussian")],
    }
    wanted = list(builders) if args.ops == "all" else [o.strip() for o in args.ops.split(",")]
    unknown = [o for o in wanted if o not in builders]
    if unknown:
        parser.error(f"unknown ops {unknown}; choose from {', '.join(builders)}")

    name, peak_bw, peak_flops = _peaks(dev, args)
    print(f"device: {name}   torch {torch.__version__}   date {time.strftime('%Y-%m-%d')}   "
          f"median of {args.repeats}   peak {peak_bw / 1e12:.2f} TB/s, {peak_flops / 1e12:.0f} TFLOP/s")
    header = (f"| {'op':34} | {'size':34} | fused ms | eager ms | compile ms | eager/fused | compile/fused "
              f"| fused %BW | fused TFLOP/s |")
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    records = []
    for key in wanted:
        built = builders[key]()
        for case in built if isinstance(built, list) else [built]:
            if args.cpu:
                case.runs.pop("fused", None)
            for impl, fn in case.runs.items():
                try:
                    case.results[impl] = _time(fn, dev, args.warmup, args.repeats)
                except Exception as exc:  # noqa: BLE001 - a failing variant is reported, the others still run
                    print(f"  {case.name} [{impl}] failed: {type(exc).__name__}: {str(exc)[:200]}")
            fused, eager, comp = (case.results.get(k) for k in ("fused", "eager", "compile"))
            ratio_e = f"{eager / fused:11.2f}x" if fused and eager else "-"
            ratio_c = f"{comp / fused:13.2f}x" if fused and comp else "-"
            bw = f"{100 * case.min_bytes / fused / peak_bw:8.1f}%" if fused else "-"
            tf = f"{case.flops / fused / 1e12:13.1f}" if fused and case.flops else "-"
            print(f"| {case.name:34} | {case.size:34} | {_fmt(fused)} | {_fmt(eager)} | {_fmt(comp):>10} "
                  f"| {ratio_e:>11} | {ratio_c:>13} | {bw:>9} | {tf:>13} |")
            if args.cpu and eager and comp:
                print(f"  cpu, 1 thread: compile/eager = {comp / eager:.2f}x (no fused kernel on the CPU)")
            records.append({"op": case.name, "size": case.size, "seconds": case.results,
                            "min_bytes": case.min_bytes, "flops": case.flops})
    if args.json:
        payload = {"device": name, "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"),
                   "peak_bw": peak_bw, "peak_flops": peak_flops, "cases": records}
        atomic_write_json(args.json, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
