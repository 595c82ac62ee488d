"""RAF-DB loaders (the authors' csv layout and the official release) on small fixtures; DataError names the file."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import zoo
from zoo.errors import DataError
from zoo_plugins.ldl_va.data import load_rafdb


def _image(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.random.default_rng(seed).random((40, 40, 3)) * 255).astype(np.uint8)).save(path)


def make_csv_layout(root: Path) -> None:
    """``raf_train.csv`` / ``test.csv`` + ``aligned/`` (expression in the code's class order)."""
    header = "subDirectory_filePath,expression,valence,arousal,knn\n"
    train = [f"train_{i}.jpg,{i % 7},{0.1 * i:.2f},{-0.05 * i:.2f},1;2\n" for i in range(8)]
    test = [f"test_{i}.jpg,{(i + 3) % 7},0.0,0.0,\n" for i in range(3)]
    (root / "raf_train.csv").write_text(header + "".join(train))
    (root / "test.csv").write_text(header + "".join(test))
    for i in range(8):
        _image(root / "aligned" / f"train_{i}.jpg", i)
    for i in range(3):
        _image(root / "aligned" / f"test_{i}.jpg", 10 + i)


def make_official_layout(root: Path, with_va: bool = True) -> None:
    """``EmoLabel/list_patition_label.txt`` (RAF labels 1-7) + ``Image/aligned/`` (+ ``EmoLabel/va.csv``)."""
    (root / "EmoLabel").mkdir(parents=True)
    lines = [f"train_{i:05d}.jpg {i % 7 + 1}" for i in range(1, 7)] + ["test_00001.jpg 7", "test_00002.jpg 4"]
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    for line in lines:
        _image(root / "Image" / "aligned" / line.split()[0].replace(".jpg", "_aligned.jpg"), len(line))
    if with_va:
        rows = [f"{line.split()[0]},{0.1 * k:.2f},0.2\n" for k, line in enumerate(lines)]
        (root / "EmoLabel" / "va.csv").write_text("image,valence,arousal\n" + "".join(rows))


def test_csv_layout(tmp_path: Path) -> None:
    make_csv_layout(tmp_path)
    config = zoo.get_config("ldl-va-tiny")
    train = load_rafdb(tmp_path, "train", config)
    assert len(train) == 8 and train.labels.tolist() == [0, 1, 2, 3, 4, 5, 6, 0]
    torch.testing.assert_close(train.va[3], torch.tensor([0.3, -0.15]))
    item = train[2]
    assert item["face"].shape == (3, 32, 32) and 0 <= float(item["face"].min()) <= float(item["face"].max()) <= 1
    test = zoo.make_data("ldl-va-tiny", f"rafdb:{tmp_path}", "test")
    assert test.labels.tolist() == [3, 4, 5]


def test_official_layout_maps_raf_labels_to_the_class_order(tmp_path: Path) -> None:
    make_official_layout(tmp_path)
    config = zoo.get_config("ldl-va-tiny")
    train = load_rafdb(tmp_path, "train", config)
    # RAF 2..7 = Fear, Disgust, Happiness, Sadness, Anger, Neutral, in the order
    # Neutral, Happy, Sad, Surprise, Fear, Disgust, Anger
    assert train.labels.tolist() == [4, 5, 1, 2, 6, 0]
    test = load_rafdb(tmp_path, "test", config)
    assert test.labels.tolist() == [0, 1]  # Neutral, Happy
    noisy = load_rafdb(tmp_path, "train", zoo.get_config("ldl-va-tiny", label_noise=0.5))
    assert int((noisy.labels != noisy.clean_labels).sum()) == 3


def test_official_layout_without_va_cannot_train_ldl(tmp_path: Path) -> None:
    make_official_layout(tmp_path, with_va=False)
    with pytest.raises(DataError, match=r"EmoLabel/va\.csv is missing"):
        load_rafdb(tmp_path, "train", zoo.get_config("ldl-va-tiny"))
    assert len(load_rafdb(tmp_path, "test", zoo.get_config("ldl-va-tiny"))) == 2  # no VA needed to test
    assert len(load_rafdb(tmp_path, "train", zoo.get_config("ldl-va-tiny", loss="ce"))) == 6


@pytest.mark.parametrize("breakage, match", [
    ("missing_image", r"aligned/train_3\.jpg is missing"),
    ("bad_expression", r"raf_train\.csv, line 3: expression 9"),
    ("bad_valence", r"raf_train\.csv, line 2, column 'valence'"),
    ("no_column", r"raf_train\.csv has no column 'arousal'"),
])
def test_broken_csv_layout_raises_data_error_naming_the_file(tmp_path: Path, breakage: str, match: str) -> None:
    make_csv_layout(tmp_path)
    csv = tmp_path / "raf_train.csv"
    lines = csv.read_text().splitlines()
    if breakage == "missing_image":
        (tmp_path / "aligned" / "train_3.jpg").unlink()
    elif breakage == "bad_expression":
        lines[2] = "train_1.jpg,9,0.1,0.1,"
    elif breakage == "bad_valence":
        lines[1] = "train_0.jpg,0,high,0.1,"
    else:
        lines = [line.rsplit(",", 2)[0] for line in lines]
    if breakage != "missing_image":
        csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=match):
        load_rafdb(tmp_path, "train", zoo.get_config("ldl-va-tiny"))


