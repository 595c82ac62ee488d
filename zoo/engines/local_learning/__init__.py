"""Supervised local learning and back-propagation-free training: the shared engine.

A network is a sequence of layers split into gradient-isolated local modules (:class:`LocalNet`). The engine
runs one of five execution modes:

- (a) ``local``: per module, forward, local loss through its auxiliary network, **immediate backward**, then
  **detach** — one optimizer steps once (InfoPro / DGL / AugLocal / MAN reference behaviour; the ordering the
  memory saving comes from);
- (b) ``per_module``: the same with one optimizer per module stepping right after its own backward
  (:class:`ModuleOptimizers`, which the trainer schedules and checkpoints as one optimizer);
- (c) forward-only rules (:mod:`.forward_only`): detached inputs, each layer trained by a local loss against a
  target it can compute alone (fixed random projections of the labels) or by a forward rule (Hebbian);
- (d) forward-forward (:mod:`.forward_forward`): positive and negative passes, a goodness per layer;
- (e) ``end_to_end``: the same model trained by plain back-propagation from the head (the fair baseline).

Layers may take several inputs (graph features and edges: ``context``); auxiliary losses can be weighted per
module or per stage (:class:`LossWeightSchedule`); memory is measured the way the papers report it
(:func:`measure_training_memory`: CUDA peak on a GPU, activations + parameters + gradients + optimizer state on
CPU). Trainer integration: :func:`local_backward_fn` gives a ``backward_fn`` for
:func:`zoo.engines.trainer.fit`, so every local loss gets the NaN check, mixed precision and gradient clipping.

::

    net = LocalNet(layers, head, boundaries=(3, 7, 11), aux=[aux0, aux1, aux2])
    fit(net, data, None, recipe, options, backward_fn=local_backward_fn("local"))
    logits = net(images)                                      # inference: aux networks unused
"""
from zoo.engines.local_learning.memory import (
    MemoryReport,
    SavedTensorMeter,
    TrainingMemory,
    measure_training_memory,
    peak_saved_bytes,
)
from zoo.engines.local_learning.modes import (
    MODES,
    local_backward_fn,
    local_forward_backward,
    local_step,
    local_step_per_module,
    per_module_optimizers,
    plain_backward,
)
from zoo.engines.local_learning.net import AuxNet, LocalNet, call_layer, split_boundaries
from zoo.engines.local_learning.optimizers import ModuleOptimizers, optimizer_state_bytes
from zoo.engines.local_learning.weights import LossWeightSchedule

__all__ = [
    "MODES", "AuxNet", "LocalNet", "LossWeightSchedule", "MemoryReport", "ModuleOptimizers", "SavedTensorMeter",
    "TrainingMemory", "call_layer", "local_backward_fn", "local_forward_backward", "local_step",
    "local_step_per_module", "measure_training_memory", "optimizer_state_bytes", "peak_saved_bytes",
    "per_module_optimizers", "plain_backward", "split_boundaries",
]
