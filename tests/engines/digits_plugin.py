"""An in-process plugin for the CLI test: a tiny CNN on scikit-learn's digits, trained by the shared trainer.

It shows the whole path a real plugin takes: ``zoo_make_data`` (bundled digits or synthetic images),
``zoo_train`` handing model, data and loss to :func:`zoo.engines.trainer.fit`, ``zoo_evaluate`` with the
shared metrics, ``zoo_prepare_inputs``/``zoo_save_outputs`` for ``zoo infer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.hookspecs import hookimpl
from zoo.specs import InputSpec, MethodSpec, OptionSpec, VariantSpec


@dataclass(frozen=True)
class DigitsCNNConfig:
    """A two-conv classifier of 8x8 grey images."""

    channels: int = 8
    num_classes: int = 10
    steps: int = 150
    batch_size: int = 32
    lr: float = 1e-2


@hookimpl
def zoo_methods() -> list[MethodSpec]:
    return [
        MethodSpec(
            name="digits-cnn",
            task="classification",
            title="tiny CNN on 8x8 digits (test plugin)",
            variants={"tiny": VariantSpec("tiny", DigitsCNNConfig)},
            inputs=(InputSpec("image", ("B", 1, 8, 8), "float"),),
            options=(OptionSpec("index", "int", 0, "which test digit to classify", hooks=("prepare_inputs",)),),
        )
    ]


@hookimpl
def zoo_build(method: str, config: DigitsCNNConfig) -> Any:
    from torch import nn

    c = config.channels
    return nn.Sequential(
        nn.Conv2d(1, c, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c, 2 * c, 3, padding=1, stride=2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * c * 16, config.num_classes),
    )


@hookimpl
def zoo_example_inputs(method: str, config: DigitsCNNConfig) -> dict[str, Any]:
    import torch

    return {"image": torch.rand(2, 1, 8, 8)}


@hookimpl
def zoo_infer(method: str, model: Any, inputs: dict[str, Any], options: dict[str, Any]) -> Any:
    import torch

    model.eval()
    with torch.no_grad():
        return {"probs": model(inputs["image"]).softmax(-1)}


@hookimpl
def zoo_make_data(method: str, config: DigitsCNNConfig, source: str, split: str) -> Any:
    if source == "digits":
        from zoo.data.digits import load_digits_split

        return load_digits_split(split)
    from zoo.data.synthetic.images import make_images

    return make_images(
        256 if split == "train" else 128,
        seed=0 if split == "train" else 1,
        num_classes=config.num_classes,
        size=8,
    )


def _loss(model: Any, batch: Any) -> Any:
    from torch.nn import functional as F

    images, labels = batch
    return F.cross_entropy(model(images), labels)


@hookimpl
def zoo_train(
    method: str, model: Any, data: Any, config: DigitsCNNConfig, options: Any, callbacks: Any
) -> Any:
    from zoo.engines.trainer import Recipe, fit

    recipe = Recipe(
        steps=config.steps, batch_size=config.batch_size, lr=config.lr, schedule="cosine", warmup_steps=10
    )
    return fit(model, data, _loss, recipe, options, callbacks=callbacks)


@hookimpl
def zoo_evaluate(method: str, model: Any, data: Any, options: Any) -> dict[str, float]:
    import torch

    from zoo.metrics import accuracy, topk_accuracy

    model.eval()
    with torch.no_grad():
        scores = model(data.tensors[0])
    return {
        "accuracy": accuracy(scores, data.tensors[1]),
        "top3": topk_accuracy(scores, data.tensors[1], k=3),
    }


@hookimpl
def zoo_prepare_inputs(method: str, config: DigitsCNNConfig, options: dict[str, Any]) -> dict[str, Any]:
    from zoo.data.digits import load_digits_split

    index = int(options.get("index", 0))
    return {"image": load_digits_split("test").images[index : index + 1]}


@hookimpl
def zoo_save_outputs(method: str, outputs: Any, out_dir: Path, options: dict[str, Any]) -> list[Path]:
    from zoo.io import atomic_write_json

    path = Path(out_dir) / "prediction.json"
    atomic_write_json(path, {"class": int(outputs["probs"].argmax(-1)[0])})
    return [path]
