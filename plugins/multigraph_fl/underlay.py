"""Underlay networks (GML files bundled in ``networks/``) and the connectivity graph built from them.

The bundled files are the cross-silo networks of Marfoq et al. / MultigraphFL: ``gaia`` (11 silos), ``amazon_us``
(22), ``geant`` (``geantdistance.gml``, 40), ``exodus`` (79) and ``ebone`` (87). Each edge has a ``distance``
(kilometres for the synthetic Gaia/Amazon networks; the Topology-Zoo/Rocketfuel ones carry the original latency
weights, see ``Read_me_gml.txt`` of the shared data). As in the public code, the connectivity graph is complete:
silos ``i`` and ``j`` are joined by the shortest underlay path, with latency ``per_km * distance + base`` ms and the
number of hops of that path (used by the code's core-bandwidth term).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ConfigError, DataError

NETWORK_DIR = Path(__file__).resolve().parent / "networks"
#: Network name -> (file, number of silos).
NETWORKS: dict[str, tuple[str, int]] = {
    "gaia": ("gaia.gml", 11),
    "amazon_us": ("amazon_us.gml", 22),
    "geant": ("geantdistance.gml", 40),
    "exodus": ("exodus.gml", 79),
    "ebone": ("ebone.gml", 87),
}
ALIASES = {"amazon": "amazon_us", "geantdistance": "geant"}


@dataclass(frozen=True)
class Underlay:
    """An underlay network: ``distance[i, j]`` > 0 for a physical link, 0 otherwise; node labels."""

    name: str
    distance: np.ndarray
    labels: tuple[str, ...]

    @property
    def num_nodes(self) -> int:
        """N."""
        return int(self.distance.shape[0])

    def graph(self) -> Any:
        """The underlay as an ``nx.Graph`` with ``distance`` edge attributes."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.num_nodes))
        ii, jj = np.nonzero(np.triu(self.distance > 0, 1) | np.triu(self.distance.T > 0, 1))
        for i, j in zip(ii.tolist(), jj.tolist()):
            d = self.distance[i, j] if self.distance[i, j] > 0 else self.distance[j, i]
            g.add_edge(i, j, distance=float(d))
        return g


@dataclass(frozen=True)
class Connectivity:
    """Complete connectivity graph: pairwise latency (ms) and hop count of the shortest underlay path."""

    latency_ms: np.ndarray
    hops: np.ndarray
    distance: np.ndarray

    @property
    def num_nodes(self) -> int:
        """N."""
        return int(self.latency_ms.shape[0])


def network_names() -> list[str]:
    """Names of the bundled networks."""
    return sorted(NETWORKS)


def load_underlay(name_or_path: str | Path) -> Underlay:
    """A bundled network by name (``gaia``, ``exodus``, ...), ``toy:N``, or any GML file with ``distance`` edges."""
    key = str(name_or_path)
    if key.startswith("toy:"):
        size = key.partition(":")[2]
        if not size.isdigit() or int(size) < 3:
            raise ConfigError(f"network {key!r}: expected toy:N with an integer N >= 3")
        return toy_underlay(int(size))
    key = ALIASES.get(key, key)
    if key in NETWORKS:
        path, expected = NETWORK_DIR / NETWORKS[key][0], NETWORKS[key][1]
    else:
        path, expected = Path(key), None
        if path.suffix != ".gml":
            raise ConfigError(f"unknown network {key!r}; expected one of {network_names()}, toy:N, or a .gml file")
    underlay = _read_gml(path)
    if expected is not None and underlay.num_nodes != expected:
        raise DataError(f"{path}: {underlay.num_nodes} nodes, expected {expected}")
    return underlay


