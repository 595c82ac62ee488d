"""Data of the example plugin: scikit-learn's digits (zoo's shared stratified split) and few-shot episodes."""
from __future__ import annotations

from typing import Any

import torch

from zoo.errors import DataError
from zoo_protonet.config import ProtoNetConfig


def make_data(config: ProtoNetConfig, source: str, split: str) -> Any:
    """``digits`` (or ``synthetic``, the same small real set): a dataset with ``images [N,1,8,8]`` and ``labels``."""
    if source not in ("digits", "synthetic"):
        raise DataError(f"protonet: unknown data source {source!r}; this example supports 'digits'")
    if config.image_size != 8:
        raise DataError(f"protonet: the digits are 8x8 images; this variant expects {config.image_size}x"
                        f"{config.image_size} (train the paper variant on your own data)")
    from zoo.data.digits import load_digits_split

    return load_digits_split(split)


def tensors(data: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, labels)`` of a digits dataset or of a plain pair."""
    if hasattr(data, "images") and hasattr(data, "labels"):
        return data.images, data.labels
    images, labels = data
    return images, labels


def sample_episode(labels: torch.Tensor, classes: torch.Tensor, way: int, shot: int, queries: int,
                   generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of one episode: ``way`` classes drawn from ``classes``, ``shot + queries`` images of each.

    Returns ``(support, query)`` index tensors ordered class by class, so episode labels are
    ``arange(way).repeat_interleave(shot)`` and ``arange(way).repeat_interleave(queries)``.
    """
    if len(classes) < way:
        raise DataError(f"protonet: a {way}-way episode needs {way} classes, the data has {len(classes)}")
    chosen = classes[torch.randperm(len(classes), generator=generator)[:way]]
    support, query = [], []
    for c in chosen.tolist():
        pool = torch.nonzero(labels == c).flatten()
        if len(pool) < shot + queries:
            raise DataError(f"protonet: class {c} has {len(pool)} images, an episode needs {shot + queries}")
        picked = pool[torch.randperm(len(pool), generator=generator)[: shot + queries]]
        support.append(picked[:shot])
        query.append(picked[shot:])
    return torch.cat(support), torch.cat(query)


class Episodes(torch.utils.data.Dataset):
    """Episode ``i`` (drawn from a generator seeded by ``i``): support/query images and episode labels.

    The shared trainer draws one index per step (batch size 1) and the collate function unwraps it, so a seeded
    run sees the same episodes, and a resumed run continues with the episodes it would have seen.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, config: ProtoNetConfig, length: int) -> None:
        self.images, self.labels, self.config, self.length = images, labels, config, length
        present = torch.unique(labels)
        wanted = torch.tensor(config.train_classes, dtype=labels.dtype) if config.train_classes else present
        self.classes = wanted[torch.isin(wanted, present)]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        cfg = self.config
        generator = torch.Generator().manual_seed(int(i))
        s, q = sample_episode(self.labels, self.classes, cfg.way, cfg.shot, cfg.queries, generator)
        ways = torch.arange(cfg.way)
        return (self.images[s], ways.repeat_interleave(cfg.shot), self.images[q],
                ways.repeat_interleave(cfg.queries))


def first(items: list[Any]) -> Any:
    """Collate for batch size 1: the episode itself."""
    return items[0]
