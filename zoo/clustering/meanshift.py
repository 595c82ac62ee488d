"""Mean-shift clustering in torch with a flat or Gaussian kernel, batched over seeds.

The flat kernel reproduces scikit-learn's ``MeanShift`` (Comaniciu & Meer 2002 as implemented there): every seed
moves to the mean of the points within ``bandwidth`` until it moves less than ``1e-3 * bandwidth`` (or
``max_iter``); the converged modes are sorted by how many points lie within ``bandwidth`` of them, and a mode
closer than ``bandwidth`` to a more populated one is dropped; every point takes the label of its nearest mode
(``cluster_all=False``: -1 beyond ``bandwidth``). The Gaussian kernel moves a seed to the mean weighted by
``exp(-||x - m||^2 / (2 bandwidth^2))`` over all points; the merge and labelling rules are the same.

The number of clusters is not given: the bandwidth decides it (ANC uses this to find how many neurons a layer
really needs). :func:`estimate_bandwidth` is scikit-learn's heuristic.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from zoo.errors import InputError
from zoo.kernels import ops
from zoo.graphs.distances import check_points, pairwise_sq_dists

Kernel = Literal["flat", "gaussian"]


@dataclass
class MeanShiftResult:
    """``labels (n,)`` (-1: unassigned when ``cluster_all=False``), ``centers (c, d)`` sorted by ``counts``
    (points within ``bandwidth`` of each mode, descending), ``bandwidth`` used, ``n_iter`` (most iterations any
    seed took)."""

    labels: torch.Tensor
    centers: torch.Tensor
    counts: torch.Tensor
    bandwidth: float
    n_iter: int


def estimate_bandwidth(x: torch.Tensor, quantile: float = 0.3) -> float:
    """scikit-learn's heuristic: the mean over points of the distance to their ``int(n * quantile)``-th nearest
    neighbour, the point itself counting as the first."""
    x = check_points(x)
    n = x.shape[0]
    if not 0 < quantile <= 1:
        raise InputError(f"quantile must be in (0, 1], got {quantile}")
    k = max(1, int(n * quantile))
    d = pairwise_sq_dists(x)
    kth = torch.topk(d, k, dim=1, largest=False).values[:, -1]
    return float(kth.sqrt().mean())


def bin_seeds(x: torch.Tensor, bin_size: float, min_bin_freq: int = 1) -> torch.Tensor:
    """Seeds on a grid of cell ``bin_size``: the occupied cells (with at least ``min_bin_freq`` points), as
    scikit-learn's ``bin_seeding``; all points when binning does not reduce them."""
    cells, counts = torch.unique(torch.round(x / bin_size), dim=0, return_counts=True)
    cells = cells[counts >= min_bin_freq]
    if cells.shape[0] == x.shape[0]:
        return x.clone()
    return cells * bin_size


def _modes(seeds: torch.Tensor, x: torch.Tensor, bandwidth: float, kernel: Kernel, max_iter: int,
           chunk: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Run every seed to convergence; ``(modes, intensity (points within bandwidth), most iterations)``."""
    stop = 1e-3 * bandwidth
    out_modes, out_counts, most = [], [], 0
    for start in range(0, seeds.shape[0], chunk):
        means = seeds[start:start + chunk].clone()
        counts = torch.zeros(means.shape[0], dtype=torch.long, device=x.device)
        active = torch.ones(means.shape[0], dtype=torch.bool, device=x.device)
        it = 0
        while bool(active.any()):
            # one step of every active seed: zoo.kernels' mean_shift op (fused on CUDA, no [seeds, n] matrix)
            new, within = ops.mean_shift(means[active], x, bandwidth, kernel)
            idx = active.nonzero().squeeze(1)
            counts[idx] = within
            moved = (new - means[idx]).norm(dim=1)
            empty = within == 0
            means[idx] = torch.where(empty[:, None], means[idx], new)
            done = (moved <= stop) | empty | (it >= max_iter)
            active[idx[done]] = False
            it += 1
        most = max(most, it)
        out_modes.append(means)
        out_counts.append(counts)
    return torch.cat(out_modes), torch.cat(out_counts), most


def merge_modes(modes: torch.Tensor, counts: torch.Tensor, bandwidth: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop seeds that found no points, de-duplicate identical modes, sort by intensity (ties: coordinates,
    descending, as scikit-learn) and drop every mode within ``bandwidth`` of a more intense kept one."""
    keep = counts > 0
    modes, counts = modes[keep], counts[keep]
    if modes.shape[0] == 0:
        raise InputError("mean-shift found no mode: no seed has a point within the bandwidth; use a larger one")
    uniq, inverse = torch.unique(modes, dim=0, return_inverse=True)
    best = torch.zeros(uniq.shape[0], dtype=counts.dtype, device=counts.device).scatter_reduce_(
        0, inverse, counts, reduce="amax", include_self=False)
    # sort by (intensity, coordinates) descending: torch.unique sorts rows ascending lexicographically, so a
    # stable descending sort on intensity over the reversed rows breaks ties by coordinates, descending
    uniq, best = uniq.flip(0), best.flip(0)
    order = torch.sort(best, descending=True, stable=True).indices
    uniq, best = uniq[order], best[order]
    close = pairwise_sq_dists(uniq) <= bandwidth * bandwidth
    kept = torch.ones(uniq.shape[0], dtype=torch.bool, device=uniq.device)
    for i in range(uniq.shape[0]):
        if kept[i]:
            row = close[i].clone()
            row[i] = False
            kept &= ~row
    return uniq[kept], best[kept]


def mean_shift(
    x: torch.Tensor,
    bandwidth: float | None = None,
    *,
    kernel: Kernel = "flat",
    seeds: torch.Tensor | None = None,
    bin_seeding: bool = False,
    min_bin_freq: int = 1,
    cluster_all: bool = True,
    max_iter: int = 300,
    quantile: float = 0.3,
    chunk: int = 2048,
) -> MeanShiftResult:
    """Mean-shift clustering of the rows of ``x (n, d)`` (see the module docstring).

    Args:
        bandwidth: kernel radius (flat) or standard deviation (Gaussian); ``None``: :func:`estimate_bandwidth`
            with ``quantile``.
        seeds: starting points (default: every point, or grid cells with ``bin_seeding``).
        cluster_all: label every point (``False``: points farther than ``bandwidth`` from every mode get -1).
        chunk: seeds moved together (memory ``chunk * n``).
    """
    x = check_points(x)
    if kernel not in ("flat", "gaussian"):
        raise InputError(f"kernel must be 'flat' or 'gaussian', got {kernel!r}")
    h = estimate_bandwidth(x, quantile) if bandwidth is None else float(bandwidth)
    if not h > 0:
        raise InputError(f"bandwidth must be positive, got {h} (all points identical? pass a bandwidth)")
    if seeds is None:
        seeds = bin_seeds(x, h, min_bin_freq) if bin_seeding else x
    seeds = check_points(seeds, "seeds").to(x)
    modes, counts, n_iter = _modes(seeds, x, h, kernel, max_iter, chunk)
    centers, counts = merge_modes(modes, counts, h)
    d = pairwise_sq_dists(x, centers)
    dist, labels = d.min(1)
    if not cluster_all:
        labels = torch.where(dist <= h * h, labels, torch.full_like(labels, -1))
    return MeanShiftResult(labels, centers, counts, h, n_iter)
