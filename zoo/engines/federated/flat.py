"""Flat parameter vectors: one model <-> one ``[P]`` vector, and which entries travel.

:class:`ParamLayout` records where each parameter lives in a flat vector and its federated role:

``aggregate``
    sent to the server (or to neighbours) and averaged: the *wire* entries;
``local``
    never leaves the client: personal heads, CDL's sub-network, FedLoGe's local head. Kept per client in the
    client store, never uploaded, counted or averaged;
``frozen``
    never updated: FedLoGe's SSE-C classifier, a frozen backbone (FedIns). Held once, in the global vector, never
    replicated per client and never sent.

The *wire vector* of a model is its aggregated entries in layout order (:meth:`ParamLayout.to_wire`);
:meth:`ParamLayout.segments` gives the codecs the layer layout of that vector.

:func:`bind` points a module's parameters at views of a flat vector, so local training updates the vector in
place. Floating buffers (BatchNorm running statistics) are flattened separately (:func:`flatten_buffers`); the
engine keeps them per client (``buffers="local"``), never on the wire.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import torch
from torch import nn

from zoo.errors import FederatedError

#: The three roles a parameter can take in federated training.
ROLES: tuple[str, ...] = ("aggregate", "local", "frozen")


@dataclass(frozen=True)
class ParamLayout:
    """Where each named parameter sits in a flat vector, and its federated role.

    Attributes:
        names: parameter names in ``model.named_parameters()`` order.
        shapes: their shapes.
        offsets: start index of each parameter in the flat vector.
        roles: role of each parameter (one of :data:`ROLES`).
        size: P, the length of the flat vector.
    """

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    offsets: tuple[int, ...]
    roles: tuple[str, ...]
    size: int = field(default=0)

    @property
    def numel(self) -> int:
        """Number of scalars in one flat vector (P)."""
        return self.size

    def mask(self, role: str = "aggregate", dtype: torch.dtype = torch.float32,
             device: torch.device | str | None = None) -> torch.Tensor:
        """A ``[P]`` 0/1 vector marking the entries whose parameter has ``role``."""
        if role not in ROLES:
            raise FederatedError(f"unknown parameter role {role!r}; expected one of {ROLES}")
        out = torch.zeros(self.size, dtype=dtype, device=device)
        for shape, offset, r in zip(self.shapes, self.offsets, self.roles):
            if r == role:
                out[offset : offset + _numel(shape)] = 1
        return out

    def indices(self, role: str = "aggregate") -> torch.Tensor:
        """``int64`` indices (ascending) of the entries with ``role``."""
        return self._indices[role]

    @cached_property
    def _indices(self) -> dict[str, torch.Tensor]:
        return {r: torch.nonzero(self.mask(r, torch.bool), as_tuple=False).reshape(-1) for r in ROLES}

    def count(self, role: str = "aggregate") -> int:
        """Number of entries with ``role``."""
        return int(self._indices[role].numel())

    @property
    def wire_size(self) -> int:
        """Length of the wire vector (the aggregated entries)."""
        return self.count("aggregate")

    def all_aggregated(self) -> bool:
        """True when every parameter is aggregated (no local or frozen parts)."""
        return all(r == "aggregate" for r in self.roles)

    def to_wire(self, vector: torch.Tensor) -> torch.Tensor:
        """The aggregated entries of a ``[..., P]`` vector: ``[..., wire_size]`` (the vector itself when all are)."""
        if self.all_aggregated():
            return vector
        return vector.index_select(-1, self._indices["aggregate"].to(vector.device))

    def from_wire(self, wire: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        """``base`` (``[..., P]``) with its aggregated entries replaced by ``wire``; a new tensor."""
        if self.all_aggregated():
            return wire.clone()
        out = base.clone()
        out[..., self._indices["aggregate"].to(base.device)] = wire.to(base.dtype)
        return out

    def take(self, vector: torch.Tensor, role: str) -> torch.Tensor:
        """The entries of ``vector`` (``[..., P]``) with ``role``."""
        return vector.index_select(-1, self._indices[role].to(vector.device))

    def put(self, vector: torch.Tensor, role: str, values: torch.Tensor) -> None:
        """Write ``values`` into the entries of ``vector`` with ``role`` (in place)."""
        vector[..., self._indices[role].to(vector.device)] = values.to(vector.dtype)

    def segments(self, role: str = "aggregate") -> tuple[tuple[str, int, int], ...]:
        """``(name, start, stop)`` of each parameter with ``role`` inside the compacted vector of that role.

        With ``role="aggregate"`` these are the layers of the wire vector, which layer-aware codecs use.
        """
        out = []
        pos = 0
        for name, shape, r in zip(self.names, self.shapes, self.roles):
            if r == role:
                n = _numel(shape)
                out.append((name, pos, pos + n))
                pos += n
        return tuple(out)

    def slices(self) -> dict[str, slice]:
        """``{name: slice}`` of each parameter inside a flat vector."""
        return {n: slice(o, o + _numel(s)) for n, s, o in zip(self.names, self.shapes, self.offsets)}


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def layout_of(model: nn.Module, roles: Mapping[str, str] | None = None) -> ParamLayout:
    """The :class:`ParamLayout` of ``model``.

    Args:
        model: the template module.
        roles: ``{name_prefix: role}``; a parameter takes the role of the longest matching prefix
            (``{"head": "local"}``; the empty prefix ``""`` matches every parameter), ``aggregate`` otherwise. Parameters with ``requires_grad=False`` are
            ``frozen`` unless a prefix says otherwise.
    """
    roles = dict(roles or {})
    for prefix, role in roles.items():
        if role not in ROLES:
            raise FederatedError(f"parameter role for {prefix!r} is {role!r}; expected one of {ROLES}")
    names, shapes, offsets, rs = [], [], [], []
    offset = 0
    for name, p in model.named_parameters():
        names.append(name)
        shapes.append(tuple(p.shape))
        offsets.append(offset)
        match = max((k for k in roles if k == "" or name == k or name.startswith(k + ".")), key=len, default=None)
        rs.append(roles[match] if match is not None else ("aggregate" if p.requires_grad else "frozen"))
        offset += p.numel()
    if offset == 0:
        raise FederatedError("the model has no parameters to federate")
    return ParamLayout(tuple(names), tuple(shapes), tuple(offsets), tuple(rs), offset)


def flatten(model: nn.Module) -> torch.Tensor:
    """A detached copy of the model's parameters as one ``[P]`` float vector (on the model's device)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()


