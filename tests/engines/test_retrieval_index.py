"""The retrieval engine's faiss indexes: sizing to the data, exactness, re-ranking, persistence, errors."""
from __future__ import annotations

import numpy as np
import pytest

from zoo.engines.retrieval.evaluate import rank
from zoo.engines.retrieval.index import IndexSpec, VectorIndex, plan_index
from zoo.errors import ConfigError, DataError, InputError


def _mixture(n: int, dim: int = 16, clusters: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)) * 3
    return (centres[rng.integers(0, clusters, n)] + rng.normal(size=(n, dim))).astype(np.float32)


def test_parse_factory_strings() -> None:
    assert IndexSpec.parse("Flat").kind == "exact"
    ivf = IndexSpec.parse("IVF256,Flat")
    assert (ivf.kind, ivf.nlist, ivf.rerank) == ("ivf", 256, False)
    pq = IndexSpec.parse("IVF64,PQ8x6np,RFlat", nprobe=4)
    assert (pq.kind, pq.nlist, pq.m, pq.nbits, pq.rerank, pq.nprobe) == ("ivfpq", 64, 8, 6, True, 4)
    assert IndexSpec.parse("IVF16,PQ4np").nbits == 8
    with pytest.raises(ConfigError, match="unsupported index factory 'HNSW32'"):
        IndexSpec.parse("HNSW32")
    with pytest.raises(ConfigError, match="kind"):
        IndexSpec("lsh")


def test_plan_sizes_ivf_and_pq_to_the_data() -> None:
    spec = IndexSpec.parse("IVF256,PQ64np")
    big = plan_index(spec, 20_000, 128)
    assert (big.factory, big.note) == ("IVF256,PQ64x8np", "")
    leaf = plan_index(IndexSpec.parse("IVF256,Flat"), 500, 128)
    assert (leaf.kind, leaf.nlist) == ("ivf", 500 // 39) and "nlist cut from 256 to 12" in leaf.note
    small_pq = plan_index(spec, 3000, 128)  # 3000 / 39 = 76 vectors per centroid -> 6-bit codebooks
    assert (small_pq.kind, small_pq.nlist, small_pq.nbits) == ("ivfpq", 76, 6)
    assert plan_index(spec, 400, 128).factory == "IVF10,Flat"  # too few for even a 4-bit codebook
    tiny = plan_index(spec, 60, 128)
    assert tiny.factory == "Flat" and "exact search" in tiny.note
    assert plan_index(IndexSpec("ivf"), 40_000, 8).nlist == 800  # default 4 sqrt(n)
    with pytest.raises(ConfigError, match="divisible"):
        plan_index(IndexSpec("ivfpq", m=7), 20_000, 128)


def test_exact_index_equals_brute_force_and_ivf_with_all_lists() -> None:
    db, q = _mixture(2000), _mixture(20, seed=1)
    brute = np.argsort(((q[:, None] - db[None]) ** 2).sum(-1), axis=1, kind="stable")[:, :5]
    exact = VectorIndex(16).build(db)
    dist, ids = exact.search(q, 5)
    assert exact.kind() == "IndexFlat" and np.array_equal(ids, brute)
    np.testing.assert_allclose(dist[:, 0], ((q - db[ids[:, 0]]) ** 2).sum(1), rtol=1e-4)
    ivf = VectorIndex(16, IndexSpec("ivf", nlist=16, nprobe=16)).build(db)
    assert ivf.kind() == "IndexIVFFlat" and np.array_equal(ivf.search(q, 5)[1], brute)
    ip = VectorIndex(16, IndexSpec(metric="ip")).build(db)
    assert np.array_equal(ip.search(q, 3)[1], np.argsort(-(q @ db.T), axis=1, kind="stable")[:, :3])


def test_exact_rerank_recovers_recall_lost_by_pq() -> None:
    db, q = _mixture(6000, dim=32), _mixture(100, dim=32, seed=2)
    truth = VectorIndex(32).build(db).search(q, 10)[1]

    def recall(spec: IndexSpec) -> float:
        found = VectorIndex(32, spec).build(db).search(q, 10)[1]
        return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))

    plain = recall(IndexSpec("ivfpq", nlist=32, m=4, nprobe=32))
    refined = recall(IndexSpec("ivfpq", nlist=32, m=4, nprobe=32, rerank=True, k_factor=8))
    shallow = recall(IndexSpec("ivfpq", nlist=32, m=4, nprobe=32, rerank=True, k_factor=1))
    assert refined > plain + 0.3 and refined > 0.75
    assert refined > shallow + 0.2  # k_factor reaches faiss: more candidates re-scored, higher recall


def test_ids_remove_persistence_and_errors() -> None:
    db = _mixture(300)
    index = VectorIndex(16, IndexSpec.parse("IVF4,Flat", nprobe=4)).build(db, ids=np.arange(1000, 1300))
    d0, i0 = index.search(db[:3], 2)
    assert list(i0[:, 0]) == [1000, 1001, 1002]
    again = VectorIndex.from_bytes(index.to_bytes(), 16, index.spec, index.plan)
    d1, i1 = again.search(db[:3], 2)
    assert np.array_equal(i0, i1) and np.allclose(d0, d1)
    assert again.remove([1000, 1001, 5]) == 2 and len(again) == 298
    assert 1000 not in again.search(db[:1], 5)[1]
    small = VectorIndex(16).build(db[:2])
    d, ids = small.search(db[:1], 4)
    assert list(ids[0, 2:]) == [-1, -1] and np.isinf(d[0, 2:]).all()
    assert index.describe()["nlist"] == 4 and index.describe()["items"] == 300
    with pytest.raises(InputError, match=r"shape \(n, 16\)"):
        index.search(np.zeros((1, 3), np.float32), 1)
    with pytest.raises(InputError, match="NaN"):
        VectorIndex(2).build(np.array([[np.nan, 0.0]]))
    with pytest.raises(DataError, match="corrupted"):
        VectorIndex.from_bytes(np.zeros(10, np.uint8), 16, IndexSpec())


def test_rank_through_an_index_matches_exact_ranking() -> None:
    db, q = _mixture(500), _mixture(10, seed=3)
    exact = rank(q, db, metric="l2", k=5)
    via_index = rank(q, db, metric="l2", k=5, index=IndexSpec())
    assert np.array_equal(exact, via_index)
