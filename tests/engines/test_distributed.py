"""Two CPU processes (gloo) train with torchrun's environment contract.

The replicas agree, and match one process trained on the full batch.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from zoo.engines.sampling import StepSampler
from zoo.engines.trainer import fit
from zoo.options import TrainOptions

HERE = Path(__file__).parent


def _worker_module():
    spec = importlib.util.spec_from_file_location("zoo_tests_ddp_worker", HERE / "ddp_worker.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_rank_shards_partition_the_global_batch() -> None:
    shards = [StepSampler(50, 4, seed=3, rank=r, world_size=2).indices(7) for r in range(2)]
    whole = StepSampler(50, 8, seed=3).indices(7)
    assert sorted(torch.cat(shards).tolist()) == sorted(whole.tolist())
    assert set(shards[0].tolist()).isdisjoint(shards[1].tolist())


def test_two_process_gloo_training_agrees(tmp_path: Path) -> None:
    worker = _worker_module()
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    procs = []
    port, second_port = str(_free_port()), str(_free_port())
    for rank in range(2):
        # the variables torchrun sets for each worker (torchrun's agent process costs ~10 s here, so the
        # test plays the launcher itself; docs/distributed.md shows the torchrun command)
        env_rank = dict(
            env,
            WORLD_SIZE="2",
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            LOCAL_WORLD_SIZE="2",
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=port,
        )
        cmd = [sys.executable, str(HERE / "ddp_worker.py"), str(tmp_path), "both", second_port]
        procs.append(
            subprocess.Popen(cmd, env=env_rank, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        )
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=150)
            assert proc.returncode == 0, out[-4000:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()

    # reference: one process, the same model and seed, the global batch (2 x 8) in one step
    torch.manual_seed(0)
    reference = worker.Net()
    initial = {k: v.clone() for k, v in reference.state_dict().items()}
    recipe = dataclasses.replace(worker.RECIPE, batch_size=2 * worker.RECIPE.batch_size)
    fit(reference, worker.data(), worker.loss_forward, recipe, TrainOptions(seed=0, progress=False))

    for mode in ("forward", "submodule"):
        rank0 = load_file(str(tmp_path / f"{mode}-rank0.safetensors"))
        rank1 = load_file(str(tmp_path / f"{mode}-rank1.safetensors"))
        for name, value in rank0.items():
            assert torch.equal(value, rank1[name]), f"{mode}: replicas disagree on {name}"
            assert not torch.equal(value, initial[name]), f"{mode}: {name} did not train"
            torch.testing.assert_close(value, reference.state_dict()[name], rtol=1e-5, atol=1e-6)
    # only rank 0 wrote the run's files
    assert (tmp_path / "forward" / "history.json").is_file()
    assert len(list((tmp_path / "forward" / "checkpoints").iterdir())) == 1
