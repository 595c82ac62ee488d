"""The Triton kernels compile for a real GPU (sm_90) — checked on CPU, without a GPU.

The interpreter tests check results but never run the GPU compiler; this test compiles one variant of every kernel
ahead of time down to a cubin (``zoo.kernels.fused._aot --quick``) in a subprocess, since the kernels must be
imported with ``TRITON_INTERPRET`` unset.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_every_kernel_compiles_for_sm90(tmp_path):
    pytest.importorskip("triton")
    env = {**os.environ, "TRITON_INTERPRET": "0", "TRITON_CACHE_DIR": str(tmp_path / "triton-cache")}
    proc = subprocess.run([sys.executable, "-m", "zoo.kernels.fused._aot", "--quick"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    compiled = [line for line in proc.stdout.splitlines() if line.startswith("ok ")]
    names = {line.split()[1].split("[")[0] for line in compiled}
    assert names == {"_info_nce_fwd", "_info_nce_bwd", "_gm_fwd", "_gm_bwd", "_mix_kernel", "_l2_topk_kernel",
                     "_rot6d_fwd", "_rot6d_bwd", "_fk_fwd", "_fk_bwd", "_geo_fwd", "_geo_bwd",
                     "_pinball_fwd", "_count_greater", "_mean_shift_step"}
