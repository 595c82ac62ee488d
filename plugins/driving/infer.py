"""Inference and evaluation of the driving models: images -> steering angles; RMSE and MAE."""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from zoo_plugins.driving.data import as_float

from zoo.io import atomic_write_text
from zoo.errors import DataError, InputError
from zoo.metrics import mae, rmse


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Steering angles (N,) of images (N, C, S, S) in [0, 1]; CDL's sub-network is not used (``forward`` is the
    backbone alone)."""
    was_training = model.training
    device = next(model.parameters()).device
    model.eval()
    try:
        outs = [model(as_float(images[i:i + batch_size].to(device))).reshape(-1).cpu()
                for i in range(0, images.shape[0], batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outs)


def check_size(images: torch.Tensor, image_size: int) -> None:
    """The networks' feature sizes follow ``image_size``: other sizes are an InputError naming both."""
    if tuple(images.shape[-2:]) != (image_size, image_size):
        raise InputError(f"image must be (B, 1, {image_size}, {image_size}) for this variant, got "
                         f"{tuple(images.shape)}; load files with `zoo infer ... --image PATH` (which resizes and "
                         f"crops) or resize first")


def dataset_tensors(data: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, angles) of a steering dataset, a :class:`~zoo_plugins.driving.data.SiloData` (its test set, else
    its pooled silos) or an ``(images, angles)`` pair."""
    if hasattr(data, "silos"):
        data = data.test if data.test is not None else data.pooled()
    if isinstance(data, (tuple, list)) and len(data) == 2 and torch.is_tensor(data[0]):
        return data[0], torch.as_tensor(data[1], dtype=torch.float32)
    if hasattr(data, "images") and hasattr(data, "angles"):
        return data.images, data.angles
    try:
        items = [data[i] for i in range(len(data))]
    except TypeError as exc:
        raise DataError(f"cannot evaluate on a {type(data).__name__}: expected a steering dataset") from exc
    if not items:
        raise DataError("the evaluation set is empty")
    return torch.stack([torch.as_tensor(x) for x, _ in items]), torch.tensor([float(y) for _, y in items])


def evaluate(model: nn.Module, data: Any, image_size: int) -> dict[str, float]:
    """RMSE and MAE of the model's steering predictions (over all samples, as the papers define them)."""
    images, angles = dataset_tensors(data)
    if images.shape[0] == 0:
        raise DataError("the evaluation set is empty")
    check_size(images, image_size)
    pred = predict(model, images)
    return {"rmse": rmse(pred, angles), "mae": mae(pred, angles)}


def constant_baseline(train_angles: torch.Tensor, test_angles: torch.Tensor) -> dict[str, float]:
    """The papers' "Constant" baseline: always predict the mean training steering angle."""
    pred = torch.full_like(test_angles, float(train_angles.mean()))
    return {"rmse": rmse(pred, test_angles), "mae": mae(pred, test_angles)}


def example_inputs(config: Any) -> dict[str, torch.Tensor]:
    """Two synthetic road images of the variant's size."""
    from zoo.data.synthetic.road import make_road

    return {"image": make_road(2, seed=0, image_size=config.image_size).images}


def infer(model: nn.Module, inputs: Mapping[str, torch.Tensor], config: Any) -> dict[str, torch.Tensor]:
    """The ``infer`` hook: ``{"angle": (B,)}`` (CDL: the backbone alone; the sub-network is dropped)."""
    images = inputs["image"]
    check_size(images, config.image_size)
    return {"angle": predict(model, images.float())}


def evaluate_hook(model: nn.Module, data: Any, config: Any) -> dict[str, float]:
    """The ``evaluate`` hook: ``{"rmse", "mae"}`` on ``data`` (its test split for per-silo data)."""
    return evaluate(model, data, config.image_size)


def prepare_inputs(config: Any, options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """CLI options -> inputs: ``image`` (a path, comma-separated paths or a list) -> (B, C, S, S) images."""
    from zoo_plugins.driving.data import load_image_file

    paths = options.get("image")
    if paths is None:
        raise InputError("give the image(s) to steer from: --image road.png")
    if isinstance(paths, str) and "," in paths and not Path(paths).exists():
        paths = [p for p in paths.split(",") if p]  # --image a.png,b.png
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise InputError("--image got no paths")
    images = [load_image_file(p, config.image_size, config.in_chans) for p in paths]
    return {"image": torch.stack(images)}


def save_outputs(outputs: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Write ``steering.json`` (one angle per input image)."""
    angles = outputs["angle"]
    path = Path(out_dir) / "steering.json"
    atomic_write_text(path, json.dumps({"angle": [float(a) for a in angles.reshape(-1)]}, indent=2))
    return [path]
