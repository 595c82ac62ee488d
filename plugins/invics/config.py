"""Variant configs of InvICS (frozen dataclasses, JSON-able, no torch import)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from zoo.errors import ConfigError

#: Measurements per 33x33 block at the standard CS ratios, as in the ISTA-Net+ / OPINE-Net+ code that InvICS
#: builds on (rounding differs at 1 %, 4 % and 50 %: 10, 43, 545 rather than 11, 44, 544).
STANDARD_M: dict[float, int] = {0.01: 10, 0.04: 43, 0.10: 109, 0.25: 272, 0.30: 327, 0.40: 436, 0.50: 545}


@dataclass(frozen=True)
class InvICSConfig:
    """Sampling, network and recipe (paper symbols in brackets).

    Sampling: ``block`` [sqrt(N)] = 33 (N = 1089), ``ratio`` [M / N] the CS ratio; M = round(ratio * N).
    Network: ``phases`` [K] = 30, ``channels`` [z] = 32 (channel 0 carries the image estimate),
        ``p_hidden`` width of the P block's hidden layer; the coupling sub-networks (widths are not given in the
        paper: ours): ``dense_layers`` / ``growth`` of the dense block F, ``res_hidden`` of the residual blocks
        G and H; ``memory_saving`` recomputes each phase's input from its output in the backward pass (the
        MemCNN wrapping of the paper) instead of storing activations.
    Loss: ``gamma`` [gamma] = 0.01 weight of ``1/M ||Phi Phi^T - I||^2``.
    Recipe (Sect. 4): stage 1 ``stage1_size`` = 33 blocks, lr ``lr`` 1e-4 for ``epochs``; stage 2
        ``stage2_size`` = 99 blocks, lr ``lr2`` 1e-5 for ``epochs2`` (Adam); ``steps_per_epoch`` random crops per
        epoch of ``batch_size``; ``steps`` overrides the total of stage 1 (stage 2 then runs ``steps2``).
    """

    block: int = 33
    ratio: float = 0.25
    phases: int = 30
    channels: int = 32
    p_hidden: int = 32
    dense_layers: int = 4
    growth: int = 16
    res_hidden: int = 16
    memory_saving: bool = True
    gamma: float = 0.01
    lr: float = 1e-4
    epochs: int = 100
    lr2: float = 1e-5
    epochs2: int = 10
    stage1_size: int = 33
    stage2_size: int = 99
    batch_size: int = 64
    steps_per_epoch: int = 100
    steps: int | None = None
    steps2: int = 0

    def __post_init__(self) -> None:
        if self.block < 2 or not 0 < self.ratio <= 1:
            raise ConfigError(f"InvICSConfig needs block >= 2 and ratio in (0, 1], got {self.block}, {self.ratio}")
        if self.channels < 2 or self.channels % 2:
            raise ConfigError(f"InvICSConfig.channels must be even and >= 2 (split in halves), got {self.channels}")
        if self.phases < 0:
            raise ConfigError(f"InvICSConfig.phases must be >= 0, got {self.phases}")
        if self.stage1_size % self.block or self.stage2_size % self.block:
            raise ConfigError("InvICSConfig training crop sizes must be multiples of the block size")

    @property
    def n(self) -> int:
        """N = block^2 pixels per block."""
        return self.block * self.block

    @property
    def m(self) -> int:
        """M measurements per block: :data:`STANDARD_M` for 33x33 blocks at the standard ratios, else
        ``round(ratio * N)`` (at least 1)."""
        if self.block == 33 and round(self.ratio, 4) in STANDARD_M:
            return STANDARD_M[round(self.ratio, 4)]
        return max(1, round(self.ratio * self.n))


def tiny() -> InvICSConfig:
    """11x11 blocks at 25 % (M = 30), K = 3 phases, z = 8 channels, small couplings; 33x33 training crops."""
    return InvICSConfig(block=11, ratio=0.25, phases=3, channels=8, p_hidden=8, dense_layers=2, growth=4,
                        res_hidden=4, lr=1e-3, epochs=2, epochs2=0, stage1_size=33, stage2_size=33,
                        batch_size=8, steps_per_epoch=20)


def paper() -> InvICSConfig:
    """Sect. 3-4: 33x33 blocks (N = 1089), CR 25 % (M = 272), K = 30, z = 32, gamma 0.01; 100 epochs at lr 1e-4
    on 33x33 blocks then 10 epochs at 1e-5 on 99x99 (Adam)."""
    return InvICSConfig()


def ratio(cs_ratio: float) -> InvICSConfig:
    """The paper's network at another CS ratio (1, 4, 10, 25 or 50 % in Table 1)."""
    return replace(paper(), ratio=cs_ratio)
