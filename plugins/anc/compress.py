"""Automatic neuron clustering (ANC, Sect. 3.2): represent each neuron of a layer by its incoming weights and bias
(Eq. 1), cluster the layer's neurons with mean-shift (the bandwidth decides how many clusters, Eq. 3-4), replace
each cluster by one neuron (its centre) and merge the next layer's connections by summation (Eq. 5-8):

    a^{l+1}_i = f(sum_p (sum_{j: r_j = p} w^{l+1}_{i,j}) a_hat^l_p + b^{l+1}_i)

exact when the merged neurons are identical. Layers are processed in order, so layer l+1 is clustered with the
incoming weights already merged. Convolutions: a neuron is a filter (``C_in * k * k`` weights + bias), batch norm
folded in first; the next layer's input channels (or the first linear layer's channel blocks) are summed.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
from torch import nn

from zoo.clustering import estimate_bandwidth, kmeans, mean_shift
from zoo.errors import ConfigError
from zoo_plugins.anc.config import ANCConfig
from zoo_plugins.anc.model import ANCNet


@dataclass
class LayerReport:
    """One layer's clustering: neurons before/after and the bandwidth used."""

    name: str
    before: int
    after: int
    bandwidth: float


@dataclass
class CompressionReport:
    """Per-layer results, parameter counts before/after, and the compressed config."""

    layers: list[LayerReport] = field(default_factory=list)
    params_before: int = 0
    params_after: int = 0
    config: ANCConfig | None = None

    @property
    def ratio(self) -> float:
        """Fraction of parameters removed (the paper's "compression ratio")."""
        return 1.0 - self.params_after / self.params_before if self.params_before else 0.0


def neuron_vectors(layer: nn.Module) -> torch.Tensor:
    """Eq. 1: ``neu_i = <w_i,1 ... w_i,n, b_i>`` for every output neuron (a conv filter flattened)."""
    w = layer.weight.detach().flatten(1)
    b = layer.bias.detach()[:, None] if layer.bias is not None else torch.zeros(w.shape[0], 1, dtype=w.dtype)
    return torch.cat([w, b], 1)


def fold_batch_norm(conv: nn.Conv2d, bn: nn.Module) -> nn.Conv2d:
    """A convolution equal to ``bn(conv(x))`` in eval mode (identity ``bn`` returns ``conv`` unchanged)."""
    if not isinstance(bn, nn.BatchNorm2d):
        return conv
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding)
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
    with torch.no_grad():
        fused.weight.copy_(conv.weight.detach() * scale[:, None, None, None])
        fused.bias.copy_(bn.bias.detach() + (bias - bn.running_mean) * scale)
    return fused


def cluster_neurons(vectors: torch.Tensor, config: ANCConfig, num_clusters: int | None = None
                    ) -> tuple[torch.Tensor, torch.Tensor, float]:
    """``(labels (n,), centres (c, d), bandwidth)`` of a layer's neuron vectors: mean-shift (the paper), or
    k-means with ``num_clusters`` (the MSN baseline)."""
    x = vectors.double()
    if config.clusterer == "kmeans":
        if num_clusters is None:
            raise ConfigError("the k-means baseline needs a number of clusters per layer")
        r = kmeans(x, num_clusters, n_init=3, seed=0)
        return r.labels, r.centers, float("nan")
    bandwidth = config.bandwidth
    if bandwidth is None:  # scikit-learn's estimate, counting at least one neighbour besides the neuron itself
        bandwidth = estimate_bandwidth(x, max(config.quantile, 2.0 / x.shape[0]))
    r = mean_shift(x, bandwidth, kernel=config.kernel)
    return r.labels, r.centers, r.bandwidth


