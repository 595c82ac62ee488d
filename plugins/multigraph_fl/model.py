"""The models the silos train, and the paper's per-dataset time profiles.

* FEMNIST CNN (Marfoq et al. / MultigraphFL code): conv3x3 3->32, conv3x3 32->64, maxpool 2, dropout 0.25,
  FC 9216->128, dropout 0.5, FC 128->62, on 28x28 images. 1,207,166 parameters.
* iNaturalist: ResNet-18 with an 80-way head (the public code's ``NUMBER_CLASSES``), 11.2 M parameters; GroupNorm
  replaces BatchNorm so that every tensor is federated (the engine does not federate running statistics; the
  parameter count is the same).
* Sentiment140: embedding (25,002 x 100, frozen GloVe in the code) + 2-layer bidirectional LSTM(256) + FC 512->1.
* ``mlp``: the tiny variant's 2-layer MLP on 8x8 digits.

``PROFILES`` holds, per dataset, the model size, the compute time of one local step and the number of rounds used
by the public code (``MODEL_SIZE_DICT`` / ``COMPUTATION_TIME_DICT`` / ``ROUNDS_DICT``). The code calls the sizes
"bits" and the blog writes "4.62 Mb" for FEMNIST, but they are the byte sizes of the serialised fp32 state dicts
(FEMNIST: 1,207,166 parameters x 4 bytes = 4.83 MB): ``model_bits(model)`` gives the true size in bits, 8x more.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zoo.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    """A dataset's model and time figures from the paper's setup."""

    arch: str
    paper_size: float  # the number the paper / code uses as M ("bits"; really bytes of the state dict)
    compute_ms: float  # one local step on a P100
    rounds: int


PROFILES: dict[str, Profile] = {
    "femnist": Profile("femnist_cnn", 4_843_243, 4.6, 6400),
    "inaturalist": Profile("resnet18", 44_961_717, 25.4, 1600),
    "sent140": Profile("lstm", 19_269_416, 9.8, 20000),
}
ALIASES = {"inat": "inaturalist", "sentiment140": "sent140"}


def profile(name: str) -> Profile:
    """The profile of ``femnist``, ``inaturalist`` or ``sent140``."""
    key = ALIASES.get(name, name)
    if key not in PROFILES:
        raise ConfigError(f"unknown dataset model {name!r}; expected one of {sorted(PROFILES)}")
    return PROFILES[key]


class FemnistCNN(nn.Module):
    """The FEMNIST CNN of the public code (62 classes, 28x28 inputs with 3 channels)."""

    def __init__(self, in_channels: int = 3, num_classes: int = 62) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x[B, C, 28, 28]`` -> logits ``[B, 62]``."""
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = self.dropout1(F.max_pool2d(x, 2)).flatten(1)
        return self.fc2(self.dropout2(F.relu(self.fc1(x))))


class SentimentLSTM(nn.Module):
    """Embedding + 2-layer bidirectional LSTM + linear head on the last hidden states (one logit)."""

    def __init__(self, vocab_size: int = 25_002, embedding_dim: int = 100, hidden: int = 256,
                 layers: int = 2, dropout: float = 0.5) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=1)
        self.lstm = nn.LSTM(embedding_dim, hidden, num_layers=layers, bidirectional=True, dropout=dropout,
                            batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden, 1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """``tokens[B, T]`` int64 (padding id 1) -> logit ``[B]``."""
        _, (h, _) = self.lstm(self.dropout(self.embedding(tokens)))
        return self.fc(self.dropout(torch.cat([h[-2], h[-1]], dim=1))).squeeze(1)


class DigitsMLP(nn.Module):
    """The tiny variant's classifier: flatten -> Linear -> ReLU -> Linear."""

    def __init__(self, in_features: int = 64, hidden: int = 32, num_classes: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU(),
                                 nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x[B, ...]`` with ``in_features`` values per sample -> logits."""
        return self.net(x)


def resnet18(num_classes: int = 80) -> nn.Module:
    """torchvision's ResNet-18 (GroupNorm, 32 groups) with an ``num_classes``-way head."""
    from zoo.compat import import_torchvision

    tv = import_torchvision()
    return tv.models.resnet18(num_classes=num_classes, norm_layer=lambda c: nn.GroupNorm(32, c))


def build_arch(arch: str, config: Any = None) -> nn.Module:
    """The silo model named ``arch``."""
    if arch == "mlp":
        return DigitsMLP(config.in_features, config.hidden, config.num_classes) if config else DigitsMLP()
    if arch == "femnist_cnn":
        return FemnistCNN(num_classes=getattr(config, "num_classes", 62) if config else 62)
    if arch == "resnet18":
        return resnet18()
    if arch == "lstm":
        return SentimentLSTM()
    raise ConfigError(f"unknown arch {arch!r}; expected mlp, femnist_cnn, resnet18 or lstm")


def model_bits(model: nn.Module) -> float:
    """Size on the wire of a model's fp32 parameters, in bits."""
    return float(32 * sum(p.numel() for p in model.parameters()))


def state_dict_bits(model: nn.Module) -> float:
    """Size of the whole state dict (parameters and floating buffers), in bits."""
    return float(sum(t.numel() * t.element_size() * 8 for t in model.state_dict().values()))


def build_model(config: Any) -> nn.Module:
    """The model every silo trains (tiny: digits MLP; paper: FEMNIST CNN)."""
    return build_arch(config.arch, config)