def test_broken_official_label_file(tmp_path: Path) -> None:
    make_official_layout(tmp_path)
    (tmp_path / "EmoLabel" / "list_patition_label.txt").write_text("train_00001.jpg 9\n")
    with pytest.raises(DataError, match=r"list_patition_label\.txt, line 1"):
        load_rafdb(tmp_path, "train", zoo.get_config("ldl-va-tiny"))


def test_corrupt_image_raises_when_read(tmp_path: Path) -> None:
    make_csv_layout(tmp_path)
    (tmp_path / "aligned" / "train_1.jpg").write_bytes(b"not an image")
    data = load_rafdb(tmp_path, "train", zoo.get_config("ldl-va-tiny"))
    with pytest.raises(DataError, match=r"train_1\.jpg cannot be decoded"):
        data[1]


# ------------------------------------------------------------------------------------------------ fidelity pass
def test_synthetic_valence_arousal_comes_from_an_independent_model_of_the_faces() -> None:
    """The paper's pseudo-VA come from a separate regressor applied to the images. Here the default synthetic VA is
    predicted from the face pixels by a regressor fitted on an auxiliary annotated set: a face that SHOWS another
    class than its clean one gets VA near what it shows, and the training labels never enter."""
    import dataclasses

    from zoo.data.synthetic.faces_in_context import VA_CENTRES, make_faces_in_context
    from zoo.data.synthetic.pseudo_va import annotate
    from zoo_plugins.ldl_va.config import tiny
    from zoo_plugins.ldl_va.data import synthetic

    config = dataclasses.replace(tiny(), train_size=280, label_noise=0.3)
    assert config.va_source == "independent"
    data = synthetic(config, "train")
    kwargs = dict(num_classes=7, class_names=config.class_names, scene_size=16, face_size=config.image_size,
                  face_ambiguity=0.1, context_ambiguity=0.0, distractors=0, pixel_noise=0.15)
    raw = make_faces_in_context(280, seed=0, **kwargs)
    assert torch.equal(raw.faces, data.faces) and torch.equal(raw.clean_labels, data.clean_labels)
    centres = torch.tensor([VA_CENTRES[n] for n in config.class_names])
    shown = (data.va - centres[raw.face_classes]).norm(dim=1)
    clean = (data.va - centres[raw.clean_labels]).norm(dim=1)
    ambiguous = raw.face_classes != raw.clean_labels
    assert int(ambiguous.sum()) >= 15
    assert float(shown[ambiguous].mean()) < 0.5 * float(clean[ambiguous].mean())  # what the face shows
    assert float(shown.mean()) < 0.2
    # a function of the pixels only: other labels, same faces -> same VA
    assert torch.allclose(annotate(raw.faces, seed=0, **kwargs), data.va)
    old = synthetic(dataclasses.replace(config, va_source="clean"), "train")
    assert float((old.va - centres[raw.clean_labels]).norm(dim=1)[ambiguous].mean()) < 0.3  # built in before
