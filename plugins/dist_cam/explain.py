"""Dist-CAM as a utility over any embedding model: hook the layer that produces its spatial feature map, embed by
global average pooling (the paper's metric models), and map queries against prototypes or reference images.

::

    from zoo_plugins.dist_cam.explain import DistCAM
    explainer = DistCAM(model)                       # finds the last layer with a [B, K, H, W] output
    protos = explainer.prototypes(images, labels, num_classes)          # Eq. 7
    out = explainer.explain(query_images, protos)    # maps [B, H, W] at image size, nearest classes, distances
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from zoo.errors import ConfigError, InputError
from zoo_plugins.dist_cam.cam import class_prototypes, dist_cam, upsample


def find_feature_layer(model: nn.Module, example: torch.Tensor) -> str:
    """The name of the last submodule (in call order) whose output is a 4-D feature map, found by one forward
    pass of ``example``."""
    seen: list[str] = []
    handles = []
    for name, module in model.named_modules():
        if not name:
            continue

        def hook(mod: nn.Module, inputs: Any, output: Any, name: str = name) -> None:
            if isinstance(output, torch.Tensor) and output.dim() == 4:
                seen.append(name)

        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in handles:
            h.remove()
    if not seen:
        raise ConfigError(f"{type(model).__name__} produces no 4-D feature map; name the layer to explain")
    return seen[-1]


class DistCAM:
    """Dist-CAM for ``model``: ``layer`` (a module name, a module, or ``None`` for the last 4-D output, found on
    the first call) gives the feature maps Q; embeddings are ``GAP(Q)``; ``norm`` as in
    :func:`~zoo_plugins.dist_cam.cam.channel_weights`."""

    def __init__(self, model: nn.Module, layer: str | nn.Module | None = None, norm: str = "sum") -> None:
        self.model = model
        self.layer = layer
        self.norm = norm

    def _module(self, example: torch.Tensor) -> nn.Module:
        if isinstance(self.layer, nn.Module):
            return self.layer
        name = self.layer if isinstance(self.layer, str) else find_feature_layer(self.model, example)
        self.layer = name
        modules = dict(self.model.named_modules())
        if name not in modules:
            raise ConfigError(f"{type(self.model).__name__} has no layer {name!r}")
        return modules[name]

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The feature maps ``[B, K, H, W]`` of ``images`` at the explained layer (model in eval mode)."""
        captured: list[torch.Tensor] = []
        handle = self._module(images[:1]).register_forward_hook(lambda m, i, o: captured.append(o))
        was_training = self.model.training
        self.model.eval()
        try:
            self.model(images)
        finally:
            handle.remove()
            self.model.train(was_training)
        if not captured or captured[-1].dim() != 4:
            raise InputError("Dist-CAM: the explained layer did not produce a [B, K, H, W] feature map")
        return captured[-1]

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``GAP(Q)``: the ``[B, K]`` embedding the distances are measured on."""
        return self.features(images).mean((2, 3))

    def prototypes(self, images: torch.Tensor, labels: torch.Tensor, num_classes: int,
                   batch_size: int = 256) -> torch.Tensor:
        """Eq. 7: class means of the embeddings of ``images`` (``[num_classes, K]``)."""
        z = torch.cat([self.embed(chunk) for chunk in images.split(batch_size)])
        return class_prototypes(z, labels, num_classes)

    def maps(self, images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        """Dist-CAM of ``images`` for ``reference`` (``[K]``/``[B, K]`` vectors, or reference images
        ``[B, C, H, W]`` whose embeddings are used): ``[B, h, w]`` at the feature map's size."""
        if reference.dim() == 4:
            reference = self.embed(reference)
        return dist_cam(self.features(images), reference, self.norm)

    def explain(self, images: torch.Tensor, prototypes: torch.Tensor,
                target: torch.Tensor | int | None = None) -> dict[str, torch.Tensor]:
        """For each image: the nearest prototype (``classes``), the Euclidean ``distances [B, C]`` to every
        prototype, and the Dist-CAM (``maps [B, H, W]``, upsampled to the image and scaled to [0, 1]) for
        ``target`` (a class or one per image; default: the nearest)."""
        q = self.features(images)
        distances = torch.cdist(q.mean((2, 3)), prototypes)
        classes = distances.argmin(1)
        if target is None:
            chosen = classes
        else:
            chosen = torch.as_tensor(target, dtype=torch.long).expand(len(images))
        raw = dist_cam(q, prototypes[chosen], self.norm)
        return {"maps": upsample(raw, tuple(images.shape[-2:])), "raw_maps": raw, "classes": classes,
                "distances": distances, "target": chosen}
