"""PRAO training: the pose repair module first (occlusion segmenter and e-GAN, alternating GAN steps), then
DCFE on repaired images (shared trainer, P x K batches), and CMC/mAP evaluation on occluded queries.

DCFE's loss (Eq. 6): ``(1/k) sum_i C_i (L_cls + L_tri,i) + lambda L_d`` per image, with ``C_i`` the keypoint
confidences, ``L_cls`` the identity cross-entropy of the global feature, ``L_tri,i`` the batch-hard triplet loss
of keypoint ``i``'s local features, and ``L_d`` the binary cross-entropy of the distance measure on one positive
and one negative partner per image; plus the pose head's heatmap regression (here the pose estimator is trained
on the synthetic keypoints instead of being a pretrained network).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from zoo.engines.retrieval.data.reid import ReIDBenchmark, ReIDImages, make_reid, make_reid_benchmark
from zoo.engines.retrieval.evaluate import label_report, rank
from zoo.engines.retrieval.losses import batch_hard_triplet
from zoo.engines.retrieval.samplers import GroupedDataset, collate_groups, pk_groups
from zoo.engines.retrieval.tasks import encode_all
from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.errors import DataError
from zoo.options import TrainOptions
from zoo_plugins.prao.config import PRAOConfig
from zoo_plugins.prao.model import DCFE, PRAO, keypoint_heatmaps
from zoo_plugins.prao.repair import discriminator_loss, edge_weights, generator_loss, random_erasure


def make_data(config: PRAOConfig, source: str, split: str) -> Any:
    """``synthetic`` pedestrians: training identities (some occluded) or an occluded-query benchmark."""
    if source != "synthetic":
        raise DataError(f"data source {source!r} is not available: only 'synthetic' pedestrians are generated here "
                        "(Occluded-DukeMTMC is withdrawn; Market-1501 needs its own download)")
    size = tuple(config.image_size)
    if split == "train":
        return make_reid(config.num_classes, 8, 4, size, occlusion=config.occlusion, seed=0)
    return make_reid_benchmark(12, 4, 2, query_occlusion=1.0, size=size, seed=1)


def erase_batch(clean: torch.Tensor, generator: torch.Generator, decay: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A random erasure per image: masks (B, 1, H, W) and edge weights (B, H, W)."""
    size = tuple(clean.shape[-2:])
    masks, weights = torch.zeros(clean.shape[0], 1, *size), torch.zeros(clean.shape[0], *size)
    for i in range(clean.shape[0]):
        xm, ym, wm, hm = random_erasure(size, generator)
        masks[i, 0, ym:ym + hm, xm:xm + wm] = 1.0
        weights[i] = edge_weights(size, (xm, ym, wm, hm), decay)
    return masks, weights


def train_repair(model: PRAO, data: ReIDImages, steps: int, seed: int = 0) -> dict[str, list[float]]:
    """The occlusion segmenter (BCE to the occluder masks) and the e-GAN on randomly erased clean images."""
    cfg = model.config
    g = torch.Generator().manual_seed(seed)
    opt_s = torch.optim.Adam(model.segmenter.parameters(), lr=1e-3)
    opt_g = torch.optim.Adam(model.generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    history: dict[str, list[float]] = {"segment": [], "generator": [], "discriminator": []}
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(data), (cfg.batch_size,), generator=g)
        seg = F.binary_cross_entropy_with_logits(model.segmenter(data.images[idx]),
                                                 data.occluders[idx, None].float())
        opt_s.zero_grad()
        seg.backward()
        opt_s.step()
        clean = data.clean[idx]
        masks, weights = erase_batch(clean, g, cfg.edge_decay)
        fake = model.generator(clean, masks)
        d_loss = discriminator_loss(model.discriminator(clean), model.discriminator(fake.detach()))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = generator_loss(model.discriminator(fake), fake, clean, masks, weights, cfg.reconstruction_weight)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        for key, value in (("segment", seg), ("generator", g_loss), ("discriminator", d_loss)):
            history[key].append(float(value.detach()))
    return history


