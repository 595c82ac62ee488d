"""NHL's test-time adaptation: a soft Hebbian update of the first layer and an entropy step of the
neuro-modulator on every unlabelled mini-batch, before predicting it. Online: the adapted state carries over."""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from zoo.engines.local_learning.forward_only import soft_hebbian_delta
from zoo_plugins.nhl.config import NHLConfig
from zoo_plugins.nhl.model import NHLNet


@torch.no_grad()
def hebbian_step(conv: nn.Conv2d, x: torch.Tensor, lr: float, temperature: float, keep_norm: bool) -> None:
    """Soft competitive Hebbian update of ``conv``'s filters from every patch of ``x`` (unsupervised, local).

    The filters are the neurons (``u = W p`` for a patch ``p``); ``W += lr * delta`` with the soft winner-take-all
    rule of :func:`soft_hebbian_delta`; ``keep_norm`` rescales each filter back to its norm before the update.
    """
    out_channels = conv.weight.shape[0]
    weight = conv.weight.view(out_channels, -1)
    norms = weight.norm(dim=1, keepdim=True)
    patches = F.unfold(x, conv.kernel_size, padding=conv.padding, stride=conv.stride).transpose(1, 2)
    weight += lr * soft_hebbian_delta(weight, patches.reshape(-1, patches.shape[-1]), temperature)
    if keep_norm:
        weight.mul_(norms / weight.norm(dim=1, keepdim=True).clamp_min(1e-12))


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean Shannon entropy of the predicted class distributions."""
    p = logits.softmax(1)
    return -(p * logits.log_softmax(1)).sum(1).mean()


class StreamAdapter:
    """A copy of the source model that adapts on each batch of an unlabelled stream, then predicts it."""

    def __init__(self, source: NHLNet, config: NHLConfig) -> None:
        self.config = config
        self.model = copy.deepcopy(source)
        self.model.eval()
        if config.norm_stats == "test" and config.adapt != "source":
            for m in self.model.modules():
                if isinstance(m, nn.BatchNorm2d):  # normalise with the test batch's own statistics
                    m.train()
                    m.track_running_stats = False
                    m.running_mean = m.running_var = None
        for p in self.model.parameters():
            p.requires_grad_(False)
        modulated = config.adapt in ("modulator", "nhl")
        params = list(self.model.modulator.parameters())
        for p in params:
            p.requires_grad_(modulated)
        self.optimizer = torch.optim.Adam(params, lr=config.modulator_lr) if modulated else None

    def step(self, x: torch.Tensor) -> torch.Tensor:
        """Adapt on ``x`` (no labels) and return its predicted classes."""
        cfg = self.config
        if cfg.adapt in ("hebbian", "nhl"):
            hebbian_step(self.model.conv1, x, cfg.hebb_lr, cfg.temperature, cfg.keep_norm)
        if self.optimizer is not None:
            self.optimizer.zero_grad(set_to_none=True)
            entropy(self.model(x)).backward()  # reaches only the modulator: everything else is frozen
            self.optimizer.step()
        with torch.no_grad():
            return self.model(x).argmax(1)


def adapt_stream(source: NHLNet, images: torch.Tensor, config: NHLConfig) -> torch.Tensor:
    """Predictions for a stream of images, adapting online batch after batch."""
    adapter = StreamAdapter(source, config)
    return torch.cat([adapter.step(images[i:i + config.stream_batch])
                      for i in range(0, len(images), config.stream_batch)])
