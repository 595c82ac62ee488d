"""Pictures: the underlay, an overlay and the multigraph (parallel edges, strong solid, weak dashed) on the network.

Node positions are a deterministic Kamada-Kawai layout of the underlay weighted by distance (the GML files carry
no coordinates). Written as PNG through ``zoo.viz``'s atomic saver.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo.viz.mpl import pyplot, save_png

from .multigraph import Multigraph
from .underlay import Underlay


def positions(underlay: Underlay) -> dict[int, np.ndarray]:
    """Deterministic 2-D positions of the silos."""
    import networkx as nx

    g = underlay.graph()
    start = nx.circular_layout(g)
    return {k: np.asarray(v) for k, v in nx.kamada_kawai_layout(g, weight="distance", pos=start).items()}


def _base(ax: Any, pos: dict[int, np.ndarray], underlay: Underlay, colours: Any = None, labels: bool = True) -> None:
    xy = np.stack([pos[k] for k in range(underlay.num_nodes)])
    ax.scatter(xy[:, 0], xy[:, 1], s=140, c=colours if colours is not None else "#4c72b0", zorder=3,
               edgecolors="black", linewidths=0.6)
    if labels and underlay.num_nodes <= 30:
        for k in range(underlay.num_nodes):
            ax.annotate(underlay.labels[k][:12], xy[k], fontsize=6, ha="center", va="bottom",
                        xytext=(0, 6), textcoords="offset points")
    ax.set_axis_off()


def draw_underlay(underlay: Underlay, path: str | Path, pos: dict[int, np.ndarray] | None = None) -> Path:
    """The physical links of the network."""
    plt = pyplot()
    pos = pos or positions(underlay)
    fig, ax = plt.subplots(figsize=(7, 6))
    for i, j in zip(*np.nonzero(np.triu(underlay.distance > 0, 1))):
        ax.plot(*np.stack([pos[int(i)], pos[int(j)]]).T, color="0.6", lw=0.8, zorder=1)
    _base(ax, pos, underlay)
    ax.set_title(f"underlay {underlay.name}: {underlay.num_nodes} silos, {int((underlay.distance > 0).sum() // 2)} links")
    return save_png(fig, path)


def draw_overlay(underlay: Underlay, adj: np.ndarray, path: str | Path, title: str = "overlay",
                 pos: dict[int, np.ndarray] | None = None) -> Path:
    """An overlay's links (arrows ``j -> i``) on top of the faded underlay."""
    plt = pyplot()
    pos = pos or positions(underlay)
    fig, ax = plt.subplots(figsize=(7, 6))
    for i, j in zip(*np.nonzero(np.triu(underlay.distance > 0, 1))):
        ax.plot(*np.stack([pos[int(i)], pos[int(j)]]).T, color="0.88", lw=0.6, zorder=0)
    for i, j in zip(*np.nonzero(adj)):
        ax.annotate("", xy=pos[int(i)], xytext=pos[int(j)],
                    arrowprops=dict(arrowstyle="-|>", color="#dd8452", lw=1.4, shrinkA=7, shrinkB=7))
    _base(ax, pos, underlay)
    ax.set_title(title)
    return save_png(fig, path)


def draw_multigraph(underlay: Underlay, mg: Multigraph, path: str | Path, states: int = 3,
                    pos: dict[int, np.ndarray] | None = None) -> Path:
    """The multigraph (each link drawn ``n_edges`` times, labelled with its count) and its first ``states`` states.

    Left panel: one solid arc (the strong edge) and ``n_edges - 1`` dashed arcs (weak edges) per link.
    Other panels: graph states, strong links solid, weak links dashed, isolated nodes in red.
    """
    plt = pyplot()
    pos = pos or positions(underlay)
    shown = min(states, mg.num_states)
    fig, axes = plt.subplots(1, 1 + shown, figsize=(6.5 * (1 + shown), 6))
    axes = np.atleast_1d(axes)
    ax = axes[0]
    for i, j in zip(*np.nonzero(mg.overlay)):
        count = int(mg.n_edges[i, j])
        for e in range(count):
            rad = 0.08 + 0.12 * e
            ax.annotate("", xy=pos[int(i)], xytext=pos[int(j)],
                        arrowprops=dict(arrowstyle="-", color="#c44e52" if e == 0 else "#8172b3",
                                        lw=1.6 if e == 0 else 1.0, linestyle="solid" if e == 0 else (0, (3, 2)),
                                        connectionstyle=f"arc3,rad={rad}", shrinkA=6, shrinkB=6))
        mid = (pos[int(i)] + pos[int(j)]) / 2
        ax.text(mid[0], mid[1], f"{count}", fontsize=8, color="black", ha="center", va="center", zorder=4,
                bbox=dict(boxstyle="circle,pad=0.15", fc="white", ec="0.5", lw=0.5))
    _base(ax, pos, underlay)
    ax.set_title(f"multigraph: {mg.edge_count()} edges on {int(mg.overlay.sum())} links, {mg.num_states} states")
    for s, ax in enumerate(axes[1:]):
        strong = mg.state(s)
        for i, j in zip(*np.nonzero(mg.overlay)):
            ax.annotate("", xy=pos[int(i)], xytext=pos[int(j)],
                        arrowprops=dict(arrowstyle="-|>", color="#c44e52" if strong[i, j] else "0.6",
                                        lw=1.6 if strong[i, j] else 0.9,
                                        linestyle="solid" if strong[i, j] else (0, (3, 2)), shrinkA=7, shrinkB=7))
        iso = mg.isolated(s)
        _base(ax, pos, underlay, colours=np.where(iso, "#d62728", "#4c72b0"), labels=False)
        ax.set_title(f"state {s}: {int(strong.sum())} strong links, {int(iso.sum())} isolated")
    return save_png(fig, path)
