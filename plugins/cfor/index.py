"""CFOR's multi-index: one faiss index per ontology leaf (region, category), on the shared retrieval engine.

The arrays (ids, descriptors, attribute bits) are the source of truth; each leaf's index is a
:class:`zoo.engines.retrieval.index.VectorIndex` built from the wanted factory string (``Flat`` = exact L2 by
default; ``IVFn,Flat`` or ``IVFn,PQmnp`` for large leaves). Each leaf's IVF lists are sized to its own vectors
(39 per list; too few for 2 lists: exact), and :meth:`CFORIndex.report` says what every leaf uses.

Descriptors are only comparable within one *descriptor space* (the category network of one region,
``category/<region>``; see :mod:`zoo_plugins.cfor.model`). A leaf's space is its region's; adding, searching or
merging across spaces raises :class:`~zoo.errors.InputError` instead of mixing distances of different networks.

Indexes are persisted atomically in one folder: ``arrays.safetensors`` (arrays and the serialised faiss indexes
as uint8 tensors, no pickle) and ``manifest.json`` (ontology, settings, per-leaf plans, per-item metadata and the
sha256 of the arrays file). A missing or corrupted file raises :class:`~zoo.errors.DataError`, never an empty
result. Search runs on the GPU when faiss sees one (the engine's lazy GPU path).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.io import atomic_directory
from zoo.engines.retrieval.index import IndexSpec, VectorIndex, import_faiss, plan_index
from zoo.errors import DataError, InputError
from zoo_plugins.cfor.ontology import Ontology, from_dict

FORMAT = "zoo-cfor-index/2"
READABLE = ("zoo-cfor-index/1", FORMAT)


def space_of(leaf: tuple[str, str]) -> str:
    """The descriptor space of a leaf: its region's category network."""
    return f"category/{leaf[0]}"


@dataclass
class Leaf:
    """The items of one ontology leaf and their index."""

    ids: np.ndarray
    feats: np.ndarray
    attrs: np.ndarray
    index: VectorIndex | None = None


