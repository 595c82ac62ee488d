"""The multigraph (Algorithm 1), its graph states (Algorithm 2), isolated nodes and its cycle time.

Algorithm 1: for every overlay link, ``n_edges = min(t, round(d / d_min))`` with ``d`` the link's delay in the
overlay and ``d_min`` the smallest one; the link holds one strong edge and ``n_edges - 1`` weak ones.
Algorithm 2: ``s_max = lcm(n_edges)`` states; in state ``s`` a link is strong exactly when ``s mod n_edges == 0``
(state 0 is the overlay, all strong; each pair connects reliably once per ``n_edges`` states). States, mixing
weights and stale-model ages come from the federated engine's :class:`MultigraphTopology`.

A node is isolated in a state when all its (overlay) links, in and out, are weak.

Cycle time over training (round ``k`` uses state ``k mod s_max``), recursion ``"elapsed"`` (public code): a strong
link after a strong round costs its overlay delay ``d``; a strong link after weak rounds costs
``max(u T_c, d - elapsed)`` where ``elapsed`` is the time accumulated while it was weak; a weak link accumulates
the round's cycle time (``tau_k`` after a strong round, ``tau_k + elapsed`` after a weak one). ``tau_k`` is the
round's cycle time (:func:`~.delay.round_cycle_time`, weak links weighing 0); the multigraph's cycle time is the
mean of ``tau_k`` over the rounds. Recursion ``"blog"`` runs the engine's :class:`DelayRecursion` (the blog's
formula read literally). The state sequence is periodic, so once a period repeats exactly, the remaining rounds
are extrapolated (exact, not an approximation).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce

import numpy as np

from zoo.errors import ConfigError

from .delay import round_cycle_time


@dataclass(frozen=True)
class Multigraph:
    """An overlay with ``n_edges`` edges per link and the overlay delays that produced them (receiver-major)."""

    overlay: np.ndarray
    n_edges: np.ndarray
    delays: np.ndarray

    @property
    def num_nodes(self) -> int:
        """N."""
        return int(self.overlay.shape[0])

    @property
    def num_states(self) -> int:
        """s_max = lcm of the edge counts."""
        return reduce(math.lcm, [int(c) for c in self.n_edges[self.overlay].tolist()] or [1], 1)

    def topology(self, weak: str = "stale", local_coeff: float = 0.7):  # -> MultigraphTopology
        """The federated engine's topology over these graph states (mixing plans per round)."""
        import torch

        from zoo.engines.federated.topology import MultigraphTopology

        return MultigraphTopology(torch.as_tensor(self.overlay), torch.as_tensor(self.n_edges, dtype=torch.long),
                                  weighting="local", local_coeff=local_coeff, weak=weak)  # type: ignore[arg-type]

    def state(self, s: int) -> np.ndarray:
        """Strong links of graph state ``s`` (receiver-major bool)."""
        return self.overlay & (np.remainder(s, self.n_edges) == 0)

    def isolated(self, s: int) -> np.ndarray:
        """``[N]`` bool: nodes all of whose overlay links are weak in state ``s``."""
        strong = self.state(s)
        return ~(strong.any(0) | strong.any(1))

    def isolated_counts(self) -> list[int]:
        """Number of isolated nodes in every state."""
        return [int(self.isolated(s).sum()) for s in range(self.num_states)]

    def edge_count(self) -> int:
        """Edges of the multigraph (strong + weak) over all links."""
        return int(self.n_edges[self.overlay].sum())


def build_multigraph(overlay: np.ndarray, delays: np.ndarray, t_max: int) -> Multigraph:
    """Algorithm 1: edge counts ``min(t, round(d / d_min))`` (round half up) over the overlay's links."""
    if t_max < 1:
        raise ConfigError(f"t_max must be >= 1, got {t_max}")
    a = np.asarray(overlay, dtype=bool).copy()
    np.fill_diagonal(a, False)
    if not a.any():
        raise ConfigError("the overlay has no links")
    d = np.asarray(delays, dtype=np.float64)
    d_min = float(d[a].min())
    if d_min <= 0:
        raise ConfigError(f"overlay delays must be positive, smallest is {d_min}")
    counts = np.floor(d / d_min + 0.5).astype(np.int64)
    n_edges = np.where(a, np.clip(counts, 1, t_max), 1)
    return Multigraph(a, n_edges, np.where(a, d, 0.0))


