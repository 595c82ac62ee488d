"""zoo.clustering against scikit-learn's KMeans / MeanShift / metrics and against the definitions."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans, MeanShift, estimate_bandwidth
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

import zoo.clustering as C
from zoo.errors import InputError


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    x, y = make_blobs(240, centers=4, n_features=3, cluster_std=0.8, random_state=0)
    return x, y


# ---------------------------------------------------------------- k-means
def test_kmeans_matches_sklearn(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = blobs
    ours = C.kmeans(torch.tensor(x), 4, seed=0)
    ref = KMeans(4, n_init=10, random_state=0).fit(x)
    assert ours.inertia == pytest.approx(ref.inertia_, rel=1e-9)
    assert adjusted_rand_score(ref.labels_, ours.labels.numpy()) == 1.0
    # inertia is the sum of squared distances to the assigned centre, and labels are the nearest centres
    d = ((torch.tensor(x)[:, None] - ours.centers[None]) ** 2).sum(-1)
    assert torch.equal(ours.labels, d.argmin(1))
    assert ours.inertia == pytest.approx(float(d.min(1).values.sum()))


def test_kmeans_centres_are_cluster_means_and_restarts_help(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    x = torch.tensor(blobs[0])
    r = C.kmeans(x, 6, seed=3)
    for c in range(6):
        assert torch.allclose(r.centers[c], x[r.labels == c].mean(0), atol=1e-6)
    # the first of n_init seeded runs is the single run with that seed; the best of 8 is never worse
    single = C.kmeans(x, 6, n_init=1, init="random", seed=0)
    best = C.kmeans(x, 6, n_init=8, init="random", seed=0)
    assert best.inertia <= single.inertia
    assert any(C.kmeans(x, 6, n_init=1, init="random", seed=s).inertia > best.inertia + 1e-6 for s in range(8))


def test_kmeans_plusplus_spreads_seeds() -> None:
    """Three tight, far-apart groups: D^2 sampling puts one seed in each (plain uniform seeding often does not)."""
    g = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    x = torch.cat([c + 0.01 * torch.randn(50, 2, generator=g) for c in centres])
    group = torch.arange(3).repeat_interleave(50)
    for seed in range(20):
        s = C.kmeans_plusplus(x, 3, generator=torch.Generator().manual_seed(seed), n_local_trials=1)
        picked = {int(group[(x - c).norm(dim=1).argmin()]) for c in s}
        assert picked == {0, 1, 2}
        assert all(bool((x == c).all(1).any()) for c in s)  # seeds are data points


def test_kmeans_is_seeded_and_rejects_bad_k(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    x = torch.tensor(blobs[0])
    assert torch.equal(C.kmeans(x, 4, seed=5).labels, C.kmeans(x, 4, seed=5).labels)
    with pytest.raises(InputError):
        C.kmeans(x, 0)
    with pytest.raises(InputError):
        C.kmeans(x[:3], 4)


# ---------------------------------------------------------------- mean-shift
@pytest.mark.parametrize("scale,bin_seeding", [(1.0, False), (0.5, False), (0.5, True)])
def test_flat_mean_shift_matches_sklearn(scale: float, bin_seeding: bool) -> None:
    x, _ = make_blobs(80, centers=4, n_features=3, cluster_std=0.8, random_state=0)  # sklearn's is slow
    bw = estimate_bandwidth(x, quantile=0.2) * scale
    ref = MeanShift(bandwidth=bw, bin_seeding=bin_seeding).fit(x)
    ours = C.mean_shift(torch.tensor(x), bw, bin_seeding=bin_seeding)
    assert ours.centers.shape == ref.cluster_centers_.shape
    assert np.allclose(ours.centers.numpy(), ref.cluster_centers_, atol=1e-8)  # same modes, same order
    assert np.array_equal(ours.labels.numpy(), ref.labels_)


def test_estimate_bandwidth_matches_sklearn(blobs: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = blobs
    for q in (0.1, 0.3):
        assert C.estimate_bandwidth(torch.tensor(x), q) == pytest.approx(estimate_bandwidth(x, quantile=q))


def test_mean_shift_modes_are_fixed_points() -> None:
    x = torch.tensor(make_blobs(150, centers=3, cluster_std=0.5, random_state=1)[0])
    h = 1.2
    for kernel in ("flat", "gaussian"):
        r = C.mean_shift(x, h, kernel=kernel)
        for m in r.centers:
            d2 = ((x - m) ** 2).sum(1)
            w = (d2 <= h * h).double() if kernel == "flat" else torch.exp(-d2 / (2 * h * h))
            assert torch.allclose((w[:, None] * x).sum(0) / w.sum(), m, atol=5e-3 * h)
        # modes are at least a bandwidth apart and sorted by intensity
        gaps = torch.cdist(r.centers, r.centers) + 1e9 * torch.eye(len(r.centers), dtype=x.dtype)
        assert bool((gaps > h).all()) and bool((r.counts[:-1] >= r.counts[1:]).all())
    assert C.mean_shift(x, h, kernel="gaussian").centers.shape[0] == 3


def test_bandwidth_sets_the_number_of_clusters() -> None:
    x = torch.tensor(make_blobs(200, centers=5, cluster_std=0.6, random_state=2)[0])
    sizes = [C.mean_shift(x, h).centers.shape[0] for h in (0.3, 1.0, 3.0, 30.0)]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1 and sizes[0] > 5


def test_mean_shift_cluster_all_false_leaves_outliers_unlabelled() -> None:
    x = torch.tensor([[0.0], [0.1], [0.2], [10.0]], dtype=torch.float64)
    r = C.mean_shift(x, 0.5, seeds=x[:1], cluster_all=False)
    assert r.labels.tolist() == [0, 0, 0, -1]
    with pytest.raises(InputError):
        C.mean_shift(x, 0.5, kernel="epanechnikov")  # type: ignore[arg-type]


# ---------------------------------------------------------------- metrics
def test_accuracy_hand_cases() -> None:
    assert C.clustering_accuracy([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9]) == 1.0  # any relabelling
    # classes 0,0,0,1,1,1 vs clusters a,a,b,b,b,b: best map a->0, b->1 gets 5 of 6
    assert C.clustering_accuracy([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1]) == pytest.approx(5 / 6)
    # more clusters than classes: the extra cluster counts as wrong
    assert C.clustering_accuracy([0, 0, 1, 1], [0, 1, 2, 2]) == pytest.approx(3 / 4)
    assert C.contingency([0, 0, 1], [1, 0, 0]).tolist() == [[1, 1], [1, 0]]


def test_accuracy_equals_brute_force_over_permutations() -> None:
    import itertools

    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 4, 60), rng.integers(0, 4, 60)
    brute = max(np.mean(y == np.array(perm)[p]) for perm in itertools.permutations(range(4)))
    assert C.clustering_accuracy(y, p) == pytest.approx(brute)


def test_nmi_ari_are_sklearns() -> None:
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 5, 100), rng.integers(0, 3, 100)
    assert C.nmi(y, p) == pytest.approx(normalized_mutual_info_score(y, p))
    assert C.nmi_geometric(y, p) == pytest.approx(normalized_mutual_info_score(y, p, average_method="geometric"))
    assert C.ari(torch.tensor(y), p) == pytest.approx(adjusted_rand_score(y, p))
    assert set(C.clustering_scores(y, p)) == {"acc", "nmi", "ari"}
    with pytest.raises(InputError):
        C.nmi([0, 1], [0])


# ---------------------------------------------------------------- multi-view k-means
def test_multiview_kmeans_uses_the_informative_view() -> None:
    """View 0 carries the clusters, view 1 is noise: RMKMC recovers them and weights view 0 higher; its objective
    never increases."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(40)
    informative = torch.tensor([[0.0, 0], [6, 0], [0, 6]], dtype=torch.float64)[y] + torch.randn(120, 2,
                                                                                                 generator=g)
    noise = 3 * torch.randn(120, 4, generator=g, dtype=torch.float64)
    r = C.multiview_kmeans([informative, noise], 3, gamma=2.0)
    assert C.clustering_accuracy(y, r.labels) > 0.95
    assert r.view_weights[0] > r.view_weights[1] and float(r.view_weights.sum()) == pytest.approx(1.0)
    assert all(b <= a + 1e-9 * abs(a) for a, b in zip(r.history, r.history[1:]))
    with pytest.raises(InputError):
        C.multiview_kmeans([informative, noise[:10]], 3)
