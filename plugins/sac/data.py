"""Data for SAC: scikit-learn digits (bundled), and loaders for the three fine-grained datasets' on-disk layouts.

Every dataset is map-style, yields ``(image [C, H, W] float, label int)`` and carries ``class_names`` (the class
names are part of the dataset: SAC embeds them). Layouts (``root`` may be the dataset folder or its parent):

- **CUB-200-2011** (``CUB_200_2011/``): ``classes.txt`` (``1 001.Black_footed_Albatross``), ``images.txt``
  (``1 001.Black_footed_Albatross/x.jpg``), ``image_class_labels.txt`` (``1 1``), ``train_test_split.txt``
  (``1 1`` = train, ``1 0`` = test), ``images/``.
- **Stanford Dogs**: ``Images/n02085620-Chihuahua/*.jpg`` and ``lists/train_list.mat`` / ``lists/test_list.mat``
  (MATLAB files with ``file_list`` and 1-based ``labels``).
- **FGVC-Aircraft** (``fgvc-aircraft-2013b/``): ``data/variants.txt``, ``data/images_variant_{split}.txt``
  (``1025794 707-320``), ``data/images/<id>.jpg``; optional ``data/images_manufacturer_{split}.txt`` adds the
  manufacturer to the class name (``Boeing 707-320``). Split ``train`` means ``trainval`` (the 6,667 training images
  the papers report); ``val`` and ``trainval`` are accepted too.

A missing or malformed file raises :class:`zoo.errors.DataError` naming the file (and the line).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from zoo.errors import ConfigError, DataError
from zoo_plugins.sac.config import DIGIT_NAMES, SACConfig

Sample = tuple[Path, int]
LAYOUTS: tuple[str, ...] = ("cub", "dogs", "aircraft")


# ------------------------------------------------------------------------------------------------ datasets


class ImageFolderDataset(Dataset):
    """Images listed by a dataset's index files, decoded with PIL and transformed on access."""

    def __init__(self, samples: list[Sample], class_names: tuple[str, ...],
                 transform: Callable[[Any], torch.Tensor], mode: str = "RGB") -> None:
        self.samples = samples
        self.class_names = class_names
        self.transform = transform
        self.mode = mode

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Decode, convert (``RGB``/``L``) and transform the image at ``index``."""
        from PIL import Image, UnidentifiedImageError

        path, label = self.samples[index]
        try:
            with Image.open(path) as image:
                picture = image.convert(self.mode)
        except (OSError, UnidentifiedImageError) as exc:
            raise DataError(f"{path}: cannot read the image ({exc})") from exc
        return self.transform(picture), label


class TensorImageDataset(Dataset):
    """Images already held as one tensor ``[N, C, H, W]`` with labels ``[N]`` and class names."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, class_names: tuple[str, ...]) -> None:
        if images.shape[0] != labels.shape[0]:
            raise DataError(f"{images.shape[0]} images but {labels.shape[0]} labels")
        self.images = images
        self.labels = labels
        self.class_names = class_names

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index], int(self.labels[index])


def digits(split: str, seed: int = 0) -> TensorImageDataset:
    """scikit-learn's digits (``zoo.data.digits``: ``[N, 1, 8, 8]`` in [0, 1], stratified 75/25 split fixed by
    ``seed``) with the class names ``zero``..``nine``."""
    if split not in ("train", "test"):
        raise ConfigError(f"digits has splits 'train' and 'test', got {split!r}")
    from zoo.data.digits import load_digits_split

    part = load_digits_split(split, seed=seed)
    return TensorImageDataset(part.images, part.labels.long(), DIGIT_NAMES)


# ------------------------------------------------------------------------------------------------ file helpers


def _require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DataError(f"{path} is missing ({what})")
    return path


def _read_rows(path: Path, fields: int, what: str) -> list[tuple[int, list[str]]]:
    """Non-empty lines of a whitespace-separated index file split into ``fields`` parts (the last keeps spaces)."""
    _require_file(path, what)
    rows = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.strip().split(maxsplit=fields - 1)
        if len(parts) != fields:
            raise DataError(f"{path}:{line_no}: expected {fields} fields ({what}), got {line.strip()!r}")
        rows.append((line_no, parts))
    if not rows:
        raise DataError(f"{path} is empty ({what})")
    return rows


