"""Inference = topology design: from an underlay distance matrix to every overlay's cycle time, and the pictures.

Options (CLI ``--key value`` or ``zoo.infer(model, inputs, **options)``):

* ``network``: a bundled network name (gaia, amazon_us, geant, exodus, ebone), ``toy:N`` or a ``.gml`` path; used by
  ``zoo_prepare_inputs`` to make the ``distance`` input, and for node labels in the pictures.
* ``model`` (or ``dataset``): ``femnist``, ``inaturalist`` or ``sent140``: use that dataset's model size, compute time per step and
  number of rounds (the paper's setup). Without it, the model being built (its fp32 parameters) and the variant's
  ``compute_ms``/``sim_rounds`` are used.
* ``size``: ``paper`` (default: the number the paper/code uses as M, in "bits") or ``params`` (the true size in
  bits of the fp32 parameters of the dataset's model as built here).
* ``preset``: a named time model, ``published`` (reproduces the paper's cycle-time table) or ``blog``; the
  options below override it.
* ``t`` (or ``t_max``), ``cycle_time`` (max | cycle_mean), ``core_bps``, ``up_bps``, ``recursion``, ``rounds``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping

import torch

from zoo.errors import ConfigError

from .config import MultigraphConfig, with_time_model
from .design import Design, design, format_table, time_model_of
from .model import build_arch, model_bits, profile
from .underlay import Underlay, load_underlay, underlay_from_matrix

def configured(cfg: MultigraphConfig, options: Mapping[str, Any]) -> MultigraphConfig:
    """``cfg`` with the time-model options that were given (not ``None``) applied."""
    if options.get("preset") is not None:
        cfg = with_time_model(cfg, str(options["preset"]))
    changes: dict[str, Any] = {}
    if options.get("t") is not None:
        changes["t_max"] = int(options["t"])
    for key, kind in (("cycle_time", str), ("core_bps", float), ("recursion", str)):
        if options.get(key) is not None:
            changes[key] = kind(options[key])
    if options.get("up_bps") is not None:
        changes["up_bps"] = changes["down_bps"] = float(options["up_bps"])
    return dataclasses.replace(cfg, **changes)


def underlay_of(inputs: Mapping[str, Any], options: Mapping[str, Any]) -> Underlay:
    """The underlay from the ``distance`` input, with names and labels of ``options['network']`` when it matches."""
    dist = inputs["distance"]
    matrix = dist.detach().to(torch.float64).cpu().numpy() if isinstance(dist, torch.Tensor) else dist
    underlay = underlay_from_matrix(matrix)
    name = options.get("network")
    if name:
        named = load_underlay(str(name))
        if named.num_nodes == underlay.num_nodes:
            return Underlay(named.name, underlay.distance, named.labels)
    return underlay


def run_design(model: torch.nn.Module, cfg: MultigraphConfig, inputs: Mapping[str, Any],
               options: Mapping[str, Any]) -> Design:
    """The design for these inputs and options (see module docstring)."""
    cfg = configured(cfg, options)
    underlay = underlay_of(inputs, options)
    rounds = options.get("rounds")
    dataset = options.get("dataset") or options.get("model")
    if dataset:
        prof = profile(str(dataset))
        size = str(options.get("size") or "paper")
        if size == "paper":
            bits = prof.paper_size
        elif size == "params":
            bits = model_bits(build_arch(prof.arch))
        else:
            raise ConfigError(f"size must be 'paper' or 'params', got {size!r}")
        tm = time_model_of(cfg, bits, prof.compute_ms)
        rounds = rounds or prof.rounds
    else:
        tm = time_model_of(cfg, model_bits(model), cfg.compute_ms)
    baselines = options.get("baselines") is not False
    return design(underlay, cfg, tm, rounds=rounds, baselines=baselines)


def infer(model: torch.nn.Module, inputs: Mapping[str, Any], config: MultigraphConfig,
          options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``infer`` hook: every topology's cycle time (ms), the multigraph's states and isolated nodes."""
    return outputs_of(run_design(model, config, inputs, options))


def outputs_of(d: Design) -> dict[str, Any]:
    """JSON-able numbers and small tensors describing a design."""
    times = {k: round(float(v), 3) for k, v in d.cycle_time_ms.items()}
    ring = d.cycle_time_ms["RING"]
    return {
        "cycle_time_ms": times,
        "speedup_vs_ring": {k: round(ring / float(v), 3) for k, v in d.cycle_time_ms.items()},
        "model_bits": float(d.time_model.model_bits),
        "compute_ms": float(d.time_model.compute_ms),
        "num_states": int(d.multigraph.num_states),
        "isolated_per_state": torch.tensor(d.multigraph.isolated_counts(), dtype=torch.long),
        "n_edges": torch.as_tensor(d.multigraph.n_edges * d.multigraph.overlay, dtype=torch.long),
        "ring": torch.as_tensor(d.multigraph.overlay),
        "distance": torch.as_tensor(d.underlay.distance, dtype=torch.float32),
        "table": format_table(d),
    }


def save(outputs: Mapping[str, Any], out_dir: Path, options: Mapping[str, Any]) -> list[Path]:
    """Write the table, the numbers and the three pictures; print the table."""
    import json

    import numpy as np

    from zoo.io import atomic_write_text

    from .multigraph import Multigraph
    from .viz import draw_multigraph, draw_overlay, draw_underlay, positions

    out_dir.mkdir(parents=True, exist_ok=True)
    underlay = underlay_of({"distance": outputs["distance"]}, options)
    table = str(outputs["table"])
    print(table)
    paths = [out_dir / "cycle_times.txt", out_dir / "cycle_times.json"]
    atomic_write_text(paths[0], table + "\n")
    numbers = {k: v for k, v in outputs.items() if isinstance(v, (dict, float, int))}
    numbers["isolated_per_state"] = outputs["isolated_per_state"].tolist()
    atomic_write_text(paths[1], json.dumps(numbers, indent=2) + "\n")
    ring = outputs["ring"].numpy().astype(bool)
    n_edges = np.maximum(outputs["n_edges"].numpy(), 1)
    mg = Multigraph(ring, n_edges, np.zeros(ring.shape))
    pos = positions(underlay)
    paths.append(draw_underlay(underlay, out_dir / "underlay.png", pos))
    paths.append(draw_overlay(underlay, ring, out_dir / "overlay_ring.png", "RING overlay (Christofides)", pos))
    paths.append(draw_multigraph(underlay, mg, out_dir / "multigraph.png", pos=pos))
    return paths
