"""CFOR data: synthetic clothing for the tiny variant, and the DeepFashion (Category and Attribute) layout.

DeepFashion layout under ``ROOT``::

    Anno/list_category_cloth.txt   count, header, then "<category_name> <category_type 1|2|3>"
    Anno/list_category_img.txt     count, header, then "<image_name> <category_label 1..50>"
    Anno/list_attr_cloth.txt       count, header, then "<attribute_name ...> <attribute_type 1..5>"
    Anno/list_attr_img.txt         count, header, then "<image_name> <1|-1 x 1000>"
    Anno/list_bbox.txt             count, header, then "<image_name> x1 y1 x2 y2"
    Eval/list_eval_partition.txt   count, header, then "<image_name> train|val|test"
    img/...                        the images

Category types map to regions (1 Top, 2 Bottom, 3 Body). Attributes are kept when the ontology lists them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from zoo.errors import DataError
from zoo_plugins.cfor.ontology import Ontology

REGION_OF_TYPE = {1: "Top", 2: "Bottom", 3: "Body"}


def _table(path: Path, min_cols: int) -> list[list[str]]:
    """Rows of a DeepFashion list file (first line: count; second: header)."""
    if not path.is_file():
        raise DataError(f"missing {path}: expected a DeepFashion annotation list")
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise DataError(f"malformed {path}: the first line must be the number of entries")
    rows = [line.split() for line in lines[2:] if line.strip()]
    if len(rows) != int(lines[0]):
        raise DataError(f"malformed {path}: header says {lines[0].strip()} entries, found {len(rows)}")
    for n, row in enumerate(rows, start=3):
        if len(row) < min_cols:
            raise DataError(f"malformed {path}, line {n}: expected at least {min_cols} columns, got {row}")
    return rows


@dataclass
class DeepFashionItem:
    """One annotated image."""

    path: Path
    region: str
    category: str
    attributes: tuple[str, ...]
    box: tuple[int, int, int, int]
    split: str


def load_deepfashion(root: str | Path, ontology: Ontology) -> list[DeepFashionItem]:
    """Read the annotations of a DeepFashion Category and Attribute folder (images are opened lazily)."""
    root = Path(root)
    anno = root / "Anno"
    cats = _table(anno / "list_category_cloth.txt", 2)
    category_names = [row[0] for row in cats]
    for row in cats:  # the file's category_type must agree with the ontology's region of that category
        region = REGION_OF_TYPE.get(int(row[-1]) if row[-1].isdigit() else 0)
        if row[0] in ontology.categories and region != ontology.region_of(row[0]):
            raise DataError(f"{anno / 'list_category_cloth.txt'}: {row[0]} has category_type {row[-1]} "
                            f"({region}) but the ontology puts it in {ontology.region_of(row[0])}")
    attrs = _table(anno / "list_attr_cloth.txt", 2)
    attr_names = ["-".join(row[:-1]) for row in attrs]
    images = {row[0]: int(row[1]) for row in _table(anno / "list_category_img.txt", 2)}
    attr_rows = {row[0]: row[1:] for row in _table(anno / "list_attr_img.txt", 2)}
    boxes = {row[0]: tuple(int(v) for v in row[1:5]) for row in _table(anno / "list_bbox.txt", 5)}
    split = {row[0]: row[1] for row in _table(root / "Eval" / "list_eval_partition.txt", 2)}
    wanted = set(ontology.attributes)
    items: list[DeepFashionItem] = []
    for name, label in images.items():
        if not 1 <= label <= len(category_names):
            raise DataError(f"{anno / 'list_category_img.txt'}: {name} has category label {label}, "
                            f"expected 1..{len(category_names)}")
        category = category_names[label - 1]
        if category not in ontology.categories:
            continue
        flags = attr_rows.get(name)
        if flags is None or len(flags) != len(attr_names):
            raise DataError(f"{anno / 'list_attr_img.txt'}: {name} needs {len(attr_names)} attribute flags")
        present = tuple(a for a, f in zip(attr_names, flags) if f == "1" and a in wanted)
        items.append(DeepFashionItem(root / name, ontology.region_of(category), category, present,
                                     boxes.get(name, (0, 0, 0, 0)), split.get(name, "train")))
    return items


class DeepFashionDataset(Dataset):
    """DeepFashion items as CFOR training samples (crop to the box, resize, scale to [0, 1])."""

    def __init__(self, items: list[DeepFashionItem], ontology: Ontology, size: int) -> None:
        self.items, self.ontology, self.size = items, ontology, size

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, Any]:
        from PIL import Image

        item = self.items[i]
        if not item.path.is_file():
            raise DataError(f"missing image {item.path}")
        with Image.open(item.path) as img:
            w, h = img.size
            x1, y1, x2, y2 = item.box if item.box[2] > item.box[0] else (0, 0, w, h)
            crop = img.convert("RGB").crop((x1, y1, x2, y2)).resize((self.size, self.size))
        image = torch.from_numpy(np.asarray(crop, dtype=np.float32) / 255.0).permute(2, 0, 1)
        onto = self.ontology
        attrs = torch.tensor([a in item.attributes for a in onto.attributes], dtype=torch.float32)
        box = torch.tensor([(x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h], dtype=torch.float32)
        return {"image": image, "region": torch.tensor(onto.region_names.index(item.region)),
                "category": torch.tensor(onto.categories.index(item.category)), "attributes": attrs, "box": box}


def make_data(config: Any, ontology: Ontology, source: str, split: str) -> Dataset:
    """``synthetic`` clothing for the config's ontology, or a DeepFashion folder."""
    if source == "synthetic":
        from zoo.data.synthetic.clothing import make_clothing

        n = config.synthetic_train if split == "train" else config.synthetic_test
        return make_clothing(n, seed=0 if split == "train" else 1, regions=tuple(ontology.regions.values()),
                             num_attributes=len(ontology.attributes), size=config.image_size)
    root = Path(source)
    if not root.is_dir():
        raise DataError(f"data source {source!r} is neither 'synthetic' nor a DeepFashion folder")
    wanted = {"train": ("train",), "test": ("test",), "val": ("val",)}.get(split, (split,))
    items = [it for it in load_deepfashion(root, ontology) if it.split in wanted]
    if not items:
        raise DataError(f"{root}: no images of split {split!r} in the ontology's categories")
    return DeepFashionDataset(items, ontology, config.image_size)


def make_data_hook(config: Any, source: str, split: str) -> Any:
    """The ``make_data`` hook: :func:`make_data` with the variant's ontology."""
    from zoo_plugins.cfor.ontology import load

    return make_data(config, load(config.ontology), source, split)
