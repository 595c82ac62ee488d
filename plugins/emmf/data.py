"""Synthetic multi-view data with planted clusters for EMMF: each cluster is a pair of binary factors (a, b);
one view sees only a, another only b, a third sees the cluster weakly, and every view carries noise features.
No single view separates the clusters; their combination does."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from zoo.errors import ConfigError, DataError
from zoo_plugins.emmf.config import EMMFConfig


@dataclass
class MultiViewData:
    """``views``: one ``(n, d_p)`` float tensor per view; ``labels (n,)`` planted clusters (or ``None``)."""

    views: list[torch.Tensor]
    labels: torch.Tensor | None
    name: str = "multiview"

    def __len__(self) -> int:
        return 1  # the whole data set is one full batch for the trainer

    def __getitem__(self, index: int) -> MultiViewData:
        if index != 0:
            raise IndexError(index)
        return self

    @property
    def num_samples(self) -> int:
        return int(self.views[0].shape[0])


def planted_views(num_samples: int = 200, view_dims: tuple[int, ...] = (24, 24, 24), num_clusters: int = 4,
                  signal: float = 2.0, weak: float = 0.6, informative: int = 4, seed: int = 0) -> MultiViewData:
    """``num_clusters`` clusters (even, >= 4) split into two factors ``a = c mod 2`` and ``b = c // 2 mod
    (num_clusters / 2)``; view 0 shows ``a`` on its first ``informative`` features (means +-signal), view 1 shows
    ``b`` (one direction per value of b), views 2+ show the cluster itself with means of size ``weak``; every
    feature has unit Gaussian noise; features are then scaled to [0, 1] per view."""
    if num_clusters < 4 or num_clusters % 2:
        raise DataError(f"planted_views needs an even number of clusters >= 4, got {num_clusters}")
    if len(view_dims) < 2 or min(view_dims) < informative:
        raise DataError(f"planted_views needs >= 2 views of >= {informative} features, got {view_dims}")
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_samples) % num_clusters
    a, b = labels % 2, labels // 2
    views = []
    for p, d in enumerate(view_dims):
        x = torch.randn(num_samples, d, generator=g)
        if p == 0:
            x[:, :informative] += signal * (2 * a[:, None].float() - 1)
        elif p == 1:
            dirs = torch.randn(num_clusters // 2, informative, generator=g)
            x[:, :informative] += signal * dirs[b] / dirs[b].norm(dim=1, keepdim=True) * 1.5
        else:
            means = torch.randn(num_clusters, informative, generator=g)
            x[:, :informative] += weak * means[labels]
        lo, hi = x.min(0).values, x.max(0).values
        views.append((x - lo) / (hi - lo).clamp_min(1e-12))
    return MultiViewData(views, labels, "planted")


def make_data(config: EMMFConfig, source: str = "synthetic", split: str = "train") -> MultiViewData:
    """The ``make_data`` hook: ``synthetic`` planted views of the variant's sizes (transductive: every split is
    the same data)."""
    if split not in ("train", "test", "all"):
        raise ConfigError(f"emmf data split must be train, test or all, got {split!r}")
    if source != "synthetic":
        raise ConfigError(f"emmf knows the data source 'synthetic' (multi-view .mat sets are not shipped), got "
                          f"{source!r}")
    return planted_views(config.num_samples, config.view_dims, config.num_clusters)