def load_flat(model: nn.Module, vector: torch.Tensor) -> None:
    """Copy a ``[P]`` vector into the model's parameters (the model keeps its own storage)."""
    _check_size(model, vector)
    offset = 0
    with torch.no_grad():
        for p in model.parameters():
            n = p.numel()
            p.copy_(vector[offset : offset + n].view_as(p))
            offset += n


def bind(model: nn.Module, vector: torch.Tensor) -> None:
    """Make the model's parameters views of ``vector`` (in-place updates of one are updates of the other).

    Gradients still land in each ``p.grad``; gather them with :func:`flat_grad`.
    """
    _check_size(model, vector)
    offset = 0
    for p in model.parameters():
        n = p.numel()
        p.data = vector[offset : offset + n].view_as(p)
        offset += n


def unbind(model: nn.Module) -> None:
    """Give the model's parameters their own storage again (after :func:`bind`)."""
    for p in model.parameters():
        p.data = p.data.clone()


def flat_grad(params: Iterable[nn.Parameter], size: int) -> torch.Tensor:
    """Concatenate parameter gradients into a ``[P]`` vector (zeros where a gradient is missing)."""
    parts = []
    for p in params:
        parts.append(p.grad.reshape(-1) if p.grad is not None else torch.zeros(p.numel(), dtype=p.dtype,
                                                                              device=p.device))
    g = torch.cat(parts)
    if g.numel() != size:
        raise FederatedError(f"gradient has {g.numel()} entries; the layout has {size}")
    return g


def _check_size(model: nn.Module, vector: torch.Tensor) -> None:
    expected = sum(p.numel() for p in model.parameters())
    if vector.dim() != 1 or vector.numel() != expected:
        raise FederatedError(f"flat vector has shape {tuple(vector.shape)}; the model expects ({expected},)")


def new_buffer(rows: int, init: torch.Tensor) -> torch.Tensor:
    """A ``[rows, P]`` buffer whose every row is ``init`` (all clients start from the same model)."""
    if init.dim() != 1:
        raise FederatedError(f"init must be a flat [P] vector, got shape {tuple(init.shape)}")
    return init.detach().reshape(1, -1).repeat(rows, 1).contiguous()


def floating_buffers(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """The model's floating-point buffers (BatchNorm running statistics), in ``named_buffers`` order."""
    return [(n, b) for n, b in model.named_buffers() if b.is_floating_point()]


def flatten_buffers(model: nn.Module) -> torch.Tensor | None:
    """The floating buffers as one vector (``None`` when the model has none)."""
    bufs = floating_buffers(model)
    if not bufs:
        return None
    return torch.cat([b.detach().reshape(-1) for _, b in bufs]).clone()


def load_buffers(model: nn.Module, vector: torch.Tensor | None) -> None:
    """Copy a vector from :func:`flatten_buffers` back into the model's floating buffers."""
    if vector is None:
        return
    offset = 0
    with torch.no_grad():
        for _, b in floating_buffers(model):
            n = b.numel()
            b.copy_(vector[offset : offset + n].view_as(b))
            offset += n
    if offset != vector.numel():
        raise FederatedError(f"buffer vector has {vector.numel()} entries; the model's buffers hold {offset}")
