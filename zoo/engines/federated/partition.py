"""Partitioners: split a dataset's indices over clients.

IID, Dirichlet label skew, label shards, given splits, long tail (+ Dirichlet), power-law sizes, s%-similarity,
label scarcity, feature shift (per-client input transforms) and graph subgraphs.

Each returns a list with one sorted ``int64`` numpy index array per client. All are deterministic in ``seed``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zoo.errors import FederatedError
from zoo.engines.federated.seeding import numpy_rng


def _labels_array(labels: Sequence[int] | np.ndarray) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.size == 0:
        raise FederatedError(f"labels must be a non-empty 1-D sequence, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise FederatedError(f"labels must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _check_clients(num_clients: int, n: int) -> None:
    if num_clients < 1:
        raise FederatedError(f"num_clients must be >= 1, got {num_clients}")
    if num_clients > n:
        raise FederatedError(f"cannot split {n} samples over {num_clients} clients (need at least one each)")


def iid(num_samples: int, num_clients: int, seed: int = 0) -> list[np.ndarray]:
    """Shuffle the indices and deal them into ``num_clients`` near-equal parts."""
    _check_clients(num_clients, num_samples)
    perm = numpy_rng(seed, "iid").permutation(num_samples)
    return [np.sort(part).astype(np.int64) for part in np.array_split(perm, num_clients)]


def dirichlet(
    labels: Sequence[int] | np.ndarray, num_clients: int, alpha: float, seed: int = 0, min_size: int = 1,
    max_tries: int = 1000,
) -> list[np.ndarray]:
    """Label-skewed split: for every class, client shares are drawn from ``Dir(alpha)``.

    Smaller ``alpha`` gives more skew (0.1 to 0.6 in the FL literature). The draw is repeated (deterministically)
    until every client holds at least ``min_size`` samples.
    """
    y = _labels_array(labels)
    _check_clients(num_clients, y.size)
    if alpha <= 0:
        raise FederatedError(f"dirichlet alpha must be > 0, got {alpha}")
    if min_size * num_clients > y.size:
        raise FederatedError(f"min_size={min_size} x {num_clients} clients exceeds {y.size} samples")
    rng = numpy_rng(seed, "dirichlet", alpha)
    classes = np.unique(y)
    for _ in range(max_tries):
        parts: list[list[np.ndarray]] = [[] for _ in range(num_clients)]
        for c in classes:
            idx = rng.permutation(np.flatnonzero(y == c))
            shares = rng.dirichlet(np.full(num_clients, alpha))
            cuts = (np.cumsum(shares)[:-1] * idx.size).astype(int)
            for k, chunk in enumerate(np.split(idx, cuts)):
                parts[k].append(chunk)
        out = [np.sort(np.concatenate(p)).astype(np.int64) for p in parts]
        if min(p.size for p in out) >= min_size:
            return out
    raise FederatedError(
        f"no Dirichlet({alpha}) split gave every one of {num_clients} clients >= {min_size} samples "
        f"after {max_tries} draws; raise alpha or lower min_size"
    )


def label_shards(
    labels: Sequence[int] | np.ndarray, num_clients: int, shards_per_client: int = 2, seed: int = 0
) -> list[np.ndarray]:
    """Pathological split (McMahan et al.): sort by label, cut into shards, give each client a few shards."""
    y = _labels_array(labels)
    num_shards = num_clients * shards_per_client
    _check_clients(num_shards, y.size)
    rng = numpy_rng(seed, "shards")
    order = np.argsort(y, kind="stable")
    shards = np.array_split(order, num_shards)
    assignment = rng.permutation(num_shards)
    return [
        np.sort(np.concatenate([shards[s] for s in assignment[k * shards_per_client : (k + 1) * shards_per_client]]))
        .astype(np.int64)
        for k in range(num_clients)
    ]


def given(splits: Sequence[Sequence[int]], num_samples: int | None = None, disjoint: bool = True) -> list[np.ndarray]:
    """Per-silo splits supplied by the caller (a real cross-silo dataset), validated.

    Raises:
        FederatedError: an empty silo, an index out of range, or (with ``disjoint``) an index in two silos.
    """
    out = [np.sort(np.asarray(s, dtype=np.int64)) for s in splits]
    if not out:
        raise FederatedError("given(): no silos")
    seen: set[int] = set()
    for k, part in enumerate(out):
        if part.size == 0:
            raise FederatedError(f"given(): silo {k} is empty")
        if part.min() < 0 or (num_samples is not None and part.max() >= num_samples):
            raise FederatedError(f"given(): silo {k} has an index outside [0, {num_samples})")
        if disjoint:
            overlap = seen.intersection(part.tolist())
            if overlap:
                raise FederatedError(f"given(): silo {k} repeats indices of another silo, e.g. {sorted(overlap)[:3]}")
            seen.update(part.tolist())
    return out


def label_histogram(labels: Sequence[int] | np.ndarray, parts: Sequence[np.ndarray], num_classes: int) -> np.ndarray:
    """``[clients, classes]`` counts: how skewed a partition is."""
    y = _labels_array(labels)
    return np.stack([np.bincount(y[p], minlength=num_classes) for p in parts])


def long_tail(labels: Sequence[int] | np.ndarray, imbalance_factor: float, seed: int = 0) -> np.ndarray:
    """Indices of a long-tailed subset: class ``c`` (by frequency rank) keeps ``n_max * IF^(c / (C - 1))`` samples.

    ``imbalance_factor`` (IF, 0.01 in FedLoGe) is the ratio of the rarest to the most frequent class. Combine with
    :func:`long_tail_dirichlet` to split the subset over clients.
    """
    y = _labels_array(labels)
    if not 0.0 < imbalance_factor <= 1.0:
        raise FederatedError(f"imbalance_factor must be in (0, 1], got {imbalance_factor}")
    classes, counts = np.unique(y, return_counts=True)
    n_max = int(counts.max())
    rng = numpy_rng(seed, "long_tail", imbalance_factor)
    keep = []
    c = len(classes)
    for rank, cls in enumerate(classes):
        share = imbalance_factor ** (rank / max(c - 1, 1))
        n = max(1, min(int(counts[rank]), int(n_max * share)))
        keep.append(rng.permutation(np.flatnonzero(y == cls))[:n])
    return np.sort(np.concatenate(keep)).astype(np.int64)


def long_tail_dirichlet(labels: Sequence[int] | np.ndarray, num_clients: int, alpha: float,
                        imbalance_factor: float, seed: int = 0, min_size: int = 1) -> list[np.ndarray]:
    """FedLoGe's split: a long-tailed global distribution (:func:`long_tail`) spread over clients by Dirichlet."""
    y = _labels_array(labels)
    subset = long_tail(y, imbalance_factor, seed)
    parts = dirichlet(y[subset], num_clients, alpha, seed, min_size)
    return [np.sort(subset[p]).astype(np.int64) for p in parts]