def _int(value: str, path: Path, line_no: int, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DataError(f"{path}:{line_no}: {what} must be an integer, got {value!r}") from None


def _check_images(samples: list[Sample]) -> None:
    for path, _ in samples:
        if not path.is_file():
            raise DataError(f"{path} is missing (an image listed by the dataset's index files)")


def _split_name(split: str, allowed: tuple[str, ...], dataset: str) -> str:
    if split not in allowed:
        raise ConfigError(f"{dataset} has splits {allowed}, got {split!r}")
    return split


# ------------------------------------------------------------------------------------------------ CUB-200-2011


def load_cub(root: str | Path, split: str) -> tuple[list[Sample], tuple[str, ...]]:
    """``(samples, class_names)`` of CUB-200-2011's ``train`` or ``test`` split."""
    _split_name(split, ("train", "test"), "CUB-200-2011")
    base = Path(root)
    if (base / "CUB_200_2011").is_dir():
        base = base / "CUB_200_2011"
    classes = _read_rows(base / "classes.txt", 2, "'<class id> <class name>' per line")
    ids = [_int(p[0], base / "classes.txt", n, "class id") for n, p in classes]
    if sorted(ids) != list(range(1, len(ids) + 1)):
        raise DataError(f"{base / 'classes.txt'}: class ids must be 1..{len(ids)}, got {sorted(ids)[:5]}...")
    by_id = {i: p[1] for i, (_, p) in zip(ids, classes)}
    names = tuple(by_id[i] for i in range(1, len(ids) + 1))
    images = {p[0]: (n, p[1]) for n, p in _read_rows(base / "images.txt", 2, "'<image id> <relative path>'")}
    labels_file = base / "image_class_labels.txt"
    labels = {p[0]: (n, p[1]) for n, p in _read_rows(labels_file, 2, "'<image id> <class id>'")}
    split_file = base / "train_test_split.txt"
    wanted = "1" if split == "train" else "0"
    samples: list[Sample] = []
    for line_no, (image_id, flag) in _read_rows(split_file, 2, "'<image id> <1 train | 0 test>'"):
        if flag not in ("0", "1"):
            raise DataError(f"{split_file}:{line_no}: the split flag must be 0 or 1, got {flag!r}")
        if flag != wanted:
            continue
        if image_id not in images:
            raise DataError(f"{split_file}:{line_no}: image id {image_id} is not in {base / 'images.txt'}")
        if image_id not in labels:
            raise DataError(f"{split_file}:{line_no}: image id {image_id} has no label in {labels_file}")
        n, cls = labels[image_id]
        label = _int(cls, labels_file, n, "class id")
        if label not in by_id:
            raise DataError(f"{labels_file}:{n}: class id {label} is not in {base / 'classes.txt'}")
        samples.append((base / "images" / images[image_id][1], label - 1))
    _check_images(samples)
    return samples, names


# ------------------------------------------------------------------------------------------------ Stanford Dogs


def _mat_strings(value: Any) -> list[str]:
    """Strings of a MATLAB cell array as scipy loads it (nested object arrays)."""
    import numpy as np

    out = []
    for item in np.asarray(value, dtype=object).ravel():
        cell = np.asarray(item).ravel()
        if cell.size != 1:
            raise ValueError(f"expected one string per cell, got {cell!r}")
        out.append(str(cell[0]))
    return out


def dog_class_name(folder: str) -> str:
    """``n02085782-Japanese_spaniel`` -> ``Japanese spaniel``."""
    name = folder.split("-", 1)[1] if folder.startswith("n") and "-" in folder else folder
    return name.replace("_", " ")


def load_stanford_dogs(root: str | Path, split: str) -> tuple[list[Sample], tuple[str, ...]]:
    """``(samples, class_names)`` of Stanford Dogs' ``train`` (12,000) or ``test`` (8,580) list."""
    _split_name(split, ("train", "test"), "Stanford Dogs")
    import numpy as np
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    base = Path(root)
    list_file = _require_file(base / "lists" / f"{split}_list.mat", "MATLAB file with 'file_list' and 'labels'")
    try:
        mat = loadmat(str(list_file))
        files = _mat_strings(mat["file_list"])
        labels = [int(v) for v in np.asarray(mat["labels"]).ravel()]
    except KeyError as exc:
        raise DataError(f"{list_file}: missing variable {exc} (expected 'file_list' and 'labels')") from None
    except (ValueError, TypeError, OSError, MatReadError, NotImplementedError) as exc:
        raise DataError(f"{list_file}: not a readable MATLAB list ({exc})") from None
    if len(files) != len(labels) or not files:
        raise DataError(f"{list_file}: {len(files)} files but {len(labels)} labels (expected equal, non-zero)")
    images_dir = base / "Images"
    if not images_dir.is_dir():
        raise DataError(f"{images_dir} is missing (one folder per breed, e.g. n02085620-Chihuahua/)")
    folders = sorted(p.name for p in images_dir.iterdir() if p.is_dir())
    names = tuple(dog_class_name(f) for f in folders)
    samples: list[Sample] = []
    for file, label in zip(files, labels):
        folder = file.split("/", 1)[0]
        if not 1 <= label <= len(folders) or folders[label - 1] != folder:
            raise DataError(f"{list_file}: entry {file!r} has label {label}, but breed folder number {label} in "
                            f"{images_dir} is {folders[label - 1] if 1 <= label <= len(folders) else 'absent'}")
        samples.append((images_dir / file, label - 1))
    _check_images(samples)
    return samples, names


# ------------------------------------------------------------------------------------------------ FGVC-Aircraft


def load_fgvc_aircraft(root: str | Path, split: str) -> tuple[list[Sample], tuple[str, ...]]:
    """``(samples, class_names)`` of FGVC-Aircraft's variants; ``train`` is ``trainval`` (6,667 images)."""
    _split_name(split, ("train", "trainval", "val", "test"), "FGVC-Aircraft")
    official = "trainval" if split == "train" else split
    base = Path(root)
    if (base / "fgvc-aircraft-2013b").is_dir():
        base = base / "fgvc-aircraft-2013b"
    data = base / "data" if (base / "data").is_dir() else base
    variants_file = _require_file(data / "variants.txt", "one variant name per line")
    variants = [v.strip() for v in variants_file.read_text(encoding="utf-8").splitlines() if v.strip()]
    if not variants:
        raise DataError(f"{variants_file} is empty (one variant name per line)")
    index = {v: i for i, v in enumerate(variants)}
    list_file = data / f"images_variant_{official}.txt"
    samples: list[Sample] = []
    seen: dict[str, str] = {}
    for line_no, (image_id, variant) in _read_rows(list_file, 2, "'<image id> <variant>'"):
        if variant not in index:
            raise DataError(f"{list_file}:{line_no}: variant {variant!r} is not in {variants_file}")
        seen[image_id] = variant
        samples.append((data / "images" / f"{image_id}.jpg", index[variant]))
    names = list(variants)
    maker_file = data / f"images_manufacturer_{official}.txt"
    if maker_file.is_file():
        for line_no, (image_id, maker) in _read_rows(maker_file, 2, "'<image id> <manufacturer>'"):
            variant = seen.get(image_id)
            if variant is None:
                raise DataError(f"{maker_file}:{line_no}: image id {image_id} is not in {list_file}")
            i = index[variant]
            if not variant.lower().startswith(maker.lower()):
                names[i] = f"{maker} {variant}"
    _check_images(samples)
    return samples, tuple(names)


# ------------------------------------------------------------------------------------------------ entry point


_LOADERS: dict[str, Callable[[str | Path, str], tuple[list[Sample], tuple[str, ...]]]] = {
    "cub": load_cub, "dogs": load_stanford_dogs, "aircraft": load_fgvc_aircraft,
}


def detect_layout(root: str | Path) -> str:
    """``cub``, ``dogs`` or ``aircraft`` from the files under ``root``."""
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"{base} is not a folder (expected a CUB-200-2011, Stanford Dogs or FGVC-Aircraft root)")
    if (base / "CUB_200_2011").is_dir() or (base / "image_class_labels.txt").exists():
        return "cub"
    if (base / "lists").is_dir() or (base / "Images").is_dir():
        return "dogs"
    if (base / "fgvc-aircraft-2013b").is_dir() or (base / "data" / "variants.txt").exists() \
            or (base / "variants.txt").exists():
        return "aircraft"
    raise DataError(f"{base}: no known layout (CUB: image_class_labels.txt; Dogs: lists/ and Images/; "
                    "Aircraft: data/variants.txt)")


