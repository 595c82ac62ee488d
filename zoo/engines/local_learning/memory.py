"""Training memory measured the way the papers report it.

The local-learning papers' "X % less GPU memory than BP" is the peak CUDA memory of training
(``torch.cuda.max_memory_allocated``): parameters, gradients, optimizer state and the activations autograd keeps
for backward, at their peak. On a GPU :func:`measure_training_memory` reports exactly that. On a CPU it reports the
same sum from its parts — **peak saved activations** (counted with saved-tensor hooks) **+ parameters and buffers +
gradients + optimizer state** — so a ratio to BP is like for like; the activation part alone is reported too.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo.engines.local_learning.optimizers import optimizer_state_bytes


@dataclass
class MemoryReport:
    """Peak and total bytes autograd saved for backward during a measured region."""

    peak_bytes: int = 0
    total_bytes: int = 0


class _Counted:
    """A saved tensor wrapper that gives its bytes back to the meter when autograd frees it."""

    __slots__ = ("tensor", "__weakref__")

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor


class SavedTensorMeter:
    """Counts the bytes of tensors autograd saves for backward, live and at peak (CPU or GPU).

    Storage shared by several saved tensors is counted once per save, as autograd keeps a reference each time;
    parameters are not activations (they are counted separately), so leaf tensors that require grad are skipped.
    """

    def __init__(self) -> None:
        self.live = 0
        self.report = MemoryReport()

    def _pack(self, tensor: torch.Tensor) -> Any:
        if isinstance(tensor, nn.Parameter) or (tensor.is_leaf and tensor.requires_grad):
            return tensor
        size = tensor.numel() * tensor.element_size()
        self.live += size
        self.report.total_bytes += size
        self.report.peak_bytes = max(self.report.peak_bytes, self.live)
        box = _Counted(tensor)
        weakref.finalize(box, self._release, size)
        return box

    def _release(self, size: int) -> None:
        self.live -= size

    @staticmethod
    def _unpack(box: Any) -> torch.Tensor:
        return box.tensor if isinstance(box, _Counted) else box

    @contextmanager
    def measure(self) -> Iterator[MemoryReport]:
        """Count saved tensors inside the ``with`` block; the yielded report fills in as it runs."""
        with torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack):
            yield self.report


def peak_saved_bytes(step: Callable[[], Any]) -> int:
    """Run ``step()`` (a forward+backward) and return the peak bytes saved for backward."""
    meter = SavedTensorMeter()
    with meter.measure() as report:
        step()
    return report.peak_bytes


def tensor_bytes(tensors: Iterable[torch.Tensor | None]) -> int:
    """Total bytes of the given tensors (``None`` entries skipped)."""
    return sum(t.numel() * t.element_size() for t in tensors if t is not None)


@dataclass
class TrainingMemory:
    """One training step's memory, by part and in total (bytes).

    ``cpu_total`` = ``activations`` (peak saved for backward) + ``parameters`` (with buffers) + ``gradients`` +
    ``optimizer_state``; ``cuda_peak`` is ``torch.cuda.max_memory_allocated`` during the step (None on CPU).
    """

    activations: int
    parameters: int
    gradients: int
    optimizer_state: int
    cuda_peak: int | None = None

    @property
    def cpu_total(self) -> int:
        """The papers' quantity assembled from its parts (works on any device)."""
        return self.activations + self.parameters + self.gradients + self.optimizer_state

    def as_dict(self) -> dict[str, float]:
        """All figures in MiB."""
        mib = 2.0 ** 20
        out = {"activations_mib": self.activations / mib, "parameters_mib": self.parameters / mib,
               "gradients_mib": self.gradients / mib, "optimizer_state_mib": self.optimizer_state / mib,
               "total_mib": self.cpu_total / mib}
        if self.cuda_peak is not None:
            out["cuda_peak_mib"] = self.cuda_peak / mib
        return out


def measure_training_memory(model: nn.Module, step: Callable[[], Any],
                            optimizers: Iterable[torch.optim.Optimizer] = ()) -> TrainingMemory:
    """Measure one training step ``step()`` (zero grads, forward, backward(s), optimizer step(s)).

    The step is run twice: a warm-up (so gradients and optimizer state exist, as in the middle of training),
    then the measured one. Parameters and buffers of ``model``, every gradient alive after the step and the
    state of ``optimizers`` are added to the peak of saved activations.
    """
    optimizers = list(optimizers)
    step()
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    meter = SavedTensorMeter()
    with meter.measure() as report:
        step()
    cuda_peak = None
    if cuda:
        torch.cuda.synchronize(device)
        cuda_peak = int(torch.cuda.max_memory_allocated(device))
    params = tensor_bytes(model.parameters()) + tensor_bytes(model.buffers())
    grads = tensor_bytes(p.grad for p in model.parameters())
    state = sum(optimizer_state_bytes(opt) for opt in optimizers)
    return TrainingMemory(report.peak_bytes, params, grads, state, cuda_peak)


def measure_run_memory(model: nn.Module, run: Callable[[list[Any]], Any], device: str = "cpu") -> TrainingMemory:
    """Memory of a short training run through the shared trainer, each method's own step included.

    ``run(callbacks)`` trains ``model`` (e.g. ``lambda cbs: zoo.train(model, data, steps=2, callbacks=cbs)``). The
    peak of saved activations is taken over the whole run; parameters, buffers and gradients are counted after it,
    with the state of the optimizer the trainer reports at ``on_train_end``; on a GPU the run's
    ``torch.cuda.max_memory_allocated`` is reported too (``device``: where ``run`` trains).
    """
    captured: dict[str, Any] = {}

    def grab(event: str, state: dict[str, Any]) -> None:
        if event == "on_train_end":
            captured["optimizer"] = state.get("optimizer")

    cuda = device.startswith("cuda") and torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    meter = SavedTensorMeter()
    with meter.measure() as report:
        run([grab])
    cuda_peak = None
    if cuda:
        torch.cuda.synchronize()
        cuda_peak = int(torch.cuda.max_memory_allocated())
    opt = captured.get("optimizer")
    return TrainingMemory(report.peak_bytes, tensor_bytes(model.parameters()) + tensor_bytes(model.buffers()),
                          tensor_bytes(p.grad for p in model.parameters()),
                          optimizer_state_bytes(opt) if opt is not None else 0, cuda_peak)
