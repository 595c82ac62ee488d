"""Compile every Triton kernel for a real GPU target without a GPU (a development check, run as a script).

The Triton interpreter runs kernels on CPU but never compiles them, so code that the GPU compiler rejects (tile
shapes, dtypes, unsupported constructs) would only show on a GPU. This script runs each op's Python wrapper,
forward and backward, at GPU block sizes on CPU tensors; every kernel launch is intercepted and, instead of running,
compiled ahead of time for ``--arch`` (default sm_90, the H100) down to a cubin with the ptxas that ships with
Triton. It checks compilation only, not results (the interpreter parity tests do that).

    TRITON_INTERPRET=0 python -m zoo.kernels.fused._aot [--arch 90] [--quick]

Exit status 0 when every launch compiled; prints one line per compiled kernel variant.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

if __name__ == "__main__":
    os.environ["TRITON_INTERPRET"] = "0"  # kernels must be real JIT functions, not interpreted ones

import torch
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from triton.runtime.jit import JITFunction

from zoo import constants

_TYPES = {
    torch.float16: "fp16", torch.bfloat16: "bf16", torch.float32: "fp32", torch.float64: "fp64",
    torch.int8: "i8", torch.int32: "i32", torch.int64: "i64", torch.bool: "i1", torch.uint8: "u8",
}
_LAUNCH_OPTIONS = ("num_warps", "num_stages", "num_ctas")


def _signature(kernel: JITFunction, args: tuple, kwargs: dict) -> tuple[dict[str, str], dict[str, Any], dict]:
    values = dict(zip(kernel.arg_names, args))
    values.update({k: v for k, v in kwargs.items() if k not in _LAUNCH_OPTIONS})
    options = {k: v for k, v in kwargs.items() if k in _LAUNCH_OPTIONS}
    signature: dict[str, str] = {}
    constexprs: dict[str, Any] = {}
    for param in kernel.params:
        value = values[param.name]
        if param.is_constexpr:
            signature[param.name] = "constexpr"
            constexprs[param.name] = value
        elif isinstance(value, torch.Tensor):
            signature[param.name] = "*" + _TYPES[value.dtype]
        elif isinstance(value, bool):
            signature[param.name] = "i1"
        elif isinstance(value, int):
            signature[param.name] = "i32" if -(2**31) <= value < 2**31 else "i64"
        elif isinstance(value, float):
            signature[param.name] = "fp32"
        else:
            raise TypeError(f"{kernel.fn.__name__}: cannot type argument {param.name}={value!r}")
    return signature, constexprs, options


class Recorder:
    """Replaces ``kernel[grid](...)`` launches by ahead-of-time compilation for one target."""

    def __init__(self, target: GPUTarget) -> None:
        self.target = target
        self.compiled: list[str] = []
        self.failures: list[str] = []
        self._seen: set[str] = set()

    def launch(self, kernel: JITFunction, grid: Any) -> Callable[..., None]:
        def run(*args: Any, **kwargs: Any) -> None:
            signature, constexprs, options = _signature(kernel, args, kwargs)
            key = f"{kernel.fn.__name__} {sorted(signature.items())} {sorted(map(str, constexprs.items()))} {options}"
            if key in self._seen:
                return
            self._seen.add(key)
            label = f"{kernel.fn.__name__}[{', '.join(f'{k}={v}' for k, v in constexprs.items())}]"
            start = time.perf_counter()
            try:
                binary = triton.compile(ASTSource(kernel, signature, constexprs=constexprs), target=self.target,
                                        options=options)
                took = time.perf_counter() - start
                self.compiled.append(label)
                print(f"ok    {label}  ({len(binary.asm['cubin'])} B cubin, {took:.1f} s)")
            except Exception as exc:  # noqa: BLE001 - report every failure, then go on
                self.failures.append(f"{label}: {type(exc).__name__}: {exc}")
                print(f"FAIL  {label}: {type(exc).__name__}: {str(exc)[:2000]}")

        return run


def _exercise(quick: bool = False) -> None:
    """Run every op's Triton wrapper forward and backward on small CPU tensors at GPU block sizes.

    ``quick``: float32 only and one top-k configuration (one variant of each kernel).
    """
    from zoo.kernels.fused import (
        geometric_losses,
        geometry,
        group_modulation,
        info_nce,
        l2_topk,
        mean_shift,
        mix,
        quantile_loss,
    )
    from zoo.kernels.reference import SMPL_FOOT_JOINTS, SMPL_PARENTS

    l2_topk._sm_count = lambda device: 132  # type: ignore[assignment]
    g = torch.Generator().manual_seed(0)
    for dtype in (torch.float32,) if quick else (torch.float32, torch.bfloat16, torch.float64):
        x = torch.randn(8, 65, generator=g).to(dtype).requires_grad_()
        info_nce.info_nce(x, 0.1).backward()
        h = torch.randn(2, 30, 64, generator=g).to(dtype).requires_grad_()
        s = torch.randn(2, 64, generator=g).to(dtype).requires_grad_()
        t = torch.randn(2, 64, generator=g).to(dtype).requires_grad_()
        group_modulation.group_modulation(h, torch.ones(2, 30, dtype=torch.bool), s, t).sum().backward()
        long = torch.randn(1, 2000, 64, generator=g).to(dtype).requires_grad_()  # the streaming path
        group_modulation.group_modulation(long, torch.ones(1, 2000, dtype=torch.bool), s[:1], t[:1]).sum().backward()
        w = torch.randn(16, 16, generator=g).requires_grad_()
        b = torch.randn(16, 512, generator=g).to(dtype).requires_grad_()
        mix.mix(w, b).float().sum().backward()
        mix.mix(w.detach(), b.detach(), out=b.detach())
        r6 = torch.randn(40, 6, generator=g).to(dtype).requires_grad_()
        for convention in ("columns", "rows"):
            geometry.rot6d_to_matrix(r6, convention).sum().backward()
        rot = torch.randn(5, 24, 3, 3, generator=g).to(dtype).requires_grad_()
        root = torch.randn(5, 3, generator=g).to(dtype).requires_grad_()
        offsets = torch.randn(24, 3, generator=g).to(dtype)
        geometry.forward_kinematics(rot, root, offsets, SMPL_PARENTS).sum().backward()
        pred = torch.randn(1, 2, 5, 24, 3, generator=g).to(dtype).requires_grad_()
        losses = geometric_losses.geometric_losses(pred, pred.detach(), torch.ones(1, 2, 5, dtype=torch.bool),
                                                   SMPL_FOOT_JOINTS, torch.ones(1, 2, 5, 4, dtype=torch.bool))
        sum(losses.values()).backward()
        real = torch.randn(20, 8, generator=g).to(dtype).requires_grad_()
        fake = torch.randn(12, 8, generator=g).to(dtype).requires_grad_()
        fractions = (torch.arange(8) + 0.5) / 8
        for pairing in ("all", "matched"):
            quantile_loss.quantile_loss(real, fake, fractions, pairing).backward()
        pts = torch.randn(100, 40, generator=g).to(dtype)
        for kernel in ("flat", "gaussian"):
            mean_shift.mean_shift(pts[:30], pts, 3.0, kernel)
    if not quick:
        mix.mix(torch.randn(16, 16, generator=g), torch.randn(16, 512, generator=g).half())
    for dtype in (torch.float32,) if quick else (torch.float32, torch.float16):
        for k in (10,) if quick else (10, 100):
            l2_topk.l2_topk(torch.randn(64, 128, generator=g).to(dtype), torch.randn(300, 128, generator=g).to(dtype),
                            k)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="compile the zoo Triton kernels for a GPU target, without a GPU")
    parser.add_argument("--arch", type=int, default=90, help="CUDA compute capability as an int (90 = H100)")
    parser.add_argument("--quick", action="store_true", help="float32 only: one variant of each kernel")
    args = parser.parse_args(argv)
    if constants.triton_interpret():
        print("_aot: run with TRITON_INTERPRET unset or 0 (kernels must be real JIT functions)")
        return 2
    recorder = Recorder(GPUTarget("cuda", args.arch, 32))
    original = JITFunction.__getitem__
    JITFunction.__getitem__ = lambda self, grid: recorder.launch(self, grid)  # type: ignore[method-assign]
    try:
        _exercise(args.quick)
    finally:
        JITFunction.__getitem__ = original  # type: ignore[method-assign]
    print(f"{len(recorder.compiled)} kernel variants compiled for sm_{args.arch}, {len(recorder.failures)} failed")
    return 1 if recorder.failures else 0


if __name__ == "__main__":
    sys.exit(main())
