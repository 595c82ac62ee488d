"""The embedding network of Prototypical Networks, with the class prototypes kept for inference."""
from __future__ import annotations

import torch
from torch import nn

from zoo_protonet.config import ProtoNetConfig
from zoo_protonet.losses import proto_logits


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """The paper's block: 3x3 conv (64 filters there), batch norm, ReLU, 2x2 max-pool."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))


class ProtoNet(nn.Module):
    """``embed``: conv blocks then flatten; ``prototypes``: one stored embedding per class (a buffer).

    ``forward(image)`` gives logits = negative squared Euclidean distance to each stored prototype.
    """

    def __init__(self, config: ProtoNetConfig) -> None:
        super().__init__()
        channels = [1] + [config.channels] * config.blocks
        self.embed = nn.Sequential(*(conv_block(a, b) for a, b in zip(channels, channels[1:])), nn.Flatten())
        self.register_buffer("prototypes", torch.zeros(config.num_classes, config.embed_dim))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Class logits of ``image [B, 1, H, W]`` against the stored prototypes."""
        return proto_logits(self.embed(image), self.prototypes)
