"""``zoo plugin new NAME``: the files of a new plugin distribution, ready to install and test.

:func:`render` returns the files (relative path -> text) of a separate distribution ``zoo-NAME`` whose package
``zoo_<name>`` declares one method ``NAME`` with the SDK (:mod:`zoo.plugin`): a small image classifier on
scikit-learn's digits that trains through the shared trainer, so that the new distribution installs
(``pip install -e``) and passes its own tests unchanged. The author then replaces the model, the losses, the
data and the method card with their method's. :func:`write` lays the files out atomically.

The generated tests run the conformance kit (``zoo.testing.check_method``), which also checks the method card
sections, one real experiment (training beats chance on the digits by a margin) and the ``paper`` variant's size.
"""
from __future__ import annotations

import keyword
from pathlib import Path

from zoo.errors import ConfigError
from zoo.specs import is_method_name

_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "__DIST__"
version = "0.1.0"
description = "A zoo plugin: __TITLE__"
readme = "__PKG__/README.md"
requires-python = ">=3.10"
dependencies = ["zoo"]

# zoo finds the plugin through this entry point: NAME = "package:plugin" (the Plugin object in __init__.py).
[project.entry-points."zoo.plugins"]
__NAME__ = "__PKG__:plugin"

[tool.setuptools]
packages = ["__PKG__"]

[tool.setuptools.package-data]
__PKG__ = ["README.md"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-ra --import-mode=importlib"
'''

_INIT = '''\
"""__TITLE__: the method's declaration (no torch import here; the SDK imports each target when first used)."""
from zoo.plugin import Input, Method, Option, Plugin, Variant

plugin = Plugin(Method(
    "__NAME__",
    task="image-classification",
    title="__TITLE__",
    paper="https://example.org/your-paper",  # a URL or a citation
    license="Apache-2.0",  # the licence of this code and of weights you release (SPDX id)
    variants=[Variant("tiny", "__PKG__.config:tiny", "8x8 grey digits, one hidden layer of 64"),
              Variant("paper", "__PKG__.config:paper", "the published size")],
    inputs=[Input("image", ("B", 1, "H", "W"), "float", "grey images in [0, 1]")],
    options=[Option("top_k", "int", 3, "classes to return per image")],
    capabilities=("cpu", "images"),
    build="__PKG__.model:__CLASS__",
    example_inputs="zoo.inference:example_images",  # a shared target: random images of config.image_size
    infer="__PKG__.infer:predict",
    evaluate="__PKG__.infer:evaluate",
    make_data="__PKG__.data:make_data",
    train="__PKG__.train:train",
))
'''

_CONFIG = '''\
"""Variant configs: frozen dataclasses with JSON-able fields (saved in the config.json of every weights folder)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class __CLASS__Config:
    """Sizes and the training recipe of one variant."""

    in_channels: int = 1
    image_size: int = 8
    hidden: int = 64
    num_classes: int = 10
    steps: int = 150
    batch_size: int = 64
    lr: float = 3e-3


def tiny() -> __CLASS__Config:
    """CPU-sized: trains on scikit-learn's digits in about a second."""
    return __CLASS__Config()


def paper() -> __CLASS__Config:
    """The published setting (replace with your paper's sizes and recipe; a test pins them)."""
    return __CLASS__Config(image_size=28, hidden=512, steps=20_000, batch_size=128, lr=1e-3)
'''

_MODEL = '''\
"""The network (replace with your method's)."""
from __future__ import annotations

import torch
from torch import nn

from __PKG__.config import __CLASS__Config


class __CLASS__(nn.Module):
    """Images ``[B, C, H, W]`` -> class logits ``[B, num_classes]``: flatten, one hidden layer."""

    def __init__(self, config: __CLASS__Config) -> None:
        super().__init__()
        features = config.in_channels * config.image_size * config.image_size
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(features, config.hidden), nn.ReLU(),
                                 nn.Linear(config.hidden, config.num_classes))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Class logits."""
        return self.net(image)
'''

_DATA = '''\
"""The data the method trains and evaluates on (``zoo train __NAME__ --data digits``)."""
from __future__ import annotations

from typing import Any

from zoo.errors import DataError

from __PKG__.config import __CLASS__Config


def make_data(config: __CLASS__Config, source: str, split: str) -> Any:
    """scikit-learn's digits (shipped with scikit-learn, nothing downloaded): a dataset of (image, label)."""
    if source not in ("digits", "synthetic"):
        raise DataError(f"__NAME__: unknown data source {source!r}; this plugin knows 'digits'")
    if config.image_size != 8 or config.in_channels != 1:
        raise DataError(f"__NAME__: the digits are 1x8x8 images; this variant expects "
                        f"{config.in_channels}x{config.image_size}x{config.image_size}")
    from zoo.data.digits import load_digits_split

    return load_digits_split(split)