def merged_weights(vectors: torch.Tensor, labels: torch.Tensor, centres: torch.Tensor, merge: str) -> torch.Tensor:
    """One vector per cluster: the mean-shift ``mode`` (p_i of Eq. 3) or the ``mean`` of its members."""
    if merge == "mode":
        return centres
    k = centres.shape[0]
    sums = torch.zeros(k, vectors.shape[1], dtype=vectors.dtype).index_add_(0, labels, vectors)
    return sums / torch.bincount(labels, minlength=k).clamp_min(1)[:, None].to(vectors.dtype)


def sum_inputs(weight: torch.Tensor, labels: torch.Tensor, k: int, block: int = 1) -> torch.Tensor:
    """Eq. 8: ``w_hat_{i,p} = sum_{j: r_j = p} w_{i,j}`` over the input axis (dim 1). ``block``: input features
    per neuron (spatial positions of a channel feeding a linear layer)."""
    out = weight.shape[0]
    rest = weight.shape[2:]
    w = weight.reshape(out, -1, block, *rest) if block > 1 else weight.unsqueeze(2)
    summed = torch.zeros(out, k, *w.shape[2:], dtype=weight.dtype).index_add_(1, labels, w)
    return summed.reshape(out, k * block, *rest) if block > 1 else summed.squeeze(2)


def _rebuild(layer: nn.Module, weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Module:
    if isinstance(layer, nn.Conv2d):
        new: nn.Module = nn.Conv2d(weight.shape[1], weight.shape[0], layer.kernel_size, layer.stride, layer.padding)
    else:
        new = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        new.weight.copy_(weight.to(new.weight.dtype))
        if bias is not None:
            new.bias.copy_(bias.to(new.bias.dtype))
    return new


def _set(model: ANCNet, index: int, layer: nn.Module) -> None:
    n_conv = len(model.convs)
    if index < n_conv:
        model.convs[index] = layer
    else:
        model.linears[index - n_conv] = layer


@torch.no_grad()
def compress(model: ANCNet, config: ANCConfig | None = None, clusters: list[int] | None = None
             ) -> CompressionReport:
    """Cluster and merge every prunable layer of ``model`` in place (the output layer keeps its neurons) and
    return the report with the compressed config (new widths, batch norm folded). ``clusters`` fixes the
    number of clusters per layer (the k-means baseline)."""
    cfg = config or model.config
    model.eval()
    report = CompressionReport(params_before=sum(p.numel() for p in model.parameters()))
    for i, (conv, bn) in enumerate(zip(model.convs, model.bns)):  # fold batch norm first
        model.convs[i] = fold_batch_norm(conv, bn)
        model.bns[i] = nn.Identity()
    n_conv = len(model.convs)
    for i in range(len(model.chain()) - 1):
        layer, nxt = model.chain()[i], model.chain()[i + 1]
        vectors = neuron_vectors(layer).double()
        labels, centres, bw = cluster_neurons(vectors, cfg, None if clusters is None else clusters[i])
        k = centres.shape[0]
        merged = merged_weights(vectors, labels, centres, cfg.merge)
        weight = merged[:, :-1].reshape(k, *layer.weight.shape[1:])
        _set(model, i, _rebuild(layer, weight, merged[:, -1]))
        block = 1
        if i == n_conv - 1 and isinstance(nxt, nn.Linear):  # last conv feeds the flattened classifier
            block = nxt.weight.shape[1] // layer.weight.shape[0]
        new_next = sum_inputs(nxt.weight.detach().double(), labels, k, block)
        _set(model, i + 1, _rebuild(nxt, new_next, nxt.bias.detach() if nxt.bias is not None else None))
        report.layers.append(LayerReport(f"layer{i + 1}", int(vectors.shape[0]), k, bw))
    widths = [r.after for r in report.layers]
    channels = list(cfg.channels)
    conv_slots = [j for j, c in enumerate(channels) if c != 0]
    for slot, width in zip(conv_slots, widths[:n_conv]):
        channels[slot] = width
    report.config = replace(cfg, hidden=tuple(widths[n_conv:]), channels=tuple(channels), batch_norm=False)
    model.config = report.config
    report.params_after = sum(p.numel() for p in model.parameters())
    return report
