"""LDL-VA data: face sets with labels and valence-arousal (synthetic, or RAF-DB on disk), label-noise injection,
and the neighbour view that hands each training face its K VA-neighbours.

RAF-DB layouts accepted (``load_rafdb``):

1. the authors' csv layout: ``ROOT/raf_train.csv`` (or ``train.csv``) and ``ROOT/test.csv`` with columns
   ``subDirectory_filePath, expression, valence, arousal`` (a ``knn`` column, if present, is ignored: neighbours are
   recomputed with ``ops.l2_topk``), images under ``ROOT/aligned/``; ``expression`` is in :data:`LDL_CLASSES` order;
2. the official release: ``ROOT/EmoLabel/list_patition_label.txt`` (lines ``train_00001.jpg 5``, RAF labels 1-7 =
   Surprise, Fear, Disgust, Happiness, Sadness, Anger, Neutral) and ``ROOT/Image/aligned/<stem>_aligned.jpg``;
   valence-arousal (RAF-DB has none; the paper uses pseudo-labels) from ``ROOT/EmoLabel/va.csv`` with columns
   ``image, valence, arousal`` (required for the training split).

Anything missing or malformed raises :class:`zoo.errors.DataError` naming the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from zoo.data import layout
from zoo.errors import ConfigError, DataError
from zoo_plugins.ldl_va.config import LDL_CLASSES, LDLVAConfig

#: RAF-DB's own label numbering (1-based) mapped to class names.
RAF_LABELS: dict[int, str] = {1: "Surprise", 2: "Fear", 3: "Disgust", 4: "Happy", 5: "Sad", 6: "Anger", 7: "Neutral"}


class FaceSet(Dataset):
    """Faces with labels and valence-arousal. Items: ``face`` (3, S, S), ``label``, ``clean_label``, ``va`` (2,),
    ``index``. ``faces`` is a tensor (N, 3, S, S) for in-memory sets; file-backed sets load lazily."""

    def __init__(self, labels: torch.Tensor, va: torch.Tensor | None, class_names: tuple[str, ...], *,
                 faces: torch.Tensor | None = None, paths: list[Path] | None = None, image_size: int = 0,
                 clean_labels: torch.Tensor | None = None) -> None:
        if faces is None and paths is None:
            raise ConfigError("FaceSet needs in-memory faces or image paths")
        self.faces = faces
        self.paths = paths
        self.image_size = image_size
        self.labels = labels.long()
        self.clean_labels = (clean_labels if clean_labels is not None else labels).long()
        self.va = va.float() if va is not None else None
        self.class_names = class_names
        self.num_classes = len(class_names)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def face(self, i: int) -> torch.Tensor:
        """The face image ``i`` (3, S, S) in [0, 1]."""
        if self.faces is not None:
            return self.faces[i]
        assert self.paths is not None
        image = layout.load_image(self.paths[i])
        return layout.image_to_tensor(image, (self.image_size, self.image_size))

    def __getitem__(self, i: int) -> dict[str, Any]:
        va = self.va[i] if self.va is not None else torch.full((2,), float("nan"))
        return {"face": self.face(i), "label": self.labels[i], "clean_label": self.clean_labels[i], "va": va,
                "index": torch.tensor(i, dtype=torch.long)}

    def with_labels(self, labels: torch.Tensor) -> FaceSet:
        """The same faces with other (e.g. noisy) labels; ``clean_labels`` is kept."""
        return FaceSet(labels, self.va, self.class_names, faces=self.faces, paths=self.paths,
                       image_size=self.image_size, clean_labels=self.clean_labels)

    @property
    def noise_rate(self) -> float:
        """Fraction of labels that differ from the clean ones."""
        return float((self.labels != self.clean_labels).float().mean())


def inject_label_noise(data: FaceSet, rate: float, seed: int = 0) -> FaceSet:
    """Flip ``round(rate * n)`` labels to a uniformly drawn other class (the paper's synthetic-noise protocol)."""
    from zoo.data.synthetic.faces_in_context import flip_labels

    if rate <= 0:
        return data
    g = torch.Generator().manual_seed(10_007 + seed)
    return data.with_labels(flip_labels(data.clean_labels, rate, data.num_classes, g))


class WithNeighbours(Dataset):
    """A training set whose item ``i`` also carries ``neighbour_faces`` (K, 3, S, S) and ``similarity`` (K,)."""

    def __init__(self, base: FaceSet, index: torch.Tensor, similarity: torch.Tensor) -> None:
        self.base = base
        self.index = index
        self.similarity = similarity

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int) -> dict[str, Any]:
        item = self.base[i]
        nb = self.index[i]
        if self.base.faces is not None:
            item["neighbour_faces"] = self.base.faces[nb]
        else:
            item["neighbour_faces"] = torch.stack([self.base.face(int(j)) for j in nb])
        item["similarity"] = self.similarity[i]
        return item