@dataclass
class CFORIndex:
    """Leaf indexes over one ontology, with per-item metadata (e.g. image paths)."""

    ontology: Ontology
    dim: int
    factory: str = "Flat"
    leaves: dict[tuple[str, str], Leaf] = field(default_factory=dict)
    meta: dict[int, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.spec = IndexSpec.parse(self.factory)

    def __len__(self) -> int:
        return sum(len(leaf.ids) for leaf in self.leaves.values())

    def _check(self, feats: np.ndarray, attrs: np.ndarray, n: int) -> None:
        if feats.shape != (n, self.dim):
            raise InputError(f"descriptors must have shape ({n}, {self.dim}), got {feats.shape}")
        if attrs.shape != (n, len(self.ontology.attributes)):
            raise InputError(f"attribute bits must have shape ({n}, {len(self.ontology.attributes)}), got {attrs.shape}")
        if not np.isfinite(feats).all():
            raise InputError("descriptors contain NaN or Inf")

    def add(self, ids: Sequence[int], feats: np.ndarray, attrs: np.ndarray, leaves: Sequence[tuple[str, str]],
            meta: Sequence[Mapping[str, Any]] | None = None, spaces: Sequence[str] | None = None) -> None:
        """Add items to their leaves (ids must be new); leaf indexes are rebuilt.

        ``spaces`` names the network that computed each descriptor (default: the leaf's own); a descriptor of
        another network than its leaf's is refused.
        """
        ids_arr = np.asarray(ids, dtype=np.int64)
        feats = np.ascontiguousarray(feats, dtype=np.float32)
        attrs = np.asarray(attrs, dtype=np.uint8)
        self._check(feats, attrs, len(ids_arr))
        existing = set(self.all_ids().tolist())
        clash = sorted(existing & set(ids_arr.tolist()))
        if clash or len(set(ids_arr.tolist())) != len(ids_arr):
            raise InputError(f"ids already in the index or repeated: {clash[:10] or 'repeated ids in the batch'}")
        known = set(self.ontology.leaves)
        leaves_arr = [(str(x[0]), str(x[1])) for x in leaves]
        for leaf in set(leaves_arr):
            if leaf not in known:
                raise InputError(f"leaf {leaf} is not in the ontology")
        for i, (leaf, space) in enumerate(zip(leaves_arr, spaces or ())):
            if space != space_of(leaf):
                raise InputError(f"item {int(ids_arr[i])}: a descriptor of {space} cannot go into leaf {leaf}, whose "
                                 f"descriptors come from {space_of(leaf)} (descriptor networks are not comparable)")
        for leaf in sorted(set(leaves_arr)):
            rows = np.array([i for i, l in enumerate(leaves_arr) if l == leaf], dtype=np.int64)
            old = self.leaves.get(leaf)
            new = Leaf(ids_arr[rows], feats[rows], attrs[rows])
            if old is not None:
                new = Leaf(np.concatenate([old.ids, new.ids]), np.concatenate([old.feats, new.feats]),
                           np.concatenate([old.attrs, new.attrs]))
            self.leaves[leaf] = new
            self._rebuild(leaf)
        for i, item in enumerate(meta or []):
            self.meta[int(ids_arr[i])] = dict(item)

    def remove(self, ids: Sequence[int]) -> int:
        """Remove items by id; returns how many were removed."""
        drop = set(int(i) for i in ids)
        removed = 0
        for leaf_key in list(self.leaves):
            leaf = self.leaves[leaf_key]
            keep = np.array([int(i) not in drop for i in leaf.ids], dtype=bool)
            if keep.all():
                continue
            removed += int((~keep).sum())
            assert leaf.index is not None
            leaf.index.remove(leaf.ids[~keep])
            self.leaves[leaf_key] = Leaf(leaf.ids[keep], leaf.feats[keep], leaf.attrs[keep], leaf.index)
            if not keep.any():
                del self.leaves[leaf_key]
        for i in drop:
            self.meta.pop(i, None)
        return removed

    def _rebuild(self, leaf_key: tuple[str, str]) -> None:
        leaf = self.leaves[leaf_key]
        leaf.index = VectorIndex(self.dim, self.spec).build(leaf.feats, leaf.ids)

    def kind(self, leaf_key: tuple[str, str]) -> str:
        """The faiss class searching a leaf (e.g. ``IndexFlat``, ``IndexIVFFlat``, ``IndexIVFPQ``)."""
        index = self.leaves[leaf_key].index
        assert index is not None
        return index.kind()

    def report(self) -> dict[tuple[str, str], dict[str, Any]]:
        """What each leaf uses: faiss factory, kind, items, nlist, PQ size, and why it differs from the wanted."""
        return {key: {**leaf.index.describe(), "space": space_of(key)} for key, leaf in sorted(self.leaves.items())
                if leaf.index is not None}

    def all_ids(self) -> np.ndarray:
        """Every id in the index."""
        parts = [leaf.ids for leaf in self.leaves.values()]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def leaf_of(self, item: int) -> tuple[str, str]:
        """The leaf that holds ``item``."""
        for key, leaf in self.leaves.items():
            if item in leaf.ids:
                return key
        raise KeyError(item)

    def vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Descriptors and attribute bits of the given ids (any leaves)."""
        lookup: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for leaf in self.leaves.values():
            for i, f, a in zip(leaf.ids, leaf.feats, leaf.attrs):
                lookup[int(i)] = (f, a)
        feats = np.stack([lookup[int(i)][0] for i in ids]) if len(ids) else np.zeros((0, self.dim), np.float32)
        attrs = np.stack([lookup[int(i)][1] for i in ids]) if len(ids) else np.zeros((0, 0), np.uint8)
        return feats, attrs

    def search_leaf(self, leaf_key: tuple[str, str], queries: np.ndarray, k: int, backend: str = "faiss",
                    space: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """k nearest items (squared L2) inside one leaf; missing slots have id -1 and distance inf.

        ``space`` names the network of the query descriptors; it must be the leaf's. ``backend="kernel"``
        runs exact search with zoo's fused L2 top-k op instead of faiss.
        """
        if space is not None and space != space_of(leaf_key):
            raise InputError(f"a query descriptor of {space} cannot search leaf {leaf_key}, whose descriptors "
                             f"come from {space_of(leaf_key)}: compute the query with that leaf's network")
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        if leaf_key not in self.leaves:
            return np.full((len(q), k), np.inf, np.float32), np.full((len(q), k), -1, np.int64)
        if backend == "kernel":
            return self._kernel_search(self.leaves[leaf_key], q, k)
        index = self.leaves[leaf_key].index
        assert index is not None
        return index.search(q, k)

    @staticmethod
    def _kernel_search(leaf: Leaf, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        from zoo.kernels import ops

        kk = min(k, len(leaf.ids))
        d, pos = ops.l2_topk(torch.from_numpy(q), torch.from_numpy(leaf.feats), kk)
        dist = np.full((len(q), k), np.inf, np.float32)
        ids = np.full((len(q), k), -1, np.int64)
        dist[:, :kk] = d.numpy()
        ids[:, :kk] = leaf.ids[pos.numpy()]
        return dist, ids

    def search_global(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """k nearest items over every leaf (exhaustive merge of the leaf results): the baseline without the
        ontology. Only defined when every leaf's descriptors come from one network."""
        spaces = sorted({space_of(key) for key in self.leaves})
        if len(spaces) > 1:
            raise InputError(f"global search would merge distances of different descriptor networks ({spaces}); "
                             "search one region's leaves, or index with one shared descriptor network")
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        parts = [self.search_leaf(key, q, k) for key in self.leaves]
        if not parts:
            return np.full((len(q), k), np.inf, np.float32), np.full((len(q), k), -1, np.int64)
        d = np.concatenate([p[0] for p in parts], axis=1)
        i = np.concatenate([p[1] for p in parts], axis=1)
        order = np.argsort(d, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1)

    # --- persistence ------------------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write the index atomically (the whole folder is replaced at once)."""
        import torch
        from safetensors.torch import save_file

        tensors: dict[str, torch.Tensor] = {}
        leaves, plans = [], []
        for n, (key, leaf) in enumerate(sorted(self.leaves.items())):
            assert leaf.index is not None
            tensors[f"leaf{n}.ids"] = torch.from_numpy(leaf.ids.copy())
            tensors[f"leaf{n}.feats"] = torch.from_numpy(leaf.feats.copy())
            tensors[f"leaf{n}.attrs"] = torch.from_numpy(leaf.attrs.copy())
            tensors[f"leaf{n}.faiss"] = torch.from_numpy(leaf.index.to_bytes())
            leaves.append(list(key))
            plans.append(leaf.index.describe())
        target = Path(folder)
        with atomic_directory(target) as tmp:
            save_file(tensors, str(tmp / "arrays.safetensors"), metadata={"format": FORMAT})
            digest = hashlib.sha256((tmp / "arrays.safetensors").read_bytes()).hexdigest()
            manifest = {"format": FORMAT, "ontology": self.ontology.to_dict(), "dim": self.dim,
                        "factory": self.factory, "leaves": leaves, "plans": plans, "arrays_sha256": digest,
                        "meta": {str(k): v for k, v in self.meta.items()}}
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        return target

    @classmethod
    def load(cls, folder: str | Path) -> CFORIndex:
        """Load an index saved by :meth:`save`, verifying the arrays' sha256."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        import_faiss()
        folder = Path(folder)
        manifest_path, arrays_path = folder / "manifest.json", folder / "arrays.safetensors"
        for path, what in ((manifest_path, "the index manifest"), (arrays_path, "the index arrays")):
            if not path.is_file():
                raise DataError(f"missing {path}: expected {what} written by `zoo index build`")
        try:
            manifest = json.loads(manifest_path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(f"corrupted {manifest_path}: not valid JSON ({exc})") from exc
        if manifest.get("format") not in READABLE:
            raise DataError(f"{manifest_path}: unknown format {manifest.get('format')!r}, expected {FORMAT!r}")
        digest = hashlib.sha256(arrays_path.read_bytes()).hexdigest()
        if digest != manifest.get("arrays_sha256"):
            raise DataError(f"corrupted {arrays_path}: sha256 {digest} does not match the manifest "
                            f"({manifest.get('arrays_sha256')}); rebuild the index")
        try:
            tensors = load_file(str(arrays_path))
        except SafetensorError as exc:
            raise DataError(f"corrupted {arrays_path}: {exc}") from exc
        index = cls(from_dict(manifest["ontology"]), int(manifest["dim"]), manifest.get("factory", "Flat"))
        for n, key in enumerate(manifest["leaves"]):
            ids = tensors[f"leaf{n}.ids"].numpy()
            plan = plan_index(index.spec, len(ids), index.dim)  # the plan of a leaf of this size
            vectors = VectorIndex.from_bytes(tensors[f"leaf{n}.faiss"].numpy(), index.dim, index.spec, plan)
            index.leaves[(key[0], key[1])] = Leaf(ids, tensors[f"leaf{n}.feats"].numpy(),
                                                  tensors[f"leaf{n}.attrs"].numpy(), vectors)
        index.meta = {int(k): v for k, v in manifest.get("meta", {}).items()}
        return index
