"""CFCD's two training stages on the shared trainer, synthetic landmark data and evaluation.

Stage 1 (coarse): MadaCos cross-entropy on random batches. Stage 2 (fine): batches of tuples (anchor, positive,
6 hard negatives mined with the stage-1 descriptors: the nearest images of the nearest other classes); loss =
MadaCos cross-entropy over every image of the tuples + the super-feature triplet loss of each tuple.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from zoo.engines.retrieval.samplers import GroupedDataset, collate_groups, hard_negative_tuples
from zoo.engines.retrieval.tasks import encode_all, evaluate_landmarks, landmark_source, margin_loss
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions
from zoo_plugins.cfcd.config import CFCDConfig
from zoo_plugins.cfcd.losses import superfeature_triplet
from zoo_plugins.cfcd.model import CFCD


def make_data(config: CFCDConfig, source: str, split: str) -> Any:
    """``synthetic`` landmarks: training views (``train``) or a revisited-style benchmark (``test``)."""
    return landmark_source(source, split, classes=config.train_classes, per_class=config.per_class,
                           size=config.image_size, test_classes=config.test_classes)


def _optimizer(model: CFCD, config: CFCDConfig) -> torch.optim.Optimizer:
    return torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=config.lr, momentum=0.9,
                           weight_decay=config.weight_decay, nesterov=True)


def fine_loss(model: CFCD, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
    """Stage-2 loss of a batch of whole tuples: MadaCos CE over every image + the triplet loss of each tuple."""
    images, labels = batch[0], batch[1]
    size = model.config.tuple_size
    out = model.features(images)
    ce = torch.nn.functional.cross_entropy(model.head(out["global"], labels), labels)
    local = out["local"].reshape(-1, size, *out["local"].shape[1:])
    attention = out["attention"].reshape(-1, size, out["attention"].shape[-1])
    cfg = model.config
    triplet = sum(superfeature_triplet(loc, att, cfg.triplet_margin, cfg.triplet_weight, cfg.lowe_ratio,
                                       cfg.attention_keep) for loc, att in zip(local, attention))
    return ce + triplet, {"ce": float(ce.detach()), "triplet": float(torch.as_tensor(triplet).detach())}


def mine_tuples(model: CFCD, data: Any, seed: int = 0) -> Any:
    """Tuples of ``tuple_size`` (anchor, positive, hard negatives) from the current global descriptors."""
    descriptors = encode_all(model, model.descriptor, data.images)
    return hard_negative_tuples(data.labels.numpy(), model.config.tuple_size, descriptors.numpy(), seed)


def train(model: CFCD, data: Any, config: CFCDConfig, options: TrainOptions, callbacks: Any = ()) -> TrainResult:
    """Stage 1 then stage 2. ``options.steps`` (if given) is split between the stages in the config's ratio."""
    total = config.stage1_steps + config.stage2_steps
    steps = options.steps if options.steps is not None else total
    s1 = round(steps * config.stage1_steps / total)
    out = options.get("out_dir")
    coarse = Recipe(steps=s1, batch_size=config.batch_size, lr=config.lr, optimizer="sgd",
                    weight_decay=config.weight_decay, schedule="cosine", warmup_steps=min(config.warmup_steps, s1),
                    grad_clip=5.0)
    first = fit(model, data, margin_loss, coarse, TrainOptions(dict(options), steps=s1,
                out_dir=f"{out}/stage1" if out else None), callbacks=callbacks, optimizer=_optimizer(model, config))
    tuples = GroupedDataset(data, mine_tuples(model, data, seed=int(options.seed)))
    fine = Recipe(steps=steps - s1, batch_size=config.tuples_per_batch, lr=config.lr, optimizer="sgd",
                  weight_decay=config.weight_decay, schedule="cosine", grad_clip=5.0)
    second = fit(model, tuples, fine_loss, fine, TrainOptions(dict(options), steps=steps - s1,
                 out_dir=f"{out}/stage2" if out else None), collate=collate_groups, callbacks=callbacks,
                 optimizer=_optimizer(model, config))
    history = {f"stage1/{k}": v for k, v in first.history.items()}
    history.update({f"stage2/{k}": v for k, v in second.history.items()})
    history["loss"] = first.history.get("loss", []) + second.history.get("loss", [])
    return TrainResult(history, {**first.metrics, **second.metrics}, first.steps + second.steps, second.out_dir,
                       second.checkpoint, {"tuples": len(tuples)})


def evaluate(model: CFCD, data: Any, options: Mapping[str, Any]) -> dict[str, float]:
    """Revisited easy/medium/hard mAP and recall@k; ``options.rerank`` > 0 re-ranks with local descriptors."""
    from zoo.engines.retrieval.index import IndexSpec
    from zoo_plugins.cfcd.infer import rerank_encoder

    spec = IndexSpec.parse(options["index"]) if options.get("index") else None
    k = int(options.get("k") or 10)
    rerank = int(options.get("rerank") or 0)
    if rerank:
        return rerank_encoder(model, data, rerank, k)
    return evaluate_landmarks(model, model.descriptor, data, ks=sorted({1, 5, k}), index=spec)
