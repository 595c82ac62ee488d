"""Variant configs of tpSGD (target projection SGD, "Learning with Local Gradients at the Edge", Lomnitz et al.
2022): frozen dataclasses, no torch import."""
from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import ConfigError

ARCHS: tuple[str, ...] = ("mlp", "cnn", "rnn")
RULES: tuple[str, ...] = ("tpsgd", "bp")
LOCAL_LOSSES: tuple[str, ...] = ("l2", "l1")


@dataclass(frozen=True)
class TpSGDConfig:
    """Network, local targets and recipe.

    Every hidden layer ``i`` is trained alone to bring its output ``y_i`` towards the local target
    ``t_i = squash(P_i onehot(label))`` (``P_i`` a fixed random matrix, entries N(0, projection_scale^2)); the output
    layer is trained with cross-entropy against the label. Layer inputs are detached: no gradient crosses a layer.
    ``rule="bp"`` trains the same network end to end (the baseline the paper compares with).

    ``arch``: ``mlp`` (``hidden`` widths), ``cnn`` (``channels``: 3x3 conv + activation + 2x2 max-pool each) or
    ``rnn`` (an Elman RNN per ``hidden`` width over the image rows, the output layer reads the last step).
    ``local_loss``: ``l2`` = ||t - y||^2 (the delta rule), ``l1`` = |t - y| (sign updates).
    ``bptt``: RNN layers back-propagate their local loss through time inside the layer (never across layers);
    False keeps each time step's update local in time too (the recurrent input is detached).
    ``rnn_target``: an RNN layer's target applies to its ``last`` hidden state (what the output reads) or to
    ``every`` step.
    """

    arch: str = "mlp"
    in_channels: int = 1
    image_size: int = 8
    num_classes: int = 10
    hidden: tuple[int, ...] = (128, 128)
    channels: tuple[int, ...] = (16, 32)
    activation: str = "tanh"
    rule: str = "tpsgd"
    local_loss: str = "l2"
    projection_scale: float = 1.0
    bptt: bool = True
    rnn_target: str = "last"
    projection_seed: int = 1234
    # recipe: plain SGD per layer
    steps: int = 600
    batch_size: int = 32
    lr: float = 0.02
    momentum: float = 0.9

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ConfigError(f"unknown tpSGD architecture {self.arch!r}; expected one of {ARCHS}")
        if self.rule not in RULES:
            raise ConfigError(f"unknown training rule {self.rule!r}; expected one of {RULES}")
        if self.local_loss not in LOCAL_LOSSES:
            raise ConfigError(f"unknown local loss {self.local_loss!r}; expected one of {LOCAL_LOSSES}")
        if self.activation not in ("tanh", "sigmoid", "relu"):
            raise ConfigError(f"unknown activation {self.activation!r}; expected tanh, sigmoid or relu")
        if self.rnn_target not in ("last", "every"):
            raise ConfigError(f"rnn_target must be 'last' or 'every', got {self.rnn_target!r}")
        widths = self.channels if self.arch == "cnn" else self.hidden
        if not widths or min(widths) < 1:
            raise ConfigError(f"{self.arch} needs at least one hidden layer of positive width")


def tiny() -> TpSGDConfig:
    """Digits 8x8, MLP 64-128-128-10, tanh."""
    return TpSGDConfig()


def cnn() -> TpSGDConfig:
    """Digits 8x8, two 3x3 conv layers (16, 32 channels) with 2x2 max-pooling, linear output."""
    return TpSGDConfig(arch="cnn")


def rnn() -> TpSGDConfig:
    """Digits read row by row (8 steps of 8 pixels), one tanh RNN layer of 128, output on the last step."""
    return TpSGDConfig(arch="rnn", hidden=(128,), lr=0.01)


def rnn2() -> TpSGDConfig:
    """A two-layer RNN (128, 128) on the digit rows: the paper's multi-layer RNN extension."""
    return TpSGDConfig(arch="rnn", hidden=(128, 128), lr=0.01)


def paper() -> TpSGDConfig:
    """A shallow MNIST MLP, 784-500-500-10 (our stand-in: the paper's exact sizes are not in our sources)."""
    return TpSGDConfig(image_size=28, hidden=(500, 500), steps=6000, batch_size=64)
