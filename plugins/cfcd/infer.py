"""CFCD inference: the global descriptor (single-stage search), and an optional local re-ranking of the top
candidates with the prominent local descriptors (not in the paper: an option measured in the README)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from zoo.engines.retrieval.evaluate import label_report, rank, revisited_report
from zoo.engines.retrieval.tasks import describe_and_search, encode_all
from zoo_plugins.cfcd.config import CFCDConfig
from zoo_plugins.cfcd.losses import match_local
from zoo_plugins.cfcd.model import CFCD


def example_inputs(config: CFCDConfig) -> dict[str, torch.Tensor]:
    """Two random images of the variant's size."""
    generator = torch.Generator().manual_seed(0)
    return {"image": torch.rand(2, 3, config.image_size, config.image_size, generator=generator)}


def _local(model: CFCD, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    def encode(x: torch.Tensor) -> torch.Tensor:
        out = model.features(x)
        return torch.cat([F.normalize(out["local"], dim=-1), out["attention"][..., None]], dim=-1)

    packed = encode_all(model, encode, images)
    return packed[..., :-1], packed[..., -1]


def local_score(query: torch.Tensor, candidate: torch.Tensor, attention: torch.Tensor, config: CFCDConfig) -> float:
    """Share of the query's local descriptors matched in the candidate (mutual NN, ratio test, attention)."""
    matched, _ = match_local(query, candidate, attention, config.lowe_ratio, config.attention_keep)
    return matched.numel() / query.shape[0]


def rerank(model: CFCD, queries: torch.Tensor, database: torch.Tensor, top: int) -> np.ndarray:
    """Full database ranking per query: the global ranking with its first ``top`` candidates re-scored by
    ``cosine + rerank_weight * local_score``."""
    q = encode_all(model, model.descriptor, queries)
    db = encode_all(model, model.descriptor, database)
    order = rank(q, db)
    q_local, _ = _local(model, queries)
    db_local, db_att = _local(model, database)
    cos = q @ db.T
    for i in range(len(order)):
        head = order[i, :top]
        scores = [float(cos[i, j]) + model.config.rerank_weight * local_score(q_local[i], db_local[j], db_att[j],
                                                                               model.config) for j in head]
        order[i, :top] = head[np.argsort(-np.asarray(scores), kind="stable")]
    return order


def rerank_encoder(model: CFCD, bench: Any, top: int, k: int) -> dict[str, float]:
    """Revisited mAP and recall@k of ``bench`` with local re-ranking of the top candidates."""
    ranking = rerank(model, bench.queries, bench.database, top)
    junk = np.array([[kind == "junk" and lab == int(c) for kind, lab in zip(bench.kinds, bench.database_labels.tolist())]
                     for c in bench.query_labels.tolist()])
    return {**revisited_report(ranking, bench.ground_truth),
            **label_report(ranking, bench.query_labels, bench.database_labels, sorted({1, 5, k}), junk=junk)}


def infer(model: CFCD, inputs: Mapping[str, torch.Tensor], options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``descriptor`` (B, dim); with ``options.database`` (images): ``hits`` and ``scores``, locally re-ranked
    when ``options.rerank`` > 0."""
    database = options.get("database")
    top = int(options.get("rerank") or 0)
    k = int(options.get("k") or 10)
    if database is not None and top:
        order = torch.as_tensor(rerank(model, inputs["image"], torch.as_tensor(database).float(), top))[:, :k]
        out = describe_and_search(model, model.descriptor, inputs["image"])
        return {**out, "hits": order}
    return describe_and_search(model, model.descriptor, inputs["image"], database, k, options.get("index"))
