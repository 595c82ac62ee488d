"""Checkpoints of federated runs: everything needed to continue a run exactly, in safetensors + JSON.

A checkpoint folder (written in a temporary sibling, then renamed: a folder that exists is complete) holds

* ``server.safetensors``: every cohort's global vector and server state (``cohort/<name>/global``,
  ``cohort/<name>/server/<key>``); for a decentralised run the model bank;
* ``clients.safetensors``: the client store (``<client>/<key>``: algorithm state, optimiser state, local
  parameters, buffers, codec residuals); ``down.safetensors``: the server's per-client downlink codec state;
* ``data.safetensors``: the sample indices of clients whose data changed during the run;
* ``state.json``: round index, history, and a description used to refuse a mismatched simulator.

Every random draw of the engine comes from ``(seed, round, client)``, so no RNG state is needed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from zoo.errors import FederatedError
from zoo.engines.federated.records import FLHistory
from zoo.engines.federated.store import store_to_tensors, tensors_to_store

if TYPE_CHECKING:
    from zoo.engines.federated.simulator import DecentralizedSimulator, FederatedSimulator


def _save(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}, str(path))


def _load(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    if not path.is_file():
        raise FederatedError(f"checkpoint file {path} is missing")
    return load_file(str(path))


def _describe(kind: str, num_clients: int, sizes: dict[str, int], seed: int) -> dict[str, Any]:
    return {"kind": kind, "num_clients": num_clients, "sizes": sizes, "seed": seed}


def _check(meta: dict[str, Any], expected: dict[str, Any], path: Path) -> None:
    for key, value in expected.items():
        if meta.get(key) != value:
            raise FederatedError(f"checkpoint {path} was written by a run with {key}={meta.get(key)!r}; this "
                                 f"simulator has {key}={value!r}")


def save_simulator(sim: FederatedSimulator, path: str | Path) -> Path:
    """Write a :class:`~zoo.engines.federated.simulator.FederatedSimulator` checkpoint to a new folder ``path``."""
    from zoo.io import atomic_directory

    target = Path(path)
    server: dict[str, torch.Tensor] = {}
    for name, c in sim.cohorts.items():
        server[f"cohort/{name}/global"] = c.global_vec
        for key, v in c.server_state.items():
            server[f"cohort/{name}/server/{key}"] = v
    data = {str(k): torch.as_tensor(sim.data.indices[k]) for k in sorted(sim._changed_indices)}
    meta = {**_describe("server", sim.num_clients, {n: c.layout.numel for n, c in sim.cohorts.items()}, sim.seed),
            "round_idx": sim.round_idx, "version": sim.core.version, "history": sim.history.to_json()}
    with atomic_directory(target) as tmp:
        _save(tmp / "server.safetensors", server)
        _save(tmp / "clients.safetensors", store_to_tensors(sim.store))
        _save(tmp / "down.safetensors", store_to_tensors(sim.core.down_store))
        _save(tmp / "data.safetensors", data)
        (tmp / "state.json").write_text(json.dumps(meta))
    return target


def load_simulator(sim: FederatedSimulator, path: str | Path) -> None:
    """Restore a checkpoint into ``sim`` (same models, data and seed as the run that wrote it)."""
    folder = Path(path)
    meta = json.loads((folder / "state.json").read_text())
    _check(meta, _describe("server", sim.num_clients, {n: c.layout.numel for n, c in sim.cohorts.items()}, sim.seed),
           folder)
    server = _load(folder / "server.safetensors")
    for name, c in sim.cohorts.items():
        c.global_vec = server[f"cohort/{name}/global"].to(sim.device)
        prefix = f"cohort/{name}/server/"
        c.server_state = {k[len(prefix):]: v.to(sim.device) for k, v in server.items() if k.startswith(prefix)}
    for k in list(sim.store.clients()):
        sim.store.put(k, {})
    tensors_to_store(_load(folder / "clients.safetensors"), sim.store)
    tensors_to_store(_load(folder / "down.safetensors"), sim.core.down_store)
    for k, idx in _load(folder / "data.safetensors").items():
        sim.set_client_indices(int(k), np.asarray(idx.numpy(), dtype=np.int64))
    sim.round_idx = int(meta["round_idx"])
    sim.core.version = int(meta["version"])
    sim.history = FLHistory.from_json(meta["history"])


def save_decentralized(sim: DecentralizedSimulator, path: str | Path) -> Path:
    """Write a :class:`~zoo.engines.federated.simulator.DecentralizedSimulator` checkpoint to ``path``."""
    from zoo.io import atomic_directory

    target = Path(path)
    meta = {**_describe("decentralized", sim.num_clients, {"default": sim.layout.numel}, sim.seed),
            "round_idx": sim.round_idx, "head": sim.head, "history": sim.history.to_json()}
    with atomic_directory(target) as tmp:
        _save(tmp / "server.safetensors", {"bank": sim.bank})
        _save(tmp / "clients.safetensors", store_to_tensors(sim.store))
        (tmp / "state.json").write_text(json.dumps(meta))
    return target


def load_decentralized(sim: DecentralizedSimulator, path: str | Path) -> None:
    """Restore a decentralised checkpoint into ``sim``."""
    folder = Path(path)
    meta = json.loads((folder / "state.json").read_text())
    _check(meta, _describe("decentralized", sim.num_clients, {"default": sim.layout.numel}, sim.seed), folder)
    bank = _load(folder / "server.safetensors")["bank"]
    if bank.shape != sim.bank.shape:
        raise FederatedError(f"checkpoint {folder} keeps {bank.shape[0] - 1} rounds of history; this simulator "
                             f"keeps {sim.bank.shape[0] - 1}")
    sim.bank.copy_(bank.to(sim.device))
    sim.head = int(meta["head"])
    sim.store = type(sim.store)()
    tensors_to_store(_load(folder / "clients.safetensors"), sim.store)
    sim.round_idx = int(meta["round_idx"])
    sim.history = FLHistory.from_json(meta["history"])
