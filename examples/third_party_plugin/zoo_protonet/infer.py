"""Inference, evaluation and the command-line side of the example plugin.

``zoo infer protonet --weights runs/protonet --image digit.png --top-k 3 --out preds`` reads the file into an input
(``prepare_inputs``), classifies it (``predict``) and writes ``predictions.json`` (``save_outputs``).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from zoo.errors import DataError, InputError
from zoo.options import Options
from zoo_protonet.config import ProtoNetConfig
from zoo_protonet.data import sample_episode, tensors
from zoo_protonet.losses import proto_logits, prototypes
from zoo_protonet.model import ProtoNet

#: How raw pixels become model inputs; saved with every weights folder (``zoo.load(...).preprocessing``).
PREPROCESSING = {"grey": True, "resize": "bilinear to image_size x image_size", "scale": "pixel / max -> [0, 1]"}


def example_inputs(config: ProtoNetConfig) -> dict[str, torch.Tensor]:
    """Two random images of the configured size (seeded)."""
    size = config.image_size
    return {"image": torch.rand(2, 1, size, size, generator=torch.Generator().manual_seed(0))}


def _check_size(image: torch.Tensor, config: ProtoNetConfig) -> None:
    if tuple(image.shape[-2:]) != (config.image_size, config.image_size):
        raise InputError(f"protonet: input 'image' must be (B, 1, {config.image_size}, {config.image_size}) for "
                         f"this variant, got {tuple(image.shape)}")


@torch.no_grad()
def predict(model: ProtoNet, inputs: Mapping[str, torch.Tensor], config: ProtoNetConfig,
            options: Options) -> dict[str, torch.Tensor]:
    """Class probabilities (softmax over negative squared distances to the stored prototypes) and the ``top_k``
    classes (``options.top_k`` is an int: ``--top-k 3`` arrives typed)."""
    image = inputs["image"]
    _check_size(image, config)
    model.eval()
    probs = model(image).softmax(-1)
    top = probs.topk(min(options.top_k, probs.shape[-1]), dim=-1)
    return {"probs": probs, "top_classes": top.indices, "top_probs": top.values}


@torch.no_grad()
def evaluate(model: ProtoNet, data: Any, config: ProtoNetConfig, options: Options) -> dict[str, float]:
    """``accuracy``: top-1 against the stored prototypes; ``fewshot_accuracy``: the paper's protocol, mean query
    accuracy over ``options.episodes`` ``way``-way ``shot``-shot episodes whose prototypes come from their own
    support images (drawn from ``options.classes``, default every class of ``data``)."""
    images, labels = tensors(data)
    model.eval()
    z = torch.cat([model.embed(chunk) for chunk in images.split(512)])
    metrics = {"accuracy": (proto_logits(z, model.prototypes).argmax(-1) == labels).float().mean().item()}
    present = torch.unique(labels)
    classes = torch.tensor(options.classes, dtype=labels.dtype) if options.classes else present
    classes = classes[torch.isin(classes, present)]
    generator = torch.Generator().manual_seed(options.seed)
    correct = total = 0
    for _ in range(options.episodes):
        s, q = sample_episode(labels, classes, options.way, options.shot, 5, generator)
        protos = prototypes(z[s], torch.arange(options.way).repeat_interleave(options.shot), options.way)
        hits = proto_logits(z[q], protos).argmax(-1) == torch.arange(options.way).repeat_interleave(5)
        correct += int(hits.sum())
        total += len(q)
    metrics["fewshot_accuracy"] = correct / max(total, 1)
    return metrics


def prepare_inputs(config: ProtoNetConfig, options: Options) -> dict[str, torch.Tensor]:
    """``--image FILE`` (a PNG/JPEG picture or a ``.npy`` 2-D array) as a ``[1, 1, H, W]`` input in [0, 1]."""
    if not options.image:
        raise InputError("protonet: give an image with --image FILE (.png, .jpg or .npy)")
    path = Path(options.image)
    if not path.is_file():
        raise DataError(f"protonet: no such file {path}")
    if path.suffix.lower() == ".npy":
        import numpy as np

        array = torch.as_tensor(np.load(path), dtype=torch.float32)
    else:
        from PIL import Image

        array = torch.as_tensor(list(Image.open(path).convert("L").getdata()), dtype=torch.float32)
        width, height = Image.open(path).size
        array = array.view(height, width)
    if array.ndim != 2:
        raise InputError(f"protonet: {path} must hold one grey image (2-D), got shape {tuple(array.shape)}")
    image = array / array.max().clamp(min=1e-6)
    image = torch.nn.functional.interpolate(image[None, None], size=(config.image_size,) * 2, mode="bilinear",
                                            align_corners=False)
    return {"image": image.clamp(0, 1)}


def save_outputs(outputs: Mapping[str, torch.Tensor], out_dir: Path) -> list[Path]:
    """``predictions.json``: for each image, its top classes and their probabilities."""
    from zoo.io import atomic_write_json

    rows = [{"top_classes": c.tolist(), "top_probs": [round(p, 6) for p in p_.tolist()]}
            for c, p_ in zip(outputs["top_classes"], outputs["top_probs"])]
    path = Path(out_dir) / "predictions.json"
    atomic_write_json(path, {"predictions": rows})
    return [path]


def preprocessing(config: ProtoNetConfig) -> dict[str, Any]:
    """What travels with the weights: how a picture becomes an input of this variant."""
    return {**PREPROCESSING, "image_size": config.image_size, "channels": 1}
