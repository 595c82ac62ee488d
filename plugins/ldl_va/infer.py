"""LDL-VA inference: aligned faces -> a distribution over the 7 expressions (argmax = the class); CLI helpers."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.io import atomic_write_json
from zoo.errors import ConfigError, InputError
from zoo_plugins.ldl_va.config import LDLVAConfig


def example_inputs(config: LDLVAConfig) -> dict[str, torch.Tensor]:
    """Two synthetic faces of the variant's size."""
    from zoo.data.synthetic.faces_in_context import make_faces_in_context

    data = make_faces_in_context(2, seed=0, num_classes=config.num_classes, class_names=config.class_names,
                                 scene_size=16, face_size=config.image_size, distractors=0)
    return {"image": data.faces}


def preprocessing(config: LDLVAConfig) -> dict[str, Any]:
    """Face size and range that travel with the weights."""
    return {"size": config.image_size, "range": [0.0, 1.0], "resize": "bilinear",
            "classes": list(config.class_names)}


def run(model: nn.Module, inputs: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """The ``infer`` hook: :func:`predict_faces` on ``inputs["image"]``."""
    return predict_faces(model, inputs["image"])


@torch.no_grad()
def predict_faces(net: nn.Module, image: torch.Tensor) -> dict[str, Any]:
    """``{"probs" (B, C), "label" (B,), "classes"}``; the image side must be the variant's ``image_size``."""
    size = net.config.image_size
    if tuple(image.shape[-2:]) != (size, size):
        raise InputError(f"ldl-va: image must be (B, 3, {size}, {size}) for this variant, got {tuple(image.shape)}; "
                         "`zoo infer ... --image PATH` resizes a face image for you")
    net.eval()
    device = next(net.parameters()).device
    probs = net(image.float().to(device))[0].softmax(1).cpu()
    return {"probs": probs, "label": probs.argmax(1), "classes": list(net.config.class_names)}


def prepare_inputs(config: LDLVAConfig, options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``--image face.jpg`` (an aligned face) -> ``{"image": (1, 3, S, S)}`` in [0, 1]."""
    from zoo.data.layout import image_to_tensor, load_image

    if options.get("image") is None:
        raise ConfigError("ldl-va needs --image PATH (an aligned face image)")
    size = config.image_size
    return {"image": image_to_tensor(load_image(str(options["image"])), (size, size))[None]}


def save_outputs(outputs: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """``predictions.json``: the label and the class distribution of every image."""
    probs = outputs["probs"]
    names = list(outputs.get("classes") or [str(j) for j in range(probs.shape[1])])
    records = [{"label": names[int(p.argmax())], "probs": {n: round(float(v), 6) for n, v in zip(names, p)}}
               for p in probs]
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "predictions.json", {"predictions": records, "classes": names})
    return [out_dir / "predictions.json"]