def synthetic(config: LDLVAConfig, split: str, seed: int = 0) -> FaceSet:
    """Synthetic faces (the face crops of ``faces_in_context``; 10 % show another class than their clean one) with
    valence-arousal from ``config.va_source``: ``independent`` = pseudo-VA of a regressor fitted on a separate
    annotated set and applied to these faces' pixels (:mod:`zoo.data.synthetic.pseudo_va`), ``clean`` = drawn
    around the clean class. The training split gets ``config.label_noise`` flipped labels."""
    from zoo.data.synthetic.faces_in_context import make_faces_in_context

    if split not in ("train", "val", "test"):
        raise ConfigError(f"synthetic split must be train, val or test, got {split!r}")
    n = config.train_size if split == "train" else config.test_size
    offset = {"train": 0, "val": 1, "test": 2}[split]
    faces = dict(num_classes=config.num_classes, class_names=config.class_names, scene_size=16,
                 face_size=config.image_size, face_ambiguity=0.1, context_ambiguity=0.0, distractors=0,
                 pixel_noise=0.15)
    raw = make_faces_in_context(n, seed=seed * 10 + offset, **faces)
    va = raw.va
    if config.va_source == "independent":
        from zoo.data.synthetic.pseudo_va import annotate

        va = annotate(raw.faces, seed=seed, **faces)
    data = FaceSet(raw.clean_labels, va, tuple(config.class_names), faces=raw.faces)
    return inject_label_noise(data, config.label_noise, config.noise_seed) if split == "train" else data


def _csv_layout(root: Path, split: str, config: LDLVAConfig) -> FaceSet:
    names = ("raf_train.csv", "train.csv") if split == "train" else ("test.csv",)
    csv_path = next((root / n for n in names if (root / n).is_file()), root / names[0])
    columns = ("subDirectory_filePath", "expression", "valence", "arousal")
    rows = layout.read_csv(layout.require_file(root, csv_path.name, f"a csv with columns {', '.join(columns)}"),
                           columns, types={"expression": int, "valence": float, "arousal": float})
    images = layout.require_dir(root / "aligned", "the aligned face images named in the csv")
    paths, labels, va = [], [], []
    for line, row in enumerate(rows, start=2):
        if not 0 <= row["expression"] < config.num_classes:
            raise DataError(f"dataset file {csv_path}, line {line}: expression {row['expression']} is not a class "
                            f"index 0..{config.num_classes - 1} ({', '.join(config.class_names)})")
        paths.append(layout.require_file(images, row["subDirectory_filePath"], f"the face image of line {line}"))
        labels.append(row["expression"])
        va.append((row["valence"], row["arousal"]))
    return FaceSet(torch.tensor(labels), torch.tensor(va), tuple(config.class_names), paths=paths,
                   image_size=config.image_size)


def _official_layout(root: Path, split: str, config: LDLVAConfig) -> FaceSet:
    label_file = layout.require_file(root, "EmoLabel/list_patition_label.txt",
                                     "lines '<split>_<n>.jpg <label 1-7>'")
    lookup = {name: i for i, name in enumerate(config.class_names)}
    images = layout.require_dir(root / "Image" / "aligned", "the aligned faces <stem>_aligned.jpg")
    names, labels = [], []
    for line, text in enumerate(label_file.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        parts = text.split()
        if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) not in RAF_LABELS:
            raise DataError(f"dataset file {label_file}, line {line}: expected '<name>.jpg <label 1-7>', got "
                            f"{text[:60]!r}")
        if parts[0].startswith(split + "_"):
            names.append(parts[0])
            labels.append(lookup[RAF_LABELS[int(parts[1])]])
    if not names:
        raise DataError(f"dataset file {label_file} lists no '{split}_*' images")
    paths = [layout.require_file(images, Path(n).stem + "_aligned.jpg", f"the aligned face of {n}") for n in names]
    va = None
    va_file = root / "EmoLabel" / "va.csv"
    if va_file.is_file() or (split == "train" and config.loss == "ldl"):
        rows = layout.read_csv(layout.require_file(root, "EmoLabel/va.csv",
                                                   "pseudo valence-arousal, columns image, valence, arousal "
                                                   "(RAF-DB has none; LDL-VA needs them for training)"),
                               ("image", "valence", "arousal"), types={"valence": float, "arousal": float})
        table = {r["image"]: (r["valence"], r["arousal"]) for r in rows}
        missing = [n for n in names if n not in table]
        if missing and split == "train":
            raise DataError(f"dataset file {va_file} has no valence-arousal for {missing[0]} "
                            f"({len(missing)} of the {split} images lack one)")
        va = torch.tensor([table.get(n, (float("nan"), float("nan"))) for n in names])
    return FaceSet(torch.tensor(labels), va, tuple(config.class_names), paths=paths, image_size=config.image_size)


def load_rafdb(root: str | Path, split: str, config: LDLVAConfig) -> FaceSet:
    """RAF-DB in either layout (module docstring); the training split gets ``config.label_noise`` flips."""
    if split not in ("train", "test"):
        raise DataError(f"RAF-DB has splits train and test; got {split!r}")
    if tuple(config.class_names) != LDL_CLASSES:
        raise ConfigError(f"RAF-DB loading needs the class order {LDL_CLASSES}, the config has {config.class_names}")
    base = layout.require_dir(root, "RAF-DB: raf_train.csv/test.csv + aligned/, or EmoLabel/ + Image/aligned/")
    if (base / "EmoLabel").is_dir():
        data = _official_layout(base, split, config)
    else:
        data = _csv_layout(base, split, config)
    return inject_label_noise(data, config.label_noise, config.noise_seed) if split == "train" else data


def make_data(config: LDLVAConfig, source: str, split: str) -> FaceSet:
    """``synthetic``, ``rafdb:PATH`` or a RAF-DB PATH."""
    if source == "synthetic":
        return synthetic(config, split)
    kind, sep, path = source.partition(":")
    if sep and kind.lower() in ("rafdb", "raf-db"):
        return load_rafdb(path, split, config)
    return load_rafdb(source, split, config)
