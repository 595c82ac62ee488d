"""Where the state of registered clients lives between the rounds they take part in.

Only the clients of a round are materialised (their start model, optimiser state, control variates, local
heads...). Everything a client keeps across rounds is one flat ``{key: tensor}`` dict in a :class:`ClientStore`:

``alg.<name>``    the algorithm's per-client state (SCAFFOLD ``c_i``, FedSpeed ``h_i``, masks, pools);
``opt.<name>``    the local optimiser's state (SGD momentum buffer, Adam moments and step count);
``local``         the client's ``local``-role parameter entries (personal heads): only those, never a full model;
``buffers``       its floating buffers (BatchNorm statistics) when the model has any;
``up.<...>``      its uplink codec state (error-feedback residuals); ``down.<...>`` the server's downlink codec
                  state for that client.

A client that never took part has no entry at all (its state is created on first use), so FedAvg with plain SGD
stores nothing. :class:`MemoryStore` keeps entries in RAM; :class:`DiskStore` keeps each key in one memory-mapped
``[N, numel]`` file (sparse on disk: only rows written take space), so 10,000 registered clients with per-client
state fit on a laptop.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from zoo.errors import FederatedError

State = dict[str, torch.Tensor]


class ClientStore(Protocol):
    """Per-client persistent state, keyed by client id."""

    def get(self, client: int) -> State | None:
        """A fresh copy of the client's state (``None`` if it has none yet)."""
        ...

    def put(self, client: int, state: Mapping[str, torch.Tensor]) -> None:
        """Replace the client's state."""
        ...

    def clients(self) -> list[int]:
        """Ids of the clients that have state, ascending."""
        ...

    def nbytes(self) -> int:
        """Bytes held by the stored states."""
        ...


def _host(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu").clone()


class MemoryStore:
    """States in a dict, on the CPU (moved to the training device when a client is materialised)."""

    def __init__(self) -> None:
        self._data: dict[int, State] = {}

    def get(self, client: int) -> State | None:
        """Copy of the client's state."""
        s = self._data.get(int(client))
        return None if s is None else {k: v.clone() for k, v in s.items()}

    def put(self, client: int, state: Mapping[str, torch.Tensor]) -> None:
        """Store a CPU copy."""
        self._data[int(client)] = {k: _host(v) for k, v in state.items()}

    def clients(self) -> list[int]:
        """Clients with state."""
        return sorted(self._data)

    def nbytes(self) -> int:
        """Bytes of all stored tensors."""
        return sum(v.numel() * v.element_size() for s in self._data.values() for v in s.values())

    def __iter__(self) -> Iterator[tuple[int, State]]:
        for k in self.clients():
            yield k, self._data[k]


_DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "int64": np.int64,
           "int32": np.int32, "uint8": np.uint8, "bool": np.bool_}


