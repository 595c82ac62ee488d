"""What image-retrieval plugins share around their model: data sources, batched encoding, evaluation, search.

A plugin supplies an ``encode(images) -> descriptors`` function; these helpers do the rest:

- :func:`landmark_source`: the ``synthetic`` landmark training set or revisited-style benchmark;
- :func:`encode_all`: batched, no-grad encoding in eval mode (the model's mode is restored);
- :func:`evaluate_landmarks`: revisited easy/medium/hard mAP, label mAP and recall@k of a benchmark;
- :func:`evaluate_reid`: CMC and mAP of a re-ID benchmark (same identity and camera ignored);
- :func:`search`: top-k database items per query, exact or through a faiss index.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.engines.retrieval.data.landmarks import LandmarkBenchmark, make_landmark_benchmark, make_landmarks
from zoo.engines.retrieval.data.reid import ReIDBenchmark
from zoo.engines.retrieval.evaluate import label_report, rank, revisited_report
from zoo.engines.retrieval.index import IndexSpec
from zoo.errors import DataError, InputError

Encoder = Callable[[torch.Tensor], torch.Tensor]


def landmark_source(source: str, split: str, *, classes: int, per_class: int, size: int,
                    test_classes: int = 10, seed: int = 0) -> Any:
    """``synthetic`` landmarks: ``train`` views of ``classes`` landmarks, or (``test``/``val``) a revisited
    benchmark over unseen landmarks (queries, database with easy/hard/junk views and distractors)."""
    if source != "synthetic":
        raise DataError(f"data source {source!r} is not available: only 'synthetic' landmarks are generated here "
                        "(revisited Oxford/Paris need their own download and ground-truth files)")
    if split == "train":
        return make_landmarks(classes=classes, per_class=per_class, size=size, seed=seed)
    if split in ("test", "val"):
        return make_landmark_benchmark(classes=test_classes, size=size, seed=seed + 1)
    raise DataError(f"unknown split {split!r}: expected train, val or test")


@torch.no_grad()
def encode_all(model: nn.Module, encode: Encoder, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """``encode`` over ``images`` in batches, in eval mode, without gradients; the model's mode is restored."""
    was = model.training
    model.eval()
    try:
        return torch.cat([encode(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
    finally:
        model.train(was)


def evaluate_landmarks(model: nn.Module, encode: Encoder, bench: LandmarkBenchmark, ks: Sequence[int] = (1, 5, 10),
                       index: IndexSpec | None = None) -> dict[str, float]:
    """Revisited easy/medium/hard mAP, plus label mAP and recall@k (junk views ignored, distractors negative)."""
    if not isinstance(bench, LandmarkBenchmark):
        raise InputError(f"evaluation needs a landmark benchmark (make_data(..., 'test')), got {type(bench).__name__}")
    q = encode_all(model, encode, bench.queries)
    db = encode_all(model, encode, bench.database)
    ranking = rank(q, db, index=index, k=len(db) if index is not None else None)
    junk = np.array([[kind == "junk" and lab == int(c) for kind, lab in zip(bench.kinds, bench.database_labels.tolist())]
                     for c in bench.query_labels.tolist()])
    return {**revisited_report(ranking, bench.ground_truth),
            **label_report(ranking, bench.query_labels, bench.database_labels, ks, junk=junk)}


def evaluate_reid(model: nn.Module, encode: Encoder, bench: ReIDBenchmark, ks: Sequence[int] = (1, 5, 10)
                  ) -> dict[str, float]:
    """CMC rank-k, recall@k and mAP over the gallery, ignoring the query identity's own-camera images."""
    q = encode_all(model, encode, bench.query.images)
    g = encode_all(model, encode, bench.gallery.images)
    return label_report(rank(q, g), bench.query.pids, bench.gallery.pids, ks, junk=bench.junk())


def search(queries: torch.Tensor, database: torch.Tensor, k: int, index: IndexSpec | None = None
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine scores and database indices of the top ``k`` per query (exact, or through ``index``)."""
    k = min(k, len(database))
    ids = torch.as_tensor(rank(queries, database, k=k, index=index))
    q = torch.nn.functional.normalize(queries.float(), dim=1)
    db = torch.nn.functional.normalize(database.float(), dim=1)
    scores = (q[:, None, :] * db[ids.clamp(min=0)]).sum(-1)
    return scores, ids


def margin_loss(model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy of a margin head: ``model(images, labels)`` returns the margin logits of ``(images, labels)``."""
    images, labels = batch[0], batch[1]
    logits = model(images, labels)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    return loss, {"ce": float(loss.detach()), "train_acc": float((logits.argmax(1) == labels).float().mean())}


def describe_and_search(model: nn.Module, encode: Encoder, images: torch.Tensor, database: Any = None,
                        k: int = 10, index: str | None = None) -> dict[str, torch.Tensor]:
    """Descriptors of ``images``; with ``database`` (images or descriptors) also the top-k hits and scores."""
    descriptors = encode_all(model, encode, images)
    out = {"descriptor": descriptors}
    if database is not None:
        db = torch.as_tensor(database).float()
        if db.ndim == 4:
            db = encode_all(model, encode, db)
        if db.ndim != 2 or db.shape[1] != descriptors.shape[1]:
            raise InputError(f"database must be images (N, 3, H, W) or {descriptors.shape[1]}-d descriptors, got "
                             f"shape {tuple(db.shape)}")
        scores, ids = search(descriptors, db, k, IndexSpec.parse(index) if index else None)
        out.update(hits=ids, scores=scores)
    return out
