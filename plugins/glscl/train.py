"""GLSCL training on frozen synthetic embeddings (shared trainer) and text-to-video retrieval evaluation."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from zoo.engines.retrieval.data.text_video import TextVideo, make_text_video
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import DataError
from zoo.metrics.retrieval import recall_at_k
from zoo.options import TrainOptions
from zoo_plugins.glscl.config import GLSCLConfig
from zoo_plugins.glscl.losses import contrastive, inter_consistency, intra_diversity
from zoo_plugins.glscl.model import GLSCL


def make_data(config: GLSCLConfig, source: str, split: str) -> TextVideo:
    """``synthetic`` caption/video embeddings sharing one concept space across splits."""
    if source != "synthetic":
        raise DataError(f"data source {source!r} is not available: only 'synthetic' embeddings are generated here "
                        "(MSR-VTT etc. need CLIP features extracted first)")
    n = config.train_size if split == "train" else config.test_size
    return make_text_video(n, config.dim, frames=config.frames, words=config.words, seed=0 if split == "train" else 1)


def glscl_loss(model: GLSCL, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Contrastive loss of global + local scores, plus alpha * IDL (visual and, by default, textual) and ICL."""
    cfg = model.config
    out = model.scores(batch, local=True)
    retrieval = contrastive(out["score"], model.logit_scale)
    idl = intra_diversity(out["video_concepts"], cfg.ranking_margin)
    if cfg.idl_text:
        idl = idl + intra_diversity(out["text_concepts"], cfg.ranking_margin)
    icl = inter_consistency(out["video_concepts"], out["text_concepts"], cfg.beta, cfg.consistency_target,
                            cfg.icl_normalisation)
    total = retrieval + cfg.alpha * idl + icl
    return total, {"retrieval": float(retrieval.detach()), "idl": float(idl.detach()), "icl": float(icl.detach())}


def train(model: GLSCL, data: TextVideo, config: GLSCLConfig, options: TrainOptions, callbacks: Any = ()) -> TrainResult:
    """AdamW, cosine schedule (the encoders are frozen: only the local module and the logit scale train)."""
    recipe = Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, schedule="cosine",
                    warmup_steps=min(10, config.steps // 10), grad_clip=1.0)
    return fit(model, data, glscl_loss, recipe, options, callbacks=callbacks)


@torch.no_grad()
def evaluate(model: GLSCL, data: TextVideo, options: Mapping[str, Any]) -> dict[str, float]:
    """Text-to-video R@1/5/10 and median rank, for the combined, global-only and local-only scores."""
    was = model.training
    model.eval()
    batch = data.tensors()
    out = model.scores(batch, local=True)
    model.train(was)
    report = {}
    for name in ("score", "global", "local"):
        order = torch.argsort(out[name], dim=1, descending=True)
        rel = (order == torch.arange(len(order))[:, None]).numpy()
        prefix = "" if name == "score" else f"{name}_"
        for k in (1, 5, 10):
            report[f"{prefix}R@{k}"] = recall_at_k(rel, k)
        report[f"{prefix}median_rank"] = float(np.median(rel.argmax(1) + 1))
    return report