class DiskStore:
    """Each key in one memory-mapped ``[num_clients, numel]`` file under ``root``; a presence map per key.

    Files are created sparse (only the rows written take disk space and page cache), and a key's shape and dtype
    are fixed by its first ``put``. ``DiskStore(root, num_clients)`` reopens an existing store in ``root``.
    """

    def __init__(self, root: str | os.PathLike[str], num_clients: int) -> None:
        if num_clients < 1:
            raise FederatedError(f"DiskStore needs num_clients >= 1, got {num_clients}")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.num_clients = int(num_clients)
        self._meta_path = self.root / "store.json"
        self._meta: dict[str, dict[str, object]] = {}
        self._arrays: dict[str, np.memmap] = {}
        self._present = self._open_present()
        if self._meta_path.is_file():
            saved = json.loads(self._meta_path.read_text())
            if int(saved["num_clients"]) != self.num_clients:
                raise FederatedError(f"{self.root} holds a store of {saved['num_clients']} clients, not "
                                     f"{self.num_clients}")
            self._meta = saved["keys"]

    def _open_present(self) -> np.memmap:
        path = self.root / "present.bin"
        mode = "r+" if path.is_file() else "w+"
        return np.memmap(path, dtype=np.uint8, mode=mode, shape=(self.num_clients,))

    def _array(self, key: str) -> np.memmap:
        arr = self._arrays.get(key)
        if arr is None:
            meta = self._meta[key]
            path = self.root / f"{_safe(key)}.bin"
            mode = "r+" if path.is_file() else "w+"
            numel = int(np.prod(meta["shape"])) if meta["shape"] else 1
            arr = np.memmap(path, dtype=_DTYPES[str(meta["dtype"])], mode=mode, shape=(self.num_clients, numel))
            self._arrays[key] = arr
        return arr

    def _check(self, client: int) -> int:
        c = int(client)
        if not 0 <= c < self.num_clients:
            raise FederatedError(f"client {c} outside the store's [0, {self.num_clients})")
        return c

    def get(self, client: int) -> State | None:
        """The client's state (copied out of the maps), or ``None``."""
        c = self._check(client)
        if not self._present[c]:
            return None
        out: State = {}
        for key, meta in self._meta.items():
            if self._key_present(c, key):
                row = np.array(self._array(key)[c])
                out[key] = torch.from_numpy(row).reshape(tuple(meta["shape"]))  # type: ignore[arg-type]
        return out

    def _key_present(self, client: int, key: str) -> bool:
        return bool(self._keymap(key)[client])

    def _keymap(self, key: str) -> np.memmap:
        name = f"__has__{key}"
        arr = self._arrays.get(name)
        if arr is None:
            path = self.root / f"{_safe(name)}.bin"
            arr = np.memmap(path, dtype=np.uint8, mode="r+" if path.is_file() else "w+", shape=(self.num_clients,))
            self._arrays[name] = arr
        return arr

    def put(self, client: int, state: Mapping[str, torch.Tensor]) -> None:
        """Write the client's rows (keys absent from ``state`` are cleared for that client)."""
        c = self._check(client)
        changed = False
        for key, value in state.items():
            v = value.detach().to("cpu")
            dtype = str(v.dtype).replace("torch.", "")
            if dtype not in _DTYPES:
                raise FederatedError(f"DiskStore cannot hold dtype {v.dtype} (key {key!r})")
            meta = self._meta.get(key)
            if meta is None:
                self._meta[key] = {"shape": list(v.shape), "dtype": dtype}
                changed = True
            elif list(meta["shape"]) != list(v.shape) or meta["dtype"] != dtype:  # type: ignore[call-overload]
                raise FederatedError(f"DiskStore key {key!r} holds {meta['dtype']}{meta['shape']}, got "
                                     f"{dtype}{list(v.shape)} for client {c}")
            self._array(key)[c] = v.reshape(-1).numpy()
            self._keymap(key)[c] = 1
        for key in self._meta:
            if key not in state and self._key_present(c, key):
                self._keymap(key)[c] = 0
        self._present[c] = 1
        if changed:
            _write_json(self._meta_path, {"num_clients": self.num_clients, "keys": self._meta})

    def clients(self) -> list[int]:
        """Clients with state."""
        return [int(i) for i in np.flatnonzero(np.asarray(self._present))]

    def nbytes(self) -> int:
        """Bytes of the rows written so far (what a dense store of these clients would hold)."""
        total = 0
        for key, meta in self._meta.items():
            numel = int(np.prod(meta["shape"])) if meta["shape"] else 1
            total += int(np.asarray(self._keymap(key)).sum()) * numel * np.dtype(_DTYPES[str(meta["dtype"])]).itemsize
        return total

    def disk_bytes(self) -> int:
        """Bytes actually allocated on disk by the store's files (sparse files count only written blocks)."""
        return sum(p.stat().st_blocks * 512 for p in self.root.glob("*.bin"))

    def flush(self) -> None:
        """Write dirty pages to disk."""
        for arr in self._arrays.values():
            arr.flush()
        self._present.flush()

    def __iter__(self) -> Iterator[tuple[int, State]]:
        for k in self.clients():
            state = self.get(k)
            assert state is not None
            yield k, state


def _safe(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in key)


def _write_json(path: Path, data: object) -> None:
    from zoo.io import atomic_write_json

    atomic_write_json(path, data)


def split(state: Mapping[str, torch.Tensor], namespace: str) -> State:
    """The entries ``<namespace>.<name>`` of a flat client state, as ``{name: tensor}``."""
    prefix = namespace + "."
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def join(namespace: str, part: Mapping[str, torch.Tensor]) -> State:
    """``{name: t}`` -> ``{"<namespace>.<name>": t}``."""
    return {f"{namespace}.{k}": v for k, v in part.items()}


def store_to_tensors(store: ClientStore) -> dict[str, torch.Tensor]:
    """A store's content as ``{"<client>/<key>": tensor}`` (for a checkpoint)."""
    out: dict[str, torch.Tensor] = {}
    for k in store.clients():
        state = store.get(k) or {}
        for key, v in state.items():
            out[f"{k}/{key}"] = v
    return out


def tensors_to_store(tensors: Mapping[str, torch.Tensor], store: ClientStore) -> None:
    """Load ``{"<client>/<key>": tensor}`` (from :func:`store_to_tensors`) into ``store``."""
    per: dict[int, State] = {}
    for name, v in tensors.items():
        client, _, key = name.partition("/")
        per.setdefault(int(client), {})[key] = v
    for client, state in per.items():
        store.put(client, state)
