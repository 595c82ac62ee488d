"""Bundled digits, synthetic images (learnable) and the dataset-layout helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from zoo.data import layout
from zoo.data.digits import load_digits_split
from zoo.data.synthetic import available, make
from zoo.data.synthetic.images import make_images
from zoo.engines.trainer import Recipe, fit
from zoo.errors import ConfigError, DataError
from zoo.metrics import accuracy
from zoo.options import TrainOptions


def test_digits_split_is_fixed_stratified_and_disjoint() -> None:
    train, test = load_digits_split("train"), load_digits_split("test")
    assert len(train) + len(test) == 1797 and len(load_digits_split("all")) == 1797
    assert abs(len(test) - 0.25 * 1797) < 1
    image, label = train[0]
    assert image.shape == (1, 8, 8) and image.dtype == torch.float32 and label.dtype == torch.int64
    assert 0.0 <= float(train.images.min()) and float(train.images.max()) <= 1.0
    # stratified: every class keeps its share in the test split (within one image)
    all_counts = np.bincount(load_digits_split("all").labels.numpy(), minlength=10)
    test_counts = np.bincount(test.labels.numpy(), minlength=10)
    assert np.all(np.abs(test_counts - 0.25 * all_counts) <= 1)
    # disjoint: no test image appears in train
    train_rows = {tuple(r) for r in train.images.flatten(1).numpy().round(4).tolist()}
    overlap = sum(tuple(r) in train_rows for r in test.images.flatten(1).numpy().round(4).tolist())
    assert overlap <= 2  # the digits set itself holds a couple of exact duplicates
    assert torch.equal(load_digits_split("test").labels, test.labels)  # fixed
    assert not torch.equal(load_digits_split("test", seed=1).labels, test.labels)
    with pytest.raises(ConfigError, match="split"):
        load_digits_split("val")


def test_synthetic_images_are_seeded_balanced_and_learnable() -> None:
    assert "images" in available()
    data = make("images", 256, seed=0, num_classes=4, size=12)
    again = make_images(256, seed=0, num_classes=4, size=12)
    assert torch.equal(data.images, again.images) and torch.equal(data.labels, again.labels)
    assert torch.bincount(data.labels).tolist() == [64, 64, 64, 64]
    # the class is not in any single pixel nor in the class-mean image (a linear probe scores ~chance)
    means = torch.stack([data.images[data.labels == c].mean(0) for c in range(4)])
    assert means.abs().max() < 0.25
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 4),
    )
    loss_fn = lambda m, b: nn.functional.cross_entropy(m(b[0]), b[1])  # noqa: E731
    result = fit(model, data, loss_fn, Recipe(steps=60, batch_size=32, lr=1e-2), TrainOptions(progress=False))
    test = make_images(200, seed=1, num_classes=4, size=12)
    with torch.no_grad():
        acc = accuracy(model(test.images), test.labels)
    assert acc > 0.8, acc  # chance 0.25; a linear probe on the pixels scores ~0.27
    assert np.mean(result.history["loss"][-10:]) < 0.7 * np.mean(result.history["loss"][:10])
    rgb = make_images(8, seed=0, channels=3)
    assert rgb.images.shape == (8, 3, 16, 16)
    with pytest.raises(ConfigError):
        make_images(0)
    with pytest.raises(ConfigError, match="available"):
        make("no-such-task", 4)


def test_layout_helpers_name_the_file_and_the_expectation(tmp_path: Path) -> None:
    from PIL import Image

    with pytest.raises(DataError, match=r"dataset folder .*missing.* does not exist; expected class folders"):
        layout.require_dir(tmp_path / "missing", "class folders")
    (tmp_path / "labels.csv").write_text("path,label\na.png,1\nb.png,x\n")
    with pytest.raises(DataError, match=r"labels\.csv, line 3, column 'label': expected int, got 'x'"):
        layout.read_csv(tmp_path / "labels.csv", ["path", "label"], types={"label": int})
    with pytest.raises(
        DataError, match=r"has no column 'valence' \(expected columns: path, valence; found: path, label\)"
    ):
        layout.read_csv(tmp_path / "labels.csv", ["path", "valence"])
    (tmp_path / "short.csv").write_text("path,label\na.png\n")
    with pytest.raises(DataError, match=r"short\.csv, line 2: expected 2 fields"):
        layout.read_csv(tmp_path / "short.csv", ["path", "label"])
    (tmp_path / "ok.csv").write_text("path,label\na.png,1\n")
    assert layout.read_csv(tmp_path / "ok.csv", ["path", "label"], types={"label": int}) == [
        {"path": "a.png", "label": 1}
    ]
    (tmp_path / "meta.json").write_text(json.dumps({"classes": []}))
    with pytest.raises(DataError, match=r"meta\.json lacks key 'splits'"):
        layout.read_json(tmp_path / "meta.json", dict, ["classes", "splits"])
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(DataError, match=r"bad\.json is not valid JSON"):
        layout.read_json(tmp_path / "bad.json")
    with pytest.raises(DataError, match=r"empty\.bin is missing; expected 3072-byte records"):
        layout.require_file(tmp_path, "empty.bin", "3072-byte records")
    (tmp_path / "zero.bin").write_bytes(b"")
    with pytest.raises(DataError, match="is empty"):
        layout.require_file(tmp_path, "zero.bin")

    root = tmp_path / "folder"
    for cls, colour in (("cat", 10), ("dog", 200)):
        (root / cls).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (5, 4), (colour, 0, 0)).save(root / cls / f"{i}.png")
    items, classes = layout.image_folder(root)
    assert classes == ["cat", "dog"] and [c for _, c in items] == [0, 0, 1, 1]
    tensor = layout.image_to_tensor(layout.load_image(items[2][0]))
    assert tensor.shape == (3, 4, 5) and tensor[0, 0, 0].item() == pytest.approx(200 / 255)
    (root / "dog" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"broken\.png cannot be decoded"):
        layout.load_image(root / "dog" / "broken.png")
    (root / "empty").mkdir()
    with pytest.raises(DataError, match=r"holds no images of class 'empty'"):
        layout.image_folder(root)
