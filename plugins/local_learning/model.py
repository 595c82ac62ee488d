"""Build the local-learning networks: a CIFAR-style ResNet split into gradient-isolated modules per method."""
from __future__ import annotations

from torch import nn

from zoo.engines.local_learning import LocalNet, split_boundaries
from zoo.errors import ConfigError
from zoo_plugins.local_learning.aux import (
    AugLocalAux,
    ConvClassifierAux,
    InfoProAux,
    MANAux,
    auglocal_depth,
    auglocal_sample,
    depth_weight,
)
from zoo_plugins.local_learning.config import LocalLearningConfig
from zoo_plugins.local_learning.resnet import classifier_head, init_weights, resnet_layers

METHODS = ("auglocal", "man", "dgl")


def _out_channels(layers: list[nn.Module]) -> list[int]:
    return [int(getattr(layer, "out_channels")) for layer in layers]


def layer_stage(layer: int, blocks_per_stage: int) -> int:
    """Network stage (1, 2, 3) of layer ``layer`` in the flat list (0 is the stem, stage 0)."""
    return 0 if layer == 0 else (layer - 1) // blocks_per_stage + 1


def auglocal_boundaries(num_layers: int, num_modules: int, depth: int) -> tuple[int, ...]:
    """AugLocal's split: K is reduced by d so the last d layers train with the final classifier.

    Layer-wise (K = L): layers 0 .. L-d-2 are single-layer modules and the last module holds the last d+1 layers.
    Otherwise the L layers are spread evenly over K - d modules.
    """
    modules = max(1, num_modules - depth)
    if num_modules >= num_layers:
        return tuple(range(1, num_layers - depth)) + (num_layers,)
    return split_boundaries(num_layers, modules)


def build_local_net(method: str, config: LocalLearningConfig) -> LocalNet:
    """The ResNet of ``config`` split into local modules with ``method``'s auxiliary networks."""
    if method not in METHODS:
        raise ConfigError(f"unknown local-learning method {method!r}; expected one of {METHODS}")
    layers = resnet_layers(config.in_channels, config.widths, config.blocks_per_stage)
    init_weights(nn.ModuleList(layers))
    head = classifier_head(config.widths[-1], config.num_classes)
    num_layers = len(layers)
    channels = _out_channels(layers)
    if method == "auglocal" and config.num_modules > 1:
        bounds = auglocal_boundaries(num_layers, config.num_modules, config.aux_depth)
    else:
        bounds = split_boundaries(num_layers, config.num_modules)
    num_aux = len(bounds) - 1
    by = config.loss_weights_by or ("stage" if method == "man" else "module")
    aux: list[nn.Module] = []
    for k in range(num_aux):
        last = bounds[k] - 1  # index of the module's last layer
        stage = layer_stage(bounds[k], config.blocks_per_stage)  # stage of the layer after the boundary

        def weights(k: int = k, stage: int = stage) -> tuple[float, float]:
            return (depth_weight(config.ixx_1, config.ixx_2, k, len(bounds), stage, by),
                    depth_weight(config.ixy_1, config.ixy_2, k, len(bounds), stage, by))

        if method == "auglocal":
            depth = auglocal_depth(config.aux_depth, k, num_aux, config.pyramid_coeff)
            picked = auglocal_sample(last, num_layers, depth)
            aux.append(AugLocalAux(channels[last], [channels[i] for i in picked], config.num_classes))
        elif method == "man":
            aux.append(MANAux(layers[bounds[k]], config.in_channels, config.num_classes, *weights(),
                              config.ema_momentum, config.aux_feature_dim, config.recon_loss, config.ema_update))
        elif config.aux == "infopro":
            aux.append(InfoProAux(channels[last], config.in_channels, config.num_classes, *weights(),
                                  config.aux_feature_dim, config.recon_loss))
        elif config.aux == "dgl":
            aux.append(ConvClassifierAux(channels[last], config.num_classes, config.aux_feature_dim))
        else:
            raise ConfigError(f"unknown auxiliary network {config.aux!r}; expected 'dgl' or 'infopro'")
    init_weights(nn.ModuleList(aux))
    return LocalNet(layers, head, bounds, aux)


def update_momentum_copies(net: LocalNet) -> None:
    """MAN with ``ema_update="after_step"``: move every EMA copy towards its live layer after the optimizer step."""
    for aux in net.aux:
        if isinstance(aux, MANAux) and aux.ema_update == "after_step":
            aux.update_ema()
