"""Worker of ``test_gcd.py::test_trains_under_torchrun_with_a_per_device_batch``: started once per rank with
torchrun's environment (WORLD_SIZE, RANK, MASTER_ADDR, ...); trains a micro GCD for two steps through ``zoo.train``
(the shared trainer joins the gloo process group) and writes this rank's weights and batch sizes.

Under torchrun itself: ``torchrun --standalone --nproc_per_node 2 plugins/gcd/tests/ddp_train.py OUT``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

import zoo
from zoo import constants

MICRO = dict(d_model=32, heads=2, ff_dim=64, layers=1, music_layers=1, mapping_layers=2, contrastive_layers=1,
             frames=16, batch_size=3, devices=2, train_size=32, test_size=4, ddim_steps=4, num_negatives=2)


def main(out: Path) -> None:
    """Train and write ``rank<r>.safetensors`` and ``rank<r>.json`` (the batch sizes this rank saw)."""
    rank = constants.dist_rank()
    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", seed=0, **MICRO)
    seen: list[int] = []
    original = model.denoiser.forward

    def counting(x_t, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(int(x_t.shape[0]))
        return original(x_t, *args, **kwargs)

    model.denoiser.forward = counting  # type: ignore[method-assign]
    zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=2, seed=0, progress=False)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(out / f"rank{rank}.safetensors"))
    (out / f"rank{rank}.json").write_text(json.dumps({"denoiser_batches": seen}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