def power_law_sizes(num_samples: int, num_clients: int, exponent: float = 1.5, seed: int = 0,
                    min_size: int = 1) -> list[np.ndarray]:
    """IID content, power-law sizes: client ``k``'s share is proportional to ``(rank_k + 1)^-exponent``.

    Ranks are a seeded permutation of the clients (so client 0 is not always the largest).
    """
    _check_clients(num_clients, num_samples)
    if min_size * num_clients > num_samples:
        raise FederatedError(f"min_size={min_size} x {num_clients} clients exceeds {num_samples} samples")
    rng = numpy_rng(seed, "power_law", exponent)
    ranks = rng.permutation(num_clients)
    weights = (ranks + 1.0) ** (-float(exponent))
    spare = num_samples - min_size * num_clients
    sizes = min_size + np.floor(weights / weights.sum() * spare).astype(np.int64)
    sizes[np.argmax(weights)] += num_samples - int(sizes.sum())
    perm = rng.permutation(num_samples)
    cuts = np.cumsum(sizes)[:-1]
    return [np.sort(p).astype(np.int64) for p in np.split(perm, cuts)]


def similarity(labels: Sequence[int] | np.ndarray, num_clients: int, s: float, seed: int = 0) -> list[np.ndarray]:
    """SCAFFOLD's ``s%``-similarity: ``s`` of each client's data is IID, the rest comes from the label-sorted data.

    ``s = 1`` is IID, ``s = 0`` gives each client a contiguous run of the sorted labels.
    """
    y = _labels_array(labels)
    _check_clients(num_clients, y.size)
    if not 0.0 <= s <= 1.0:
        raise FederatedError(f"similarity s must be in [0, 1], got {s}")
    rng = numpy_rng(seed, "similarity", s)
    perm = rng.permutation(y.size)
    n_iid = int(round(s * y.size))
    iid_part, rest = perm[:n_iid], perm[n_iid:]
    rest = rest[np.argsort(y[rest], kind="stable")]
    iid_chunks = np.array_split(iid_part, num_clients)
    sorted_chunks = np.array_split(rest, num_clients)
    return [np.sort(np.concatenate([a, b])).astype(np.int64) for a, b in zip(iid_chunks, sorted_chunks)]


