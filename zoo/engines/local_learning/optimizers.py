"""Per-module optimizers presented as one optimizer, so the trainer's schedule, checkpoints and resume apply."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch

from zoo.errors import ConfigError


class ModuleOptimizers(torch.optim.Optimizer):
    """A list of optimizers (one per local module) that behaves as one for the trainer.

    ``param_groups`` are the sub-optimizers' own group dicts, so an LR scheduler built on this object sets the
    learning rate of every module; ``state_dict``/``load_state_dict`` hold every sub-optimizer's state (exact
    resume); ``step()`` steps them all, ``self[k].step()`` one module (mode b: module ``k`` steps right after
    its own backward).
    """

    def __init__(self, optimizers: Sequence[torch.optim.Optimizer]) -> None:
        if not optimizers:
            raise ConfigError("ModuleOptimizers needs at least one optimizer")
        self.optimizers = list(optimizers)
        params = [p for opt in self.optimizers for g in opt.param_groups for p in g["params"]]
        super().__init__([{"params": params}], {})
        self.param_groups = [g for opt in self.optimizers for g in opt.param_groups]
        for opt in self.optimizers:  # a module stepping on its own counts as a step for the LR scheduler
            opt.register_step_post_hook(lambda *_: setattr(self, "_opt_called", True))

    def __len__(self) -> int:
        return len(self.optimizers)

    def __getitem__(self, k: int) -> torch.optim.Optimizer:
        return self.optimizers[k]

    def __iter__(self) -> Iterator[torch.optim.Optimizer]:
        return iter(self.optimizers)

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:  # type: ignore[override]
        """Step every module's optimizer."""
        for opt in self.optimizers:
            opt.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Zero every module's gradients."""
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:  # type: ignore[override]
        """Every sub-optimizer's state dict (plus an empty top-level state, as checkpoints expect)."""
        return {"state": {}, "param_groups": [], "optimizers": [opt.state_dict() for opt in self.optimizers]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:  # type: ignore[override]
        """Restore what :meth:`state_dict` returned (state keys may arrive as strings from JSON)."""
        subs = state_dict.get("optimizers", [])
        if len(subs) != len(self.optimizers):
            raise ConfigError(f"checkpoint holds {len(subs)} module optimizers, this run has {len(self.optimizers)}")
        for opt, sub in zip(self.optimizers, subs):
            sub = dict(sub, state={int(k): v for k, v in sub.get("state", {}).items()})
            opt.load_state_dict(sub)
        self.param_groups = [g for opt in self.optimizers for g in opt.param_groups]

    def state_bytes(self) -> int:
        """Bytes held by the optimizers' state (momentum, Adam moments)."""
        return sum(optimizer_state_bytes(opt) for opt in self.optimizers)


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes of the tensors an optimizer keeps between steps."""
    if isinstance(optimizer, ModuleOptimizers):
        return optimizer.state_bytes()
    return sum(v.numel() * v.element_size() for s in optimizer.state.values() for v in s.values()
               if isinstance(v, torch.Tensor))
