"""faiss indexes sized to their data: exact, IVF-Flat and IVF-PQ, with optional exact re-ranking.

An :class:`IndexSpec` says what is wanted (``IndexSpec.parse("IVF256,PQ64np")`` reads a faiss factory string);
:func:`plan_index` turns it into what the data can support and says why:

- IVF needs about :data:`MIN_POINTS_PER_CENTROID` training vectors per list, so ``nlist`` is cut to
  ``n // 39``; under 2 lists the index is exact (``Flat``);
- a PQ codebook of ``2**nbits`` centroids needs ``39 * 2**nbits`` vectors, so ``nbits`` is cut to fit; under
  4 bits the index keeps IVF-Flat instead;
- ``rerank=True`` re-scores the ``k_factor * k`` compressed candidates with exact distances (``IndexRefineFlat``).

:class:`VectorIndex` builds the planned index behind an ``IndexIDMap2`` (so items carry their own ids and can be
removed), searches it (``nprobe`` set on the IVF layer; missing slots come back as id -1 and distance +inf for
L2, -inf for inner product), moves it to the GPU for search when faiss sees one, and serialises it to a uint8
array (``faiss.serialize_index``: no pickle).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from zoo.errors import ConfigError, DataError, InputError

MIN_POINTS_PER_CENTROID = 39
KINDS = ("exact", "ivf", "ivfpq")
METRICS = ("l2", "ip")


def import_faiss() -> Any:
    """Import faiss lazily, with an actionable error when it is missing."""
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DataError("retrieval indexes need faiss: pip install 'zoo[retrieval]' (or faiss-gpu)") from exc
    return faiss


def gpu_available() -> bool:
    """True when the installed faiss has GPU support and sees a GPU."""
    faiss = import_faiss()
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


@dataclass(frozen=True)
class IndexSpec:
    """What index is wanted.

    ``kind``: ``exact`` | ``ivf`` | ``ivfpq``; ``nlist``: IVF lists (default ``4 * sqrt(n)``); ``m``: PQ
    sub-quantisers (default ``dim // 4``); ``nbits``: bits per PQ code; ``nprobe``: lists visited per query;
    ``rerank``: re-score ``k_factor * k`` candidates exactly; ``metric``: ``l2`` or ``ip`` (inner product).
    """

    kind: str = "exact"
    nlist: int | None = None
    m: int | None = None
    nbits: int = 8
    nprobe: int = 16
    rerank: bool = False
    k_factor: int = 4
    metric: str = "l2"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"index kind must be one of {KINDS}, got {self.kind!r}")
        if self.metric not in METRICS:
            raise ConfigError(f"index metric must be one of {METRICS}, got {self.metric!r}")
        for name in ("nlist", "m"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"index {name} must be >= 1, got {value}")
        if not 1 <= self.nbits <= 16 or self.nprobe < 1 or self.k_factor < 1:
            raise ConfigError(f"index needs 1 <= nbits <= 16, nprobe >= 1 and k_factor >= 1; got nbits="
                              f"{self.nbits}, nprobe={self.nprobe}, k_factor={self.k_factor}")

    @classmethod
    def parse(cls, factory: str, **overrides: Any) -> IndexSpec:
        """Read ``Flat``, ``IVF<n>,Flat``, ``IVF<n>,PQ<m>[x<bits>][np]`` with an optional ``,RFlat`` suffix."""
        text = factory.replace(" ", "")
        rerank = text.endswith(",RFlat")
        body = text.removesuffix(",RFlat")
        if body == "Flat":
            return cls("exact", **overrides)
        match = re.fullmatch(r"IVF(\d+),(Flat|PQ(\d+)(?:x(\d+))?(?:np)?)", body)
        if match is None:
            raise ConfigError(f"unsupported index factory {factory!r}: use Flat, IVF<n>,Flat or "
                              "IVF<n>,PQ<m>[x<bits>]np, optionally followed by ,RFlat")
        nlist = int(match.group(1))
        if match.group(2) == "Flat":
            return cls("ivf", nlist=nlist, rerank=rerank, **overrides)
        nbits = int(match.group(4)) if match.group(4) else 8
        return cls("ivfpq", nlist=nlist, m=int(match.group(3)), nbits=nbits, rerank=rerank, **overrides)


@dataclass(frozen=True)
class IndexPlan:
    """What :func:`plan_index` chose for ``n`` vectors: the faiss factory string and why it differs."""

    requested: IndexSpec
    factory: str
    kind: str
    n: int
    nlist: int | None = None
    m: int | None = None
    nbits: int | None = None
    note: str = ""

    def describe(self) -> dict[str, Any]:
        """JSON-able summary (what a report or manifest records)."""
        return {"factory": self.factory, "kind": self.kind, "n": self.n, "nlist": self.nlist, "m": self.m,
                "nbits": self.nbits, "nprobe": self.requested.nprobe if self.nlist else None,
                "rerank": self.requested.rerank and self.kind != "exact", "note": self.note}


def plan_index(spec: IndexSpec, n: int, dim: int) -> IndexPlan:
    """Fit ``spec`` to ``n`` training vectors of size ``dim`` (module docstring)."""
    if spec.kind == "exact":
        return IndexPlan(spec, "Flat", "exact", n)
    wanted = spec.nlist or max(1, int(4 * math.sqrt(max(n, 1))))
    nlist = min(wanted, n // MIN_POINTS_PER_CENTROID)
    if nlist < 2:
        return IndexPlan(spec, "Flat", "exact", n, note=f"{n} vectors cannot train {wanted} IVF lists "
                         f"({MIN_POINTS_PER_CENTROID} per list): exact search")
    note = "" if nlist == wanted else f"nlist cut from {wanted} to {nlist} ({MIN_POINTS_PER_CENTROID} vectors per list)"
    suffix = ",RFlat" if spec.rerank else ""
    if spec.kind == "ivf":
        return IndexPlan(spec, f"IVF{nlist},Flat{suffix}", "ivf", n, nlist=nlist, note=note)
    m = spec.m or max(1, dim // 4)
    if dim % m:
        raise ConfigError(f"PQ with m={m} sub-quantisers needs a dimension divisible by m, got {dim}")
    nbits = min(spec.nbits, int(math.floor(math.log2(max(n, 1) / MIN_POINTS_PER_CENTROID))) if n else 0)
    if nbits < 4:
        return IndexPlan(spec, f"IVF{nlist},Flat{suffix}", "ivf", n, nlist=nlist,
                         note=f"{n} vectors cannot train a PQ codebook (>= 4 bits): IVF-Flat. {note}".strip())
    if nbits != spec.nbits:
        note = f"{note}; PQ bits cut from {spec.nbits} to {nbits}".lstrip("; ")
    return IndexPlan(spec, f"IVF{nlist},PQ{m}x{nbits}np{suffix}", "ivfpq", n, nlist=nlist, m=m, nbits=nbits,
                     note=note)


def _as_matrix(x: Any, dim: int, what: str) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise InputError(f"{what} must have shape (n, {dim}), got {tuple(arr.shape)}")
    if not np.isfinite(arr).all():
        raise InputError(f"{what} contain NaN or Inf")
    return arr


@dataclass
class VectorIndex:
    """A faiss index over ``dim``-d vectors with int64 ids, built from an :class:`IndexSpec`."""

    dim: int
    spec: IndexSpec = field(default_factory=IndexSpec)
    plan: IndexPlan | None = None
    index: Any = None
    _gpu: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return 0 if self.index is None else int(self.index.ntotal)

    def build(self, vectors: Any, ids: Any = None, train: Any = None) -> VectorIndex:
        """Plan for the training set (``train`` or ``vectors``), train, and add ``vectors`` with ``ids``."""
        faiss = import_faiss()
        data = _as_matrix(vectors, self.dim, "vectors")
        sample = data if train is None else _as_matrix(train, self.dim, "training vectors")
        self.plan = plan_index(self.spec, len(sample), self.dim)
        metric = faiss.METRIC_L2 if self.spec.metric == "l2" else faiss.METRIC_INNER_PRODUCT
        inner = faiss.index_factory(self.dim, self.plan.factory, metric)
        if not inner.is_trained:
            inner.train(sample)
        self.index = faiss.IndexIDMap2(inner)
        self._gpu = None
        if len(data):
            self.add(data, np.arange(len(data)) if ids is None else ids)
        return self

    def add(self, vectors: Any, ids: Any) -> None:
        """Add vectors with their (new) ids."""
        if self.index is None:
            raise InputError("add: the index is not built yet (call build first)")
        data = _as_matrix(vectors, self.dim, "vectors")
        ids_arr = np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
        if len(ids_arr) != len(data):
            raise InputError(f"add: {len(ids_arr)} ids for {len(data)} vectors")
        self.index.add_with_ids(data, ids_arr)
        self._gpu = None

    def remove(self, ids: Any) -> int:
        """Remove items by id; returns how many were removed."""
        if self.index is None:
            return 0
        removed = int(self.index.remove_ids(np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))))
        self._gpu = None
        return removed

    def kind(self) -> str:
        """The faiss class doing the search (``IndexFlat``, ``IndexIVFFlat``, ``IndexIVFPQ``, ``IndexRefineFlat``)."""
        faiss = import_faiss()
        return type(faiss.downcast_index(self.index.index)).__name__

    def describe(self) -> dict[str, Any]:
        """The plan's summary plus the number of items and the faiss class."""
        info = self.plan.describe() if self.plan else {}
        return {**info, "items": len(self), "faiss": self.kind() if self.index is not None else None}

    def _set_search_parameters(self, index: Any) -> None:
        faiss = import_faiss()
        inner = faiss.downcast_index(index.index) if hasattr(index, "id_map") else faiss.downcast_index(index)
        if isinstance(inner, faiss.IndexRefine):
            inner.k_factor = float(self.spec.k_factor)
        try:
            faiss.extract_index_ivf(inner).nprobe = self.spec.nprobe
        except RuntimeError:
            pass  # not an IVF index

    def _searchable(self) -> Any:
        if gpu_available():  # pragma: no cover - needs a GPU build of faiss
            if self._gpu is None:
                faiss = import_faiss()
                try:
                    self._gpu = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, self.index)
                except RuntimeError:
                    self._gpu = self.index  # an index type without a GPU version: search on the CPU
            return self._gpu
        return self.index

    def search(self, queries: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(distances, ids)`` of the ``k`` nearest items (L2: squared distance, smaller first; IP: larger first)."""
        if k < 1:
            raise InputError(f"k must be >= 1, got {k}")
        q = _as_matrix(queries, self.dim, "queries")
        empty = np.inf if self.spec.metric == "l2" else -np.inf
        if self.index is None or len(self) == 0:
            return np.full((len(q), k), empty, np.float32), np.full((len(q), k), -1, np.int64)
        index = self._searchable()
        self._set_search_parameters(index)
        dist, ids = index.search(q, k)
        return np.where(ids < 0, empty, dist).astype(np.float32), ids

    def to_bytes(self) -> np.ndarray:
        """The serialised faiss index as a uint8 array (storable in safetensors)."""
        faiss = import_faiss()
        if self.index is None:
            raise InputError("to_bytes: the index is not built")
        return np.asarray(faiss.serialize_index(self.index), dtype=np.uint8)

    @classmethod
    def from_bytes(cls, data: np.ndarray, dim: int, spec: IndexSpec, plan: IndexPlan | None = None) -> VectorIndex:
        """Rebuild an index saved with :meth:`to_bytes`."""
        faiss = import_faiss()
        try:
            index = faiss.deserialize_index(np.asarray(data, dtype=np.uint8))
        except RuntimeError as exc:
            raise DataError(f"corrupted faiss index bytes: {exc}") from exc
        if index.d != dim:
            raise DataError(f"serialised index has dimension {index.d}, expected {dim}")
        return cls(dim, spec, plan, index)


def with_nprobe(spec: IndexSpec, nprobe: int) -> IndexSpec:
    """A copy of ``spec`` visiting ``nprobe`` lists."""
    return replace(spec, nprobe=nprobe)