def _read_gml(path: Path) -> Underlay:
    """Parse a GML underlay; every problem is a :class:`DataError` naming the file."""
    import networkx as nx

    if not path.is_file():
        raise DataError(f"network file {path} does not exist")
    try:
        graph = nx.read_gml(path, label="id")
    except Exception as exc:  # networkx raises NetworkXError / ValueError on malformed GML
        raise DataError(f"{path}: not a readable GML graph ({exc})") from exc
    nodes = sorted(graph.nodes())
    if len(nodes) < 2:
        raise DataError(f"{path}: a network needs at least 2 nodes, found {len(nodes)}")
    index = {node: k for k, node in enumerate(nodes)}
    n = len(nodes)
    distance = np.zeros((n, n))
    for u, v, data in graph.edges(data=True):
        if u == v:
            continue
        if "distance" not in data:
            raise DataError(f"{path}: edge {u}-{v} has no 'distance' attribute")
        d = float(data["distance"])
        if not np.isfinite(d) or d < 0:
            raise DataError(f"{path}: edge {u}-{v} has distance {d}; expected a finite number >= 0")
        i, j = index[u], index[v]
        d = max(d, 1e-9)  # a zero-length link is still a link
        distance[i, j] = distance[j, i] = d if distance[i, j] == 0 else min(distance[i, j], d)
    labels = tuple(str(graph.nodes[node].get("label", node)) for node in nodes)
    underlay = Underlay(path.stem, distance, labels)
    if not nx.is_connected(underlay.graph()):
        raise DataError(f"{path}: the network is not connected")
    return underlay


def underlay_from_matrix(distance: Any, name: str = "input") -> Underlay:
    """An underlay from a ``[N, N]`` matrix of link distances (0 = no link); raises ConfigError if disconnected."""
    import networkx as nx

    d = np.asarray(distance, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] < 2:
        raise ConfigError(f"a distance matrix must be square [N, N] with N >= 2, got shape {d.shape}")
    if (d < 0).any():
        raise ConfigError("link distances must be >= 0 (0 means no link)")
    d = np.maximum(d, d.T)
    np.fill_diagonal(d, 0.0)
    underlay = Underlay(name, d, tuple(str(i) for i in range(d.shape[0])))
    if not nx.is_connected(underlay.graph()):
        raise ConfigError("the network given by the distance matrix is not connected (0 entries mean no link)")
    return underlay


def toy_underlay(n: int, seed: int = 0, size_km: float = 4000.0) -> Underlay:
    """A deterministic random geometric network of ``n`` silos in a ``size_km`` square (nearest-neighbour links)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, size_km, size=(n, 2))
    full = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    d = np.zeros((n, n))
    order = np.argsort(full + np.eye(n) * 1e18, axis=1)
    for i in range(n):  # each silo links to its 2 nearest neighbours, then the graph is made connected
        for j in order[i, :2]:
            d[i, j] = d[j, i] = full[i, j]
    import networkx as nx

    g = nx.from_numpy_array((d > 0).astype(int))
    parts = [sorted(c) for c in nx.connected_components(g)]
    while len(parts) > 1:
        a, b = parts[0], parts[1]
        sub = full[np.ix_(a, b)]
        i, j = np.unravel_index(int(np.argmin(sub)), sub.shape)
        d[a[i], b[j]] = d[b[j], a[i]] = full[a[i], b[j]]
        parts = [a + b] + parts[2:]
    return Underlay(f"toy:{n}", d, tuple(f"silo{i}" for i in range(n)))


def connectivity(underlay: Underlay, per_km_ms: float = 0.0085, base_ms: float = 4.0) -> Connectivity:
    """All-pairs shortest paths on ``distance``: latency ``per_km * D + base`` (ms) and hop counts."""
    import networkx as nx

    n = underlay.num_nodes
    dist = np.zeros((n, n))
    hops = np.zeros((n, n), dtype=np.int64)
    for src, (lengths, paths) in nx.all_pairs_dijkstra(underlay.graph(), weight="distance"):
        for dst, length in lengths.items():
            dist[src, dst] = float(length)
            hops[src, dst] = len(paths[dst]) - 1
    dist = np.minimum(dist, dist.T)
    latency = per_km_ms * dist + base_ms
    np.fill_diagonal(latency, 0.0)
    return Connectivity(latency, np.maximum(hops, hops.T), dist)


def example_inputs() -> dict[str, Any]:
    """The distance matrix of a 6-silo synthetic network."""
    import torch

    return {"distance": torch.as_tensor(toy_underlay(6).distance, dtype=torch.float32)}


def prepare_inputs(config: Any, options: Any) -> dict[str, Any]:
    """``--network NAME|toy:N|file.gml`` -> the underlay's distance matrix (default: the variant's network)."""
    import torch

    underlay = load_underlay(str(options.get("network") or config.network))
    return {"distance": torch.as_tensor(underlay.distance, dtype=torch.float32)}