'''

_TRAIN = '''\
"""Training through the shared trainer (seeding, progress, checkpoints, resume, curves and callbacks for free)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from zoo.engines.trainer import Recipe, TrainResult, fit
from zoo.options import TrainOptions

from __PKG__.config import __CLASS__Config


def loss_fn(model: nn.Module, batch: Any) -> torch.Tensor:
    """Cross-entropy of the logits (replace with your method's losses)."""
    images, labels = batch
    return nn.functional.cross_entropy(model(images), labels)


def train(model: nn.Module, data: Any, config: __CLASS__Config, options: TrainOptions,
          callbacks: Sequence[Any]) -> TrainResult:
    """The variant's recipe; ``options.steps`` (``--steps``) overrides its length, ``callbacks`` get the events."""
    recipe = Recipe(steps=config.steps, batch_size=config.batch_size, lr=config.lr, optimizer="adam")
    return fit(model, data, loss_fn, recipe, options, callbacks=callbacks)
'''

_INFER = '''\
"""Inference and evaluation."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from zoo.options import Options


@torch.no_grad()
def predict(model: nn.Module, inputs: Mapping[str, torch.Tensor], options: Options) -> dict[str, torch.Tensor]:
    """Class probabilities and the ``top_k`` classes (``options.top_k`` arrives as an int, ``--top-k 5`` too)."""
    model.eval()
    probs = model(inputs["image"]).softmax(-1)
    top = probs.topk(min(options.top_k, probs.shape[-1]), dim=-1)
    return {"probs": probs, "top_classes": top.indices, "top_probs": top.values}


@torch.no_grad()
def evaluate(model: nn.Module, data: Any) -> dict[str, float]:
    """Top-1 accuracy on a dataset of (image, label)."""
    model.eval()
    images, labels = data.tensors if hasattr(data, "tensors") else data
    return {"accuracy": (model(images).argmax(-1) == labels).float().mean().item()}
'''

_CARD = '''\
# __TITLE__ (`__NAME__`)

The method card: the conformance kit checks that the five sections below exist; `zoo info __NAME__ --card`
prints this file. Replace every line with your method's (docs/plugins.md in zoo explains each section).

## Paper

Author, A. and Author, B. *Title of the paper.* Venue, year. https://example.org/your-paper
Code licence: Apache-2.0. Weights released under the same licence.

## What is implemented

| component | file |
|---|---|
| declaration (variants, inputs, options) | `__PKG__/__init__.py` |
| variant configs (`tiny`, `paper`) | `__PKG__/config.py` |
| network | `__PKG__/model.py` |
| data (scikit-learn digits) | `__PKG__/data.py` |
| loss and training recipe (shared trainer) | `__PKG__/train.py` |
| inference (`top_k`) and evaluation (accuracy) | `__PKG__/infer.py` |

## Deviations

| paper says | here | why |
|---|---|---|
| (what the paper does) | (what this code does instead) | (the reason: data not available offline, CPU budget, ...) |

## Measured here

| figure | value | command | paper's value |
|---|---|---|---|
| top-1 accuracy, digits test split (headline) | (fill in) | `zoo train __NAME__-tiny --data digits --out runs/__NAME__` | (the paper's figure, or "-") |

## Mutation score

Mutants tried / killed on the defining modules (`__PKG__/train.py`, `__PKG__/model.py`), with the command that
ran them: (fill in).
'''

_TEST = '''\
"""Tests of the __NAME__ plugin: the zoo conformance kit, one real experiment, and the paper's sizes."""
from __future__ import annotations

import zoo
import zoo.testing


def test_conforms_to_the_zoo_contract() -> None:
    report = zoo.testing.check_method("__NAME__")  # declaration, configs, build, infer, bad inputs, weights, card
    assert "method card has the five sections" in report.checks


def test_training_beats_chance_on_the_digits() -> None:
    model = zoo.build("__NAME__-tiny", seed=0)
    test = zoo.make_data(model, "digits", "test")
    before = zoo.evaluate(model, test)["accuracy"]
    zoo.train(model, zoo.make_data(model, "digits", "train"), steps=150, seed=0, progress=False)
    after = zoo.evaluate(model, test)["accuracy"]
    assert after > 0.8 and after > before + 0.3  # 10 classes: chance is 0.1


def test_typed_options_reach_inference() -> None:
    model = zoo.build("__NAME__-tiny", seed=0)
    out = zoo.infer(model, zoo.example_inputs(model), top_k=2)
    assert out["top_classes"].shape == (2, 2)


def test_paper_variant_sizes() -> None:
    config = zoo.get_config("__NAME__-paper")
    features = config.in_channels * config.image_size ** 2
    expected = features * config.hidden + config.hidden + config.hidden * config.num_classes + config.num_classes
    model = zoo.build("__NAME__-paper")
    assert sum(p.numel() for p in model.parameters()) == expected
'''


def names(method: str) -> dict[str, str]:
    """The names a new plugin uses: method, package, distribution and model class.

    Raises:
        ConfigError: ``method`` is not a valid method name (lower-case words joined by hyphens).
    """
    if not is_method_name(method) or "_" in method:
        raise ConfigError(f"plugin name {method!r} must be lower-case words joined by hyphens (e.g. 'demo-method')")
    package = "zoo_" + method.replace("-", "_")
    if keyword.iskeyword(package) or not package.isidentifier():
        raise ConfigError(f"plugin name {method!r} does not give a valid Python package name ({package!r})")
    words = method.split("-")
    return {
        "__NAME__": method,
        "__PKG__": package,
        "__DIST__": "zoo-" + method,
        "__CLASS__": "".join(w[:1].upper() + w[1:] for w in words) + ("Net" if words[-1] != "net" else ""),
        "__TITLE__": " ".join(words).capitalize(),
    }


def render(method: str) -> dict[str, str]:
    """The files of the new distribution, as ``{relative path: text}``."""
    values = names(method)
    package = values["__PKG__"]
    templates = {
        "pyproject.toml": _PYPROJECT,
        f"{package}/__init__.py": _INIT,
        f"{package}/config.py": _CONFIG,
        f"{package}/model.py": _MODEL,
        f"{package}/data.py": _DATA,
        f"{package}/train.py": _TRAIN,
        f"{package}/infer.py": _INFER,
        f"{package}/README.md": _CARD,
        f"tests/test_{package.removeprefix('zoo_')}.py": _TEST,
    }
    files: dict[str, str] = {}
    for path, text in templates.items():
        for token, value in values.items():
            text = text.replace(token, value)
        files[path] = text
    return files


def write(method: str, parent: Path) -> Path:
    """Write the distribution into ``parent/<method>`` (atomically) and return that folder.

    Raises:
        ConfigError: the name is invalid or the folder already exists.
    """
    from zoo.io import atomic_directory

    files = render(method)
    target = Path(parent) / method
    if target.exists():
        raise ConfigError(f"{target} already exists; choose another --dir or remove it")
    with atomic_directory(target) as tmp:
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return target