def _partners(labels: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """For each image, a random other image of the same identity and one of another identity in the batch."""
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    noise = torch.rand(len(labels), len(labels), generator=generator)
    positive = torch.where(same & ~eye, noise, torch.full_like(noise, -1.0)).argmax(1)
    negative = torch.where(~same, noise, torch.full_like(noise, -1.0)).argmax(1)
    return positive, negative


def dcfe_loss(model: DCFE, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Eq. 6 plus the pose head's regression (module docstring)."""
    cfg = model.config
    out = model(batch["image"])
    labels = batch["pid"]
    target = keypoint_heatmaps(batch["keypoints"], batch["visible"], tuple(out["heatmaps"].shape[-2:]),
                               cfg.heatmap_sigma)
    pose = F.mse_loss(out["heatmaps"], target)
    ce = F.cross_entropy(out["logits"], labels, reduction="none")  # (B,)
    tri = torch.stack([batch_hard_triplet(out["local"][:, i], labels, cfg.triplet_margin, reduction="none")
                       for i in range(cfg.keypoints)], dim=1)  # (B, K)
    confidence = out["confidence"].detach()
    main = (confidence * (ce[:, None] + tri)).mean()
    positive, negative = _partners(labels, torch.Generator().manual_seed(int(labels.sum())))
    d_pos = model.measure(out["local"], out["local"][positive])
    d_neg = model.measure(out["local"], out["local"][negative])
    distance = F.binary_cross_entropy(torch.cat([d_pos, d_neg]), torch.cat([torch.ones_like(d_pos),
                                                                            torch.zeros_like(d_neg)]))
    total = main + cfg.distance_weight * distance + pose
    return total, {"main": float(main.detach()), "distance": float(distance.detach()), "pose": float(pose.detach())}


def repaired(model: PRAO, data: ReIDImages) -> ReIDImages:
    """The dataset with every image passed through the pose repair module."""
    images = torch.cat([model.repair(data.images[i:i + 64])[0] for i in range(0, len(data), 64)])
    return dataclasses.replace(data, images=images)


def train(model: PRAO, data: ReIDImages, config: PRAOConfig, options: TrainOptions, callbacks: Any = ()) -> TrainResult:
    """PPR (``repair_steps``), then DCFE (``steps``) on repaired images; ``options.steps`` splits like them."""
    total = config.repair_steps + config.steps
    steps = options.steps if options.steps is not None else total
    repair_steps = round(steps * config.repair_steps / total)
    history = {f"repair/{k}": v for k, v in train_repair(model, data, repair_steps, int(options.seed)).items()}
    model.eval()
    fixed = repaired(model, data)
    groups = pk_groups(fixed.pids.numpy(), config.instances, rounds=8, seed=int(options.seed))
    recipe = Recipe(steps=steps - repair_steps, batch_size=max(1, config.batch_size // config.instances),
                    lr=config.lr, optimizer="adam", betas=tuple(config.betas), schedule="step",
                    milestones=(int(0.5 * (steps - repair_steps)),), gamma=0.1)
    result = fit(model.dcfe, GroupedDataset(fixed, groups), dcfe_loss, recipe,
                 TrainOptions(dict(options), steps=steps - repair_steps), collate=collate_groups, callbacks=callbacks)
    result.history.update(history)
    return result


def describe(model: PRAO, images: torch.Tensor, repair: bool = True) -> dict[str, torch.Tensor]:
    """Global and local features (and the concatenated, normalised descriptor) of (repaired) images."""
    x = torch.cat([model.repair(images[i:i + 64])[0] for i in range(0, len(images), 64)]) if repair else images
    packed = encode_all(model.dcfe, lambda b: (lambda o: torch.cat([o["global"], o["local"].flatten(1)], 1))(
        model.dcfe(b)), x)
    c = model.dcfe.channels
    local = packed[:, c:].reshape(len(x), model.config.keypoints, c)
    return {"global": packed[:, :c], "local": local,
            "descriptor": F.normalize(torch.cat([F.normalize(packed[:, :c], dim=1),
                                                 F.normalize(local.flatten(1), dim=1)], 1), dim=1)}


@torch.no_grad()
def measure_ranking(model: PRAO, query_local: torch.Tensor, gallery_local: torch.Tensor) -> np.ndarray:
    """Gallery order per query by the learned same-person probability (the dual-channel matching)."""
    model.dcfe.eval()
    scores = torch.stack([model.dcfe.measure(q.expand(len(gallery_local), -1, -1), gallery_local)
                          for q in query_local])
    return torch.argsort(scores, dim=1, descending=True, stable=True).numpy()


def evaluate(model: PRAO, data: ReIDBenchmark, options: Mapping[str, Any]) -> dict[str, float]:
    """CMC rank-k and mAP (same identity and camera ignored), ranking by the measure or by feature cosine."""
    repair = options.get("repair", True) is not False
    q, g = describe(model, data.query.images, repair), describe(model, data.gallery.images, repair)
    if (options.get("ranking") or "measure") == "measure":
        order = measure_ranking(model, q["local"], g["local"])
    else:
        order = rank(q["descriptor"], g["descriptor"])
    return label_report(order, data.query.pids, data.gallery.pids, (1, 5, 10), junk=data.junk())
