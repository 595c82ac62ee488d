"""Retrieval benchmarks: faiss indexes on synthetic descriptors, one column per retrieval method, and each
method's central comparison. Side by side in one run, one torch thread.

    python benchmarks/bench_retrieval.py                      # indexes on 100k 128-d vectors (CPU-friendly)
    python benchmarks/bench_retrieval.py --n 1000000          # the 1M setting
    python benchmarks/bench_retrieval.py --methods            # one column per method (trains each tiny variant)
    python benchmarks/bench_retrieval.py --methods --only dolg cfcd --gallery 2000
    python benchmarks/bench_retrieval.py --ablations          # each method's central comparison

**Indexes**: exact search (faiss IndexFlatL2), IVF-Flat and IVF-PQ (with and without exact re-ranking) at several
nprobe, zoo's fused L2 top-k op, and CFOR's leaf-restricted exact search; recall@10 against exact search and
queries per second. The data is a mixture of Gaussian clusters (like real image descriptors, unlike noise).

**Methods**: each method's tiny variant is trained on its synthetic training set (seeded, ``--steps`` scaled by
``--budget``), then its synthetic test queries search a gallery padded with distractors of the same kind to
``--gallery`` items: landmark views for DOLG/CFCD/Gabor (Gabor: textures), pedestrians for DCAL/PRAO, LiDAR
places for BEVPlace, captioned videos for GLSCL, clothing for CFOR. Reported: mAP over the gallery, recall@10,
and queries/s of the search itself (descriptors precomputed) with exact search and with an IVF index sized by
the engine (``IVF{4 sqrt n},Flat``, cut to 39 vectors per list, nprobe 8).

**Ablations**: DOLG vs its GeM-only baseline, CFCD's global stage vs local re-ranking, DCAL vs self-attention
alone, Gabor texture branch vs CNN alone, BEVPlace vs the same network without the group (and rotation
similarity), GLSCL global vs global + local (and FLOPs vs a cross-modal baseline), PRAO with/without repair and
measure vs feature ranking, CFOR's attribute networks (local vs single-task vs global multi-task).
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np


# ----------------------------------------------------------------------------------------------- indexes
def make_data(n: int, nq: int, dim: int, clusters: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Database, queries and each vector's cluster (used as its ontology leaf)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32) * 4
    assign = rng.integers(0, clusters, n)
    xb = centres[assign] + rng.normal(size=(n, dim)).astype(np.float32)
    qa = rng.integers(0, clusters, nq)
    xq = centres[qa] + rng.normal(size=(nq, dim)).astype(np.float32)
    return xb, xq, assign, qa


def recall_at(found: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """Fraction of the true top-k found in the returned top-k."""
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth)]))


def timed(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, Any]:
    """Best wall time of ``fn`` over repeats, and its last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def bench_indexes(args: argparse.Namespace) -> None:
    """The index table (engine indexes on Gaussian-mixture vectors)."""
    import torch

    from zoo.engines.retrieval.index import IndexSpec, VectorIndex, import_faiss, with_nprobe
    from zoo.kernels import ops

    faiss = import_faiss()
    k = args.k
    xb, xq, leaf_of, q_leaf = make_data(args.n, args.nq, args.dim, args.leaves)
    print(f"{args.n} x {args.dim} database, {args.nq} queries, k={k}, faiss {faiss.__version__}, "
          f"{faiss.omp_get_max_threads()} threads")
    exact = VectorIndex(args.dim).build(xb)
    t_exact, (_, truth) = timed(lambda: exact.search(xq, k))
    qps_exact = args.nq / t_exact
    rows = [("exact (IndexFlatL2)", 1.0, qps_exact)]
    t_op, (_, op_idx) = timed(lambda: ops.l2_topk(torch.from_numpy(xq), torch.from_numpy(xb), k), repeats=1)
    rows.append(("fused L2 top-k op", recall_at(op_idx.numpy(), truth, k), args.nq / t_op))
    nlist = int(4 * np.sqrt(args.n))
    specs = [("IVF-Flat", IndexSpec("ivf", nlist=nlist)),
             ("IVF-PQ", IndexSpec("ivfpq", nlist=nlist, m=args.dim // 4)),
             ("IVF-PQ + exact re-rank", IndexSpec("ivfpq", nlist=nlist, m=args.dim // 4, rerank=True, k_factor=8))]
    sample = xb[np.random.default_rng(1).choice(args.n, min(args.n, 40 * nlist), replace=False)]
    for name, spec in specs:
        start = time.perf_counter()
        index = VectorIndex(args.dim, spec).build(xb, train=sample)
        build = time.perf_counter() - start
        for nprobe in (1, 4, 16, 64):
            index.spec = with_nprobe(spec, nprobe)
            t, (_, found) = timed(lambda: index.search(xq, k))
            rows.append((f"{name} {index.plan.factory} nprobe={nprobe} (build {build:.1f}s)",
                         recall_at(found, truth, k), args.nq / t))
    leaf_indexes = [(np.nonzero(leaf_of == leaf)[0], VectorIndex(args.dim).build(xb[leaf_of == leaf]))
                    for leaf in range(args.leaves)]

    def leaf_search() -> np.ndarray:
        out = np.empty((args.nq, k), dtype=np.int64)
        for leaf, (ids, index) in enumerate(leaf_indexes):
            rows_q = np.nonzero(q_leaf == leaf)[0]
            if len(rows_q):
                out[rows_q] = ids[index.search(xq[rows_q], k)[1]]
        return out

    t_leaf, found = timed(leaf_search)
    rows.append((f"leaf-restricted exact ({args.leaves} leaves, CFOR)", recall_at(found, truth, k), args.nq / t_leaf))
    print(f"{'index':<64} {'recall@10':>9} {'QPS':>10} {'x exact':>8}")
    for name, rec, qps in rows:
        print(f"{name:<64} {rec:9.3f} {qps:10.0f} {qps / qps_exact:8.1f}")


# ----------------------------------------------------------------------------------------------- methods
def _train(name: str, steps: int, seed: int = 0) -> Any:
    import torch

    import zoo

    torch.manual_seed(seed)
    model = zoo.build(name, seed=seed)
    zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=steps, progress=False, seed=seed)
    return model.eval()


def _landmark_gallery(model: Any, encode: Callable[[Any], Any], gallery: int) -> tuple[Any, Any, Any, Any]:
    from zoo.engines.retrieval.data.landmarks import make_landmark_benchmark
    from zoo.engines.retrieval.tasks import encode_all

    bench = make_landmark_benchmark(classes=10, distractors=max(0, gallery - 100), size=model.config.image_size)
    keep = np.array([k != "junk" for k in bench.kinds])
    return (encode_all(model, encode, bench.queries), encode_all(model, encode, bench.database[keep]),
            bench.query_labels.numpy(), bench.database_labels.numpy()[keep])


def _reid_gallery(model: Any, encode: Callable[[Any], Any], gallery: int, size: tuple[int, int]
                  ) -> tuple[Any, Any, Any, Any, Any]:
    from zoo.engines.retrieval.data.reid import make_reid_benchmark
    from zoo.engines.retrieval.tasks import encode_all

    bench = make_reid_benchmark(identities=max(12, gallery // 8), cameras=4, gallery_per_camera=2, size=size)
    return (encode_all(model, encode, bench.query.images), encode_all(model, encode, bench.gallery.images),
            bench.query.pids.numpy(), bench.gallery.pids.numpy(), bench.junk())


def method_descriptors(method: str, steps: int, gallery: int) -> dict[str, Any]:
    """Train ``method``'s tiny variant and return query/gallery descriptors and labels (or positives)."""
    import torch

    if method == "dolg":
        m = _train("dolg-tiny", steps)
        q, g, ql, gl = _landmark_gallery(m, m.descriptor, gallery)
        return {"q": q, "g": g, "ql": ql, "gl": gl}
    if method == "cfcd":
        m = _train("cfcd-tiny", steps)
        q, g, ql, gl = _landmark_gallery(m, m.descriptor, gallery)
        return {"q": q, "g": g, "ql": ql, "gl": gl}
    if method == "dcal":
        m = _train("dcal-tiny-reid", steps)
        q, g, ql, gl, junk = _reid_gallery(m, m.descriptor, gallery, tuple(m.config.image_size))
        return {"q": q, "g": g, "ql": ql, "gl": gl, "junk": junk}
    if method == "prao":
        from zoo_plugins.prao.train import describe

        m = _train("prao-occluded-re-id-tiny", steps)
        q, g, ql, gl, junk = _reid_gallery(m, lambda x: describe(m, x)["descriptor"], gallery,
                                           tuple(m.config.image_size))
        return {"q": q, "g": g, "ql": ql, "gl": gl, "junk": junk}
    if method == "gabor":
        from zoo.engines.retrieval.tasks import encode_all
        from zoo_plugins.gabor_texture.data import make_textures

        m = _train("gabor-texture-features-for-fine-grained-recognition-tiny", steps)
        test = make_textures(gallery + 50, seed=5)

        def fused(x: torch.Tensor) -> torch.Tensor:
            out = m(x)
            gates = out["scores"].topk(m.config.regions, 1).values[..., None]
            return out["semantic"] + (gates * out["texture"]).sum(1)

        feats = encode_all(m, fused, test.images)
        return {"q": feats[:50], "g": feats[50:], "ql": test.labels[:50].numpy(), "gl": test.labels[50:].numpy()}
    if method == "bevplace":
        from zoo.engines.retrieval.data.places import make_places
        from zoo.engines.retrieval.tasks import encode_all

        m = _train("bevplace-tiny", steps)
        cfg = m.config
        places = make_places(places=gallery, radius=cfg.radius, resolution=cfg.resolution, seed=7)
        pick = np.arange(0, gallery, max(1, gallery // 50))
        return {"q": encode_all(m, m.descriptor, places.queries[pick]),
                "g": encode_all(m, m.descriptor, places.database),
                "positives": [places.positives[i] for i in pick]}
    if method == "glscl":
        from zoo.engines.retrieval.data.text_video import make_text_video

        m = _train("glscl-tiny", steps)
        data = make_text_video(gallery, m.config.dim, frames=m.config.frames, words=m.config.words, seed=9)
        with torch.no_grad():
            enc = m.encode(data.tensors())
        q = enc["text_concepts"].flatten(1) / m.config.queries ** 0.5
        g = enc["video_concepts"].flatten(1) / m.config.queries ** 0.5
        pick = np.arange(0, gallery, max(1, gallery // 50))
        return {"q": q[pick], "g": g, "ql": pick, "gl": np.arange(gallery)}
    if method == "cfor":
        from zoo.engines.retrieval.tasks import encode_all

        m = _train("cfor-tiny", steps)
        from zoo.data.synthetic.clothing import make_clothing

        onto = m.ontology
        data = make_clothing(gallery + 50, seed=11, regions=tuple(onto.regions.values()),
                             num_attributes=len(onto.attributes), size=m.config.image_size)
        desc = encode_all(m, lambda x: m.predict(x)["descriptor"], data.images)
        return {"q": desc[:50], "g": desc[50:], "ql": data.category[:50].numpy(), "gl": data.category[50:].numpy()}
    raise SystemExit(f"unknown method {method!r}")


def search_figures(d: dict[str, Any], k: int = 10) -> dict[str, float]:
    """mAP, recall@10 and queries/s of exact vs IVF search over the method's descriptors."""
    import torch
    from torch.nn import functional as F

    from zoo.engines.retrieval.index import IndexSpec, VectorIndex
    from zoo.metrics.retrieval import recall_at_k, reid_map

    q = F.normalize(torch.as_tensor(d["q"]).float(), dim=1).numpy()
    g = F.normalize(torch.as_tensor(d["g"]).float(), dim=1).numpy()
    out: dict[str, float] = {"gallery": float(len(g))}
    for name, spec in (("exact", IndexSpec(metric="ip")), ("ivf", IndexSpec("ivf", metric="ip", nprobe=8))):
        index = VectorIndex(g.shape[1], spec).build(g)
        t, (_, order) = timed(lambda: index.search(q, len(g)))
        if "positives" in d:
            rel = np.array([[j in set(p.tolist()) for j in row] for row, p in zip(order, d["positives"])])
            junk = None
        else:
            rel = (np.asarray(d["gl"])[np.where(order >= 0, order, 0)] == np.asarray(d["ql"])[:, None]) & (order >= 0)
            junk = (None if "junk" not in d else np.take_along_axis(d["junk"], np.where(order >= 0, order, 0), 1))
        kept = rel if junk is None else np.array([np.pad(r[~j], (0, int(j.sum()))) for r, j in zip(rel, junk)])
        out[f"{name}_mAP"] = reid_map(rel, junk)
        out[f"{name}_recall@{k}"] = recall_at_k(kept, k)
        t_k, _ = timed(lambda: index.search(q, k))
        out[f"{name}_qps"] = len(q) / t_k
        out[f"{name}_index"] = 0.0 if name == "exact" else float(index.plan.nlist or 0)
    return out


STEPS = {"cfor": 80, "dolg": 200, "cfcd": 210, "dcal": 150, "prao": 350, "gabor": 150, "bevplace": 60, "glscl": 200}


def bench_methods(args: argparse.Namespace) -> None:
    """One column per method (module docstring)."""
    import torch

    torch.set_num_threads(1)
    methods = args.only or list(STEPS)
    columns = {}
    for method in methods:
        start = time.perf_counter()
        d = method_descriptors(method, max(2, int(STEPS[method] * args.budget)), args.gallery)
        columns[method] = search_figures(d)
        print(f"# {method}: {time.perf_counter() - start:.0f} s", flush=True)
    rows = ["gallery", "exact_mAP", "exact_recall@10", "exact_qps", "ivf_mAP", "ivf_recall@10", "ivf_qps",
            "ivf_index"]
    labels = {"ivf_index": "IVF lists"}
    print("| figure | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for row in rows:
        cells = [f"{c[row]:.0f}" if row.endswith(("qps", "gallery", "index")) else f"{c[row]:.3f}"
                 for c in columns.values()]
        print(f"| {labels.get(row, row)} | " + " | ".join(cells) + " |")


# ----------------------------------------------------------------------------------------------- ablations
def bench_ablations(args: argparse.Namespace) -> None:
    """Each method's central comparison, printed as ``method | setting | figure | value`` rows."""
    from dataclasses import replace

    import torch

    import zoo
    from zoo.options import TrainOptions

    torch.set_num_threads(1)
    only = set(args.only or ["dolg", "cfcd", "dcal", "gabor", "bevplace", "glscl", "prao"])
    rows: list[tuple[str, str, str, float]] = []

    def add(method: str, setting: str, report: dict[str, float], keys: tuple[str, ...]) -> None:
        for key in keys:
            rows.append((method, setting, key, report[key]))
            print(f"| {method} | {setting} | {key} | {report[key]:.3f} |", flush=True)

    seeds = range(args.seeds)
    if "dolg" in only:
        for seed in seeds:
            for variant in ("tiny", "gem"):
                m = _train(f"dolg-{variant}", 200, seed)
                add("dolg", f"{variant} seed {seed}", zoo.evaluate(m, zoo.make_data(m, "synthetic", "test")),
                    ("mAP_easy", "mAP_medium", "mAP_hard"))
    if "cfcd" in only:
        for seed in seeds:
            m = _train("cfcd-tiny", 210, seed)
            bench = zoo.make_data(m, "synthetic", "test")
            add("cfcd", f"global seed {seed}", zoo.evaluate(m, bench), ("mAP_medium", "mAP_hard"))
            add("cfcd", f"local re-rank top 20 seed {seed}", zoo.evaluate(m, bench, rerank=20),
                ("mAP_medium", "mAP_hard"))
    if "dcal" in only:
        from zoo_plugins.dcal.config import tiny, tiny_reid
        from zoo_plugins.dcal.model import DCAL
        from zoo_plugins.dcal.train import evaluate, make_data, train

        for seed in seeds:
            for task, base in (("fgvc", tiny()), ("reid", tiny_reid())):
                for setting, cfg in (("dcal", base), ("sa only", replace(base, glca=False, pwca=False)),
                                     ("sa + glca", replace(base, pwca=False))):
                    torch.manual_seed(seed)
                    m = DCAL(cfg)
                    train(m, make_data(cfg, "synthetic", "train"), cfg,
                          TrainOptions(steps=150, seed=seed, progress=False))
                    rep = evaluate(m, make_data(cfg, "synthetic", "test"), {})
                    keys = ("top1",) if task == "fgvc" else ("mAP", "cmc@1")
                    add("dcal", f"{task} {setting} seed {seed}", rep, keys)
    if "gabor" in only:
        for seed in seeds:
            for variant in ("tiny", "cnn"):
                m = _train(f"gabor-texture-features-for-fine-grained-recognition-{variant}", 150, seed)
                report = zoo.evaluate(m, zoo.make_data(m, "synthetic", "test"))
                add("gabor", f"{variant} seed {seed}", report, ("top1",))
    if "bevplace" in only:
        from zoo_plugins.bevplace.train import rotation_similarity

        for seed in seeds:
            for variant in ("tiny", "plain"):
                m = _train(f"bevplace-{variant}", 60, seed)
                test = zoo.make_data(m, "synthetic", "test")
                rep = zoo.evaluate(m, test)
                rep.update({f"cos@{int(a)}deg": v for a, v in
                            rotation_similarity(m, test.database_clouds[:8], [10, 30, 45, 90]).items()})
                add("bevplace", f"{variant} seed {seed}", rep, ("recall@1", "recall@5", "position_error_m",
                                                                 "cos@10deg", "cos@30deg", "cos@45deg", "cos@90deg"))
    if "glscl" in only:
        from zoo_plugins.glscl.baseline import retrieval_flops
        from zoo_plugins.glscl.config import paper

        for seed in seeds:
            m = _train("glscl-tiny", 200, seed)
            add("glscl", f"seed {seed}", zoo.evaluate(m, zoo.make_data(m, "synthetic", "test")),
                ("R@1", "global_R@1", "local_R@1", "R@5"))
        for n in (100, 1000):
            flops = retrieval_flops(paper(), n, n)
            rows.append(("glscl", f"paper size, {n} x {n}", "cross-modal / GLSCL FLOPs",
                         flops["cross_modal"] / flops["glscl"]))
            print(f"| glscl | paper size, {n} x {n} | cross-modal / GLSCL FLOPs | "
                  f"{flops['cross_modal'] / flops['glscl']:.1f} |", flush=True)
    if "prao" in only:
        for seed in seeds:
            m = _train("prao-occluded-re-id-tiny", 350, seed)
            test = zoo.make_data(m, "synthetic", "test")
            for repair in (True, False):
                for ranking in ("measure", "feature"):
                    add("prao", f"repair={repair} ranking={ranking} seed {seed}",
                        zoo.evaluate(m, test, repair=repair, ranking=ranking), ("mAP", "cmc@1", "cmc@10"))


def main() -> None:
    """Run the requested benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--nq", type=int, default=500)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--leaves", type=int, default=50)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--methods", action="store_true", help="one column per retrieval method")
    p.add_argument("--ablations", action="store_true", help="each method's central comparison")
    p.add_argument("--only", nargs="*", help="methods to run (default: all)")
    p.add_argument("--gallery", type=int, default=1000, help="gallery size of the method columns")
    p.add_argument("--budget", type=float, default=1.0, help="scale of each method's training steps")
    p.add_argument("--seeds", type=int, default=1, help="seeds of the ablations")
    args = p.parse_args()
    if args.methods:
        bench_methods(args)
    elif args.ablations:
        bench_ablations(args)
    else:
        bench_indexes(args)


if __name__ == "__main__":
    main()