def label_scarce(parts: Sequence[np.ndarray], labelled_fraction: float, seed: int = 0,
                 min_labelled: int = 1) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Limited labels (FedLabel, KAFAL): split each client's samples into ``(labelled, unlabelled)`` index sets."""
    if not 0.0 < labelled_fraction <= 1.0:
        raise FederatedError(f"labelled_fraction must be in (0, 1], got {labelled_fraction}")
    labelled, unlabelled = [], []
    for k, p in enumerate(parts):
        p = np.asarray(p, dtype=np.int64)
        rng = numpy_rng(seed, "label_scarce", k)
        perm = rng.permutation(p)
        n = min(p.size, max(min_labelled, int(round(labelled_fraction * p.size))))
        labelled.append(np.sort(perm[:n]).astype(np.int64))
        unlabelled.append(np.sort(perm[n:]).astype(np.int64))
    return labelled, unlabelled


def feature_shift(num_clients: int, seed: int = 0, scale: tuple[float, float] = (0.6, 1.4),
                  shift: tuple[float, float] = (-0.3, 0.3), noise: float = 0.0):  # -> list[Callable]
    """Per-client affine input transforms ``x -> a_k x + b_k (+ noise)`` (FRAug's feature shift, "styles").

    Pass them to ``FederatedData.partitioned(ds, parts, transforms=...)``; the same client always sees the same
    style. ``noise`` adds seeded per-client Gaussian noise of that standard deviation.
    """
    import torch

    rng = numpy_rng(seed, "feature_shift")
    a = rng.uniform(scale[0], scale[1], num_clients)
    b = rng.uniform(shift[0], shift[1], num_clients)

    def make(k: int):  # noqa: ANN202 - a closure per client
        def style(x: torch.Tensor) -> torch.Tensor:
            out = x * float(a[k]) + float(b[k])
            if noise > 0:
                g = torch.Generator().manual_seed(int(seed) * 1_000_003 + k)
                out = out + noise * torch.randn(x.shape, generator=g, dtype=x.dtype).to(x.device)
            return out

        style.scale, style.shift = float(a[k]), float(b[k])  # type: ignore[attr-defined]
        return style

    return [make(k) for k in range(num_clients)]


def graph_subgraphs(graph, num_clients: int, method: str = "communities", seed: int = 0) -> list[np.ndarray]:
    """Node sets of ``num_clients`` subgraphs of a networkx graph (FED-PUB's graph FL split).

    ``"communities"``: greedy modularity communities merged or split to ``num_clients`` parts (the METIS-like
    split of the literature, with networkx); ``"random"``: a seeded random assignment. Node ids must be
    ``0..n-1``.
    """
    import networkx as nx

    n = graph.number_of_nodes()
    _check_clients(num_clients, n)
    if sorted(graph.nodes()) != list(range(n)):
        raise FederatedError("graph_subgraphs needs nodes labelled 0..n-1 (nx.convert_node_labels_to_integers)")
    rng = numpy_rng(seed, "subgraphs", method)
    if method == "random":
        return [np.sort(p).astype(np.int64) for p in np.array_split(rng.permutation(n), num_clients)]
    if method != "communities":
        raise FederatedError(f"graph_subgraphs method must be 'communities' or 'random', got {method!r}")
    comms = [sorted(c) for c in nx.algorithms.community.greedy_modularity_communities(graph)]
    comms.sort(key=len, reverse=True)
    while len(comms) < num_clients:  # split the largest community in two (BFS order keeps halves connected-ish)
        big = comms.pop(0)
        sub = graph.subgraph(big)
        order = list(nx.bfs_tree(sub, big[0]).nodes()) + [v for v in big if v not in nx.bfs_tree(sub, big[0])]
        half = len(order) // 2
        comms += [sorted(order[:half]), sorted(order[half:])]
        comms.sort(key=len, reverse=True)
    while len(comms) > num_clients:  # merge the two smallest
        a, b = comms.pop(), comms.pop()
        comms.append(sorted(a + b))
        comms.sort(key=len, reverse=True)
    return [np.asarray(c, dtype=np.int64) for c in comms]
