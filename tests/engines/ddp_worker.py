"""Worker started by ``test_distributed.py`` with torchrun's environment (``WORLD_SIZE``, ``RANK``, ...).

Each rank trains the same tiny model with :func:`zoo.engines.trainer.fit` in two modes, one after the other
(``forward``: the loss goes through the DDP wrapper's forward and fit joins the process group itself;
``submodule``: the loss calls a submodule directly, so gradients are synchronised by hand, and the caller owns
the process group), and writes its final weights to ``<out>/<mode>-rank<r>.safetensors``. One mode at a time
runs as is under ``torchrun --standalone --nproc_per_node 2 ddp_worker.py OUT forward``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from zoo.engines.trainer import Recipe, fit
from zoo.options import TrainOptions


class Net(nn.Module):
    """A two-layer MLP whose body can be called directly."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def data() -> torch.utils.data.TensorDataset:
    """Fixed toy data (identical on every rank)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 6, generator=g)
    return torch.utils.data.TensorDataset(x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long())


def loss_forward(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    return nn.functional.cross_entropy(model(batch[0]), batch[1])


def loss_submodule(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    return nn.functional.cross_entropy(model.body(batch[0]), batch[1])


RECIPE = Recipe(steps=6, batch_size=8, lr=0.2, optimizer="sgd", momentum=0.0)


def run(out: Path, mode: str, seed: int = 0) -> None:
    """Train in ``mode`` (``forward``: fit joins the process group; ``submodule``: the caller owns it)."""
    import os

    import torch.distributed as dist

    loss_fn = loss_forward if mode == "forward" else loss_submodule
    torch.manual_seed(seed)
    model = Net()
    if mode == "submodule":
        dist.init_process_group("gloo")
    out_dir = (
        str(out / mode) if mode == "forward" else None
    )  # one run writing files is enough to check rank 0
    fit(model, data(), loss_fn, RECIPE, TrainOptions(seed=seed, progress=False, out_dir=out_dir))
    if mode == "forward":
        assert not dist.is_initialized(), "fit must leave the process group it created"
    rank = int(os.environ["RANK"])
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()},
        str(out / f"{mode}-rank{rank}.safetensors"),
    )
    if dist.is_initialized():
        dist.destroy_process_group()


def main(out: Path, mode: str, second_port: str | None = None) -> None:
    """Run ``forward``, ``submodule``, or ``both`` (the second process group rendezvous on ``second_port``).

    ``both`` needs a launcher where rank 0 hosts the rendezvous store (the test's), not torchrun's agent.
    """
    import os

    if mode != "both":
        run(out, mode)
        return
    run(out, "forward")
    os.environ["MASTER_PORT"] = str(second_port)
    run(out, "submodule")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], *sys.argv[3:4])
