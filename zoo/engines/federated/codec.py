"""Communication codecs: what a message costs on the wire, and what arrives.

``codec.encode(vector, ctx) -> Encoded(decoded, nbytes)``: ``decoded`` is what the receiver reconstructs (the
engine uses it in place of the sent vector) and ``nbytes`` is counted in the round's byte ledger.

``ctx`` (:class:`CodecContext`) lets a codec see the layer layout of the vector (``ctx.segments``: name, start,
stop of each layer inside it) and keep state per sender and direction (``ctx.state``: error-feedback residuals,
reference vectors), which the engine stores with the sender's client state, so it persists across rounds and in
checkpoints, on every path: server uplink and downlink, gossip, Flower and torch.distributed. ``ctx`` is ``None``
when a codec is called outside the engine; stateful codecs then behave as stateless.

FedZip-style codecs (top-z sparsification, k-means quantisation, entropy coding) are plugins implementing the
same protocol.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import torch

from zoo.errors import FederatedError


@dataclass(frozen=True)
class Encoded:
    """A message after the codec: the receiver's reconstruction and its size on the wire in bytes."""

    decoded: torch.Tensor
    nbytes: int


@dataclass
class CodecContext:
    """What a codec may know about the vector it encodes.

    Attributes:
        segments: ``(name, start, stop)`` of each layer inside the vector (one ``("", 0, n)`` segment for
            vectors that are not model-shaped, e.g. representation messages).
        state: the sender's persistent codec state for this message (read and write in place).
        sender: client / node id of the sender (-1: the server).
        round_idx: the round.
        message: name of the message (``"delta"``, ``"model"``, ...).
    """

    segments: tuple[tuple[str, int, int], ...]
    state: dict[str, torch.Tensor] = field(default_factory=dict)
    sender: int = -1
    round_idx: int = 0
    message: str = ""


class Codec(Protocol):
    """Encodes one flat vector for transmission."""

    def encode(self, vector: torch.Tensor, ctx: CodecContext | None = None) -> Encoded:
        """Compress ``vector``; return the reconstruction and the byte count."""
        ...


def whole(n: int) -> tuple[tuple[str, int, int], ...]:
    """The single segment of a vector of length ``n`` that has no layer layout."""
    return (("", 0, int(n)),)


@dataclass(frozen=True)
class Identity:
    """Send the vector as is: ``numel x bytes_per_value`` bytes (4 for float32)."""

    bytes_per_value: int | None = None

    def encode(self, vector: torch.Tensor, ctx: CodecContext | None = None) -> Encoded:
        """No compression."""
        width = self.bytes_per_value or vector.element_size()
        return Encoded(vector, int(vector.numel()) * width)


def _topk_dense(vector: torch.Tensor, k: int) -> torch.Tensor:
    idx = vector.abs().topk(k).indices
    out = torch.zeros_like(vector)
    out[idx] = vector[idx]
    return out


@dataclass(frozen=True)
class TopK:
    """Keep the ``fraction`` largest-magnitude entries: values (float32) plus int32 indices.

    ``per_layer=True`` keeps that fraction of every layer (``ctx.segments``) instead of the whole vector.
    """

    fraction: float
    per_layer: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.fraction <= 1.0:
            raise FederatedError(f"TopK.fraction must be in (0, 1], got {self.fraction}")

    def encode(self, vector: torch.Tensor, ctx: CodecContext | None = None) -> Encoded:
        """Sparsify (globally or layer by layer)."""
        if not self.per_layer or ctx is None:
            k = max(1, int(round(self.fraction * vector.numel())))
            return Encoded(_topk_dense(vector, k), k * (4 + 4))
        out = torch.zeros_like(vector)
        kept = 0
        for _, a, b in ctx.segments:
            k = max(1, int(round(self.fraction * (b - a))))
            out[a:b] = _topk_dense(vector[a:b], k)
            kept += k
        return Encoded(out, kept * (4 + 4))


@dataclass(frozen=True)
class UniformQuantize:
    """Quantise to ``bits`` bits on a uniform grid between the min and max (plus two float32 for the range).

    ``per_layer=True`` uses one grid (and one range) per layer of ``ctx.segments``.
    """

    bits: int = 8
    per_layer: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.bits <= 16:
            raise FederatedError(f"UniformQuantize.bits must be in [1, 16], got {self.bits}")

    def _grid(self, vector: torch.Tensor) -> tuple[torch.Tensor, int]:
        lo, hi = vector.min(), vector.max()
        levels = (1 << self.bits) - 1
        scale = (hi - lo).clamp_min(1e-12) / levels
        q = torch.round((vector - lo) / scale)
        return q * scale + lo, (vector.numel() * self.bits + 7) // 8 + 8

    def encode(self, vector: torch.Tensor, ctx: CodecContext | None = None) -> Encoded:
        """Round to the grid."""
        if not self.per_layer or ctx is None:
            out, nbytes = self._grid(vector)
            return Encoded(out, int(nbytes))
        out = torch.empty_like(vector)
        total = 0
        for _, a, b in ctx.segments:
            out[a:b], n = self._grid(vector[a:b])
            total += n
        return Encoded(out, int(total))


@dataclass(frozen=True)
class ErrorFeedback:
    """Error feedback (Seide et al. 2014; Karimireddy et al. 2019): send ``C(x + e)``, keep ``e <- x + e - C(x + e)``.

    The residual ``e`` lives in ``ctx.state["residual"]``, per sender and message, so what a lossy codec drops
    this round is sent in later rounds.
    """

    inner: Codec

    def encode(self, vector: torch.Tensor, ctx: CodecContext | None = None) -> Encoded:
        """Compress the vector plus the carried residual; carry the new residual."""
        if ctx is None:
            return self.inner.encode(vector, None)
        residual = ctx.state.get("residual")
        corrected = vector if residual is None else vector + residual.to(vector.device, vector.dtype)
        enc = self.inner.encode(corrected, ctx)
        ctx.state["residual"] = (corrected - enc.decoded).detach()
        return enc


def encode(codec: Codec, vector: torch.Tensor, segments: tuple[tuple[str, int, int], ...],
           state: dict[str, torch.Tensor], sender: int, round_idx: int, message: str) -> Encoded:
    """Encode with a context whose state is ``state[message + "." + key]`` (updated in place)."""
    prefix = message + "."
    own = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    ctx = CodecContext(segments, own, sender, round_idx, message)
    enc = codec.encode(vector, ctx)
    for k in [k for k in state if k.startswith(prefix)]:
        del state[k]
    for k, v in ctx.state.items():
        state[prefix + k] = v
    return enc