def build_transform(config: SACConfig, train: bool) -> Callable[[Any], torch.Tensor]:
    """Resize to ``image_size * resize_ratio``, random (train) or centre (test) crop of ``image_size``, horizontal
    flip (train), tensor, normalisation with the config's mean/std."""
    from zoo.compat import import_torchvision

    t = import_torchvision().transforms
    size = config.image_size
    resize = max(size, int(round(size * config.resize_ratio)))
    steps: list[Any] = [t.Resize((resize, resize))]
    steps += [t.RandomCrop(size), t.RandomHorizontalFlip()] if train else [t.CenterCrop(size)]
    steps += [t.ToTensor(), t.Normalize(config.mean, config.std)]
    return t.Compose(steps)


def fine_grained(root: str | Path, split: str, config: SACConfig, layout: str | None = None,
                 train_transform: bool | None = None) -> ImageFolderDataset:
    """A fine-grained dataset from disk (``layout`` detected when ``None``), transformed for ``config``."""
    kind = layout or detect_layout(root)
    if kind not in _LOADERS:
        raise ConfigError(f"unknown dataset layout {kind!r}; expected one of {LAYOUTS}")
    samples, names = _LOADERS[kind](root, split)
    augment = split in ("train", "trainval") if train_transform is None else train_transform
    mode = "L" if config.in_chans == 1 else "RGB"
    return ImageFolderDataset(samples, names, build_transform(config, augment), mode)


def make_data(config: SACConfig, source: str, split: str) -> Dataset:
    """``digits`` / ``synthetic`` (the bundled digits), or ``[cub:|dogs:|aircraft:]<path>``."""
    if source in ("digits", "synthetic"):
        if config.in_chans != 1 or config.num_classes != 10:
            raise ConfigError(f"the digits data are 1-channel with 10 classes; this config has in_chans="
                              f"{config.in_chans}, num_classes={config.num_classes} (give a dataset path instead)")
        return digits(split)
    layout, sep, path = source.partition(":")
    if sep and layout in LAYOUTS:
        return fine_grained(path, split, config, layout)
    return fine_grained(source, split, config)
