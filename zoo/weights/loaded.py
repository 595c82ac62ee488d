"""The bundle ``zoo.load`` returns: the model together with its preprocessing, spec and provenance."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo.specs import MethodSpec
from zoo.weights.records import WeightRef


@dataclass
class Loaded:
    """A model with everything needed to use it correctly.

    Attributes:
        model: the ``nn.Module`` (in eval mode, carrying ``model.zoo``).
        preprocessing: parameters that travel with the weights (image transforms, audio features, index settings);
            use these, not a guess, to prepare inputs.
        spec: the method's :class:`~zoo.specs.MethodSpec` (inputs, licence, paper, capabilities).
        record: where the weights came from and what they verified as.
        config: the variant config the model was built with.
        name: ``method-variant``.
        init: ``"meta"`` (built on the meta device and loaded with ``assign``) or ``"eager"`` (fallback).
        notes: anything worth knowing about this load (a quarantined cache entry, a fallback).

    Conveniences: ``loaded(x)`` calls the model; ``loaded.infer(inputs)`` runs ``zoo.infer``; attributes the bundle
    does not have are looked up on the model (``loaded.parameters()``, ``loaded.zoo``); and it unpacks as
    ``model, preprocessing, spec = zoo.load(...)``.
    """

    model: Any
    preprocessing: Mapping[str, Any]
    spec: MethodSpec
    record: WeightRef | None
    config: Any
    name: str
    init: str = "meta"
    notes: list[str] = field(default_factory=list)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying model."""
        return self.model(*args, **kwargs)

    def infer(self, inputs: Mapping[str, Any], **options: Any) -> Any:
        """``zoo.infer`` on the model (inputs validated against the method's declared shapes)."""
        from zoo.api import infer

        return infer(self.model, inputs, **options)

    def to(self, *args: Any, **kwargs: Any) -> Loaded:
        """Move the model (``torch.nn.Module.to`` arguments) and return the bundle."""
        self.model = self.model.to(*args, **kwargs)
        return self

    def __iter__(self) -> Iterator[Any]:
        """Unpack as ``(model, preprocessing, spec)``."""
        return iter((self.model, self.preprocessing, self.spec))

    def __getattr__(self, item: str) -> Any:
        # Only called when normal lookup fails: delegate to the model, never for private/dunder names.
        if item.startswith("_") or item == "model":
            raise AttributeError(item)
        return getattr(self.model, item)

    def __repr__(self) -> str:
        where = self.record.describe() if self.record else "random init"
        return (
            f"Loaded({self.name}, from {where}, init={self.init}, preprocessing={dict(self.preprocessing)})"
        )