@dataclass(frozen=True)
class CycleTrace:
    """Cycle time of each simulated round (ms) and the mean over all ``rounds``."""

    taus: list[float]
    mean: float
    rounds: int
    period_from: int | None


class ElapsedRecursion:
    """The public code's delay recursion, one round at a time (see module docstring); times in ms.

    ``step(strong)`` advances to a round whose strong links are ``strong`` (receiver-major) and returns its cycle
    time; the first call is round 0 (every overlay link strong, whatever is passed).
    """

    def __init__(self, mg: Multigraph, self_ms: float, mode: str = "max") -> None:
        self.mg, self.self_ms, self.mode = mg, float(self_ms), mode
        self.recorded = mg.delays.copy()  # the delay each link carried in the previous round
        self.prev_strong = mg.overlay.copy()
        self.k = 0

    def step(self, strong: np.ndarray) -> float:
        """Cycle time (ms) of the next round."""
        links, base = self.mg.overlay, self.mg.delays
        strong = links & np.asarray(strong, dtype=bool) if self.k > 0 else links.copy()
        d = np.where(strong & self.prev_strong, base,
                     np.where(strong, np.maximum(self.self_ms, base - self.recorded), 0.0))
        tau = round_cycle_time(d, links, strong, self.self_ms, self.mode)
        weak = links & ~strong
        d = np.where(weak, np.where(self.prev_strong, tau, tau + self.recorded), d)
        self.recorded = np.where(links, d, 0.0)
        self.prev_strong = strong
        self.k += 1
        return tau


def simulate_cycle_time(mg: Multigraph, self_ms: float, rounds: int, mode: str = "max",
                        recursion: str = "elapsed") -> CycleTrace:
    """Mean cycle time of training ``rounds`` rounds over the multigraph's states (see module docstring)."""
    if rounds < 1:
        raise ConfigError(f"rounds must be >= 1, got {rounds}")
    if recursion == "blog":
        return _simulate_blog(mg, self_ms, rounds, mode)
    if recursion != "elapsed":
        raise ConfigError(f"recursion must be 'elapsed' or 'blog', got {recursion!r}")
    s_max = mg.num_states
    rec = ElapsedRecursion(mg, self_ms, mode)
    taus: list[float] = []
    snapshots: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in range(rounds):
        if k % s_max == 0 and k > 0:
            key = (rec.recorded.copy(), rec.prev_strong.copy())
            last = snapshots.get(k - s_max)
            if last is not None and np.allclose(last[0], key[0], rtol=1e-12, atol=1e-9) and (last[1] == key[1]).all():
                period = taus[k - s_max:k]
                remaining = rounds - k
                full, part = divmod(remaining, s_max)
                total = sum(taus) + full * sum(period) + sum(period[:part])
                return CycleTrace(taus, total / rounds, rounds, k - s_max)
            snapshots[k] = key
        taus.append(rec.step(mg.state(k % s_max)))
    return CycleTrace(taus, float(np.mean(taus)), rounds, None)


def _simulate_blog(mg: Multigraph, self_ms: float, rounds: int, mode: str) -> CycleTrace:
    """The blog's recursion, literally, through the federated engine's :class:`DelayRecursion`."""
    import torch

    from zoo.engines.federated.network import DelayRecursion, NetworkModel

    if mode != "max":
        raise ConfigError("recursion='blog' uses the engine's max-delay cycle time; set cycle_time='max'")
    n = mg.num_nodes
    net = NetworkModel(torch.full((n,), self_ms / 1e3, dtype=torch.float64), torch.zeros(n, n),
                       torch.ones(n), torch.ones(n), model_bits=1.0)
    rec = DelayRecursion(net, torch.as_tensor(mg.overlay))
    base = torch.as_tensor(mg.delays / 1e3)  # seconds, receiver-major; replaces the engine's own base delays
    rec.d, rec.d_prev = base.clone(), base.clone()
    s_max = mg.num_states
    taus = [1e3 * rec.step(torch.as_tensor(mg.state(k % s_max) if k > 0 else mg.overlay)) for k in range(rounds)]
    return CycleTrace(taus, float(np.mean(taus)), rounds, None)
