"""Per-silo data: digits partitioned across the silos of a network, and the paper's per-silo dataset layouts.

Layouts of the public code (``data/<dataset>/<network>/{train,test}/<silo>.<ext>``), read from ``root``:

* FEMNIST and iNaturalist: ``root/{train,test}/<silo>.pkl``, each a pickled list of ``(image_path, label)`` pairs
  with paths relative to ``root`` (``root/<image_path>`` is a PNG/JPEG). The pickle is read with a restricted
  unpickler that only accepts lists, tuples, strings and numbers (never arbitrary objects).
  FEMNIST: resize to 28, to tensor, normalise (0.1307, 0.3081), 3 channels; iNaturalist: centre crop 224,
  ImageNet normalisation.
* Sentiment140: ``root/{train,test}/<silo>.json``, one JSON object per line with ``text`` and ``label``
  (TorchText's tabular JSON); the vocabulary (25,000 most frequent lower-cased tokens + ``<unk>``, ``<pad>``) is
  built from all training silos. The code uses spaCy tokens and GloVe vectors; here tokens are whitespace-split and
  the embedding is learned (no downloads).

Silos are numbered by the sorted integer stems of the files. Every problem is a :class:`DataError` naming the file.
"""
from __future__ import annotations

import io
import json
import pickle
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from zoo.errors import ConfigError, DataError

FEMNIST_MEAN, FEMNIST_STD = 0.1307, 0.3081
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
PAD, UNK = "<pad>", "<unk>"


class _SafeUnpickler(pickle.Unpickler):
    """Refuses every global: only plain containers, strings and numbers can be loaded."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only lists of (path, label) are allowed")


def _silo_files(root: Path, split: str, ext: str) -> list[Path]:
    folder = root / split
    if not folder.is_dir():
        raise DataError(f"{folder} does not exist; expected {root}/{split}/<silo>{ext} files (one per silo)")
    files = [p for p in folder.iterdir() if p.suffix == ext]
    bad = [p for p in files if not p.stem.isdigit()]
    if bad:
        raise DataError(f"{bad[0]}: silo files must be named <integer>{ext}")
    if not files:
        raise DataError(f"{folder} holds no <silo>{ext} files")
    return sorted(files, key=lambda p: int(p.stem))


def _read_pairs(path: Path) -> list[tuple[str, int]]:
    try:
        with open(path, "rb") as fh:
            items = _SafeUnpickler(io.BytesIO(fh.read())).load()
    except Exception as exc:
        raise DataError(f"{path}: not a pickled list of (image_path, label) pairs ({exc})") from exc
    if not isinstance(items, list) or not items:
        raise DataError(f"{path}: expected a non-empty list of (image_path, label) pairs")
    pairs = []
    for k, item in enumerate(items):
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], (int, np.integer))):
            raise DataError(f"{path}: item {k} is {item!r}; expected (image_path: str, label: int)")
        pairs.append((item[0], int(item[1])))
    return pairs


class ImageListDataset(Dataset):
    """Images listed as ``(path, label)`` pairs (FEMNIST / iNaturalist silo), loaded and transformed lazily."""

    def __init__(self, root: Path, pairs: list[tuple[str, int]], kind: str, source: Path) -> None:
        self.root, self.pairs, self.kind, self.source = root, pairs, kind, source

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        from PIL import Image

        rel, label = self.pairs[idx]
        path = self.root / rel
        try:
            img = Image.open(path)
            img.load()
        except Exception as exc:
            raise DataError(f"{path} (listed in {self.source}): cannot read the image ({exc})") from exc
        if self.kind == "femnist":
            img = img.convert("L")
            w, h = img.size
            scale = 28 / min(w, h)
            img = img.resize((max(28, round(w * scale)), max(28, round(h * scale))))
            x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)[:28, :28]
            x = ((x - FEMNIST_MEAN) / FEMNIST_STD).expand(3, 28, 28).clone()
        else:
            img = img.convert("RGB")
            w, h = img.size
            if w < 224 or h < 224:
                raise DataError(f"{path}: iNaturalist images must be at least 224x224 for the centre crop, got {w}x{h}")
            left, top = (w - 224) // 2, (h - 224) // 2
            arr = np.asarray(img.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255.0
            x = torch.from_numpy(arr).permute(2, 0, 1)
            x = (x - torch.tensor(IMAGENET_MEAN)[:, None, None]) / torch.tensor(IMAGENET_STD)[:, None, None]
        return x, torch.tensor(label, dtype=torch.long)


def load_image_silos(root: str | Path, split: str, kind: str) -> list[ImageListDataset]:
    """FEMNIST (``kind="femnist"``) or iNaturalist (``"inaturalist"``) silos of ``root/split``."""
    if kind not in ("femnist", "inaturalist"):
        raise ConfigError(f"kind must be 'femnist' or 'inaturalist', got {kind!r}")
    base = Path(root)
    return [ImageListDataset(base, _read_pairs(p), kind, p) for p in _silo_files(base, split, ".pkl")]


def _read_json_lines(path: Path) -> list[tuple[str, float]]:
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    for k, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            text, label = obj["text"], obj["label"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"{path}: line {k + 1} is not a JSON object with 'text' and 'label' ({exc})") from exc
        if not isinstance(text, str):
            raise DataError(f"{path}: line {k + 1} has a non-string 'text'")
        try:
            value = float(label)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{path}: line {k + 1} has label {label!r}; expected 0/1 (or '0'/'1')") from exc
        if value not in (0.0, 1.0):
            raise DataError(f"{path}: line {k + 1} has label {label!r}; expected 0 or 1")
        rows.append((text, value))
    if not rows:
        raise DataError(f"{path}: no samples")
    return rows


@dataclass
class Vocab:
    """Token -> id (``<unk>`` = 0, ``<pad>`` = 1)."""

    itos: list[str]

    def __post_init__(self) -> None:
        self.stoi = {t: k for k, t in enumerate(self.itos)}

    def encode(self, text: str, max_len: int) -> list[int]:
        """Ids of the first ``max_len`` lower-cased whitespace tokens."""
        ids = [self.stoi.get(tok, 0) for tok in text.lower().split()[:max_len]]
        return ids or [0]


class TextDataset(Dataset):
    """One Sentiment140 silo: ``(tokens[max_len] int64 padded with 1, label float)``."""

    def __init__(self, rows: list[tuple[str, float]], vocab: Vocab, max_len: int = 64) -> None:
        self.rows, self.vocab, self.max_len = rows, vocab, max_len

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        text, label = self.rows[idx]
        ids = self.vocab.encode(text, self.max_len)
        tokens = torch.full((self.max_len,), 1, dtype=torch.long)
        tokens[: len(ids)] = torch.tensor(ids, dtype=torch.long)
        return tokens, torch.tensor(label, dtype=torch.float32)


def load_sent140_silos(root: str | Path, split: str, max_vocab: int = 25_000, max_len: int = 64) -> list[TextDataset]:
    """Sentiment140 silos of ``root/split``; the vocabulary comes from all of ``root/train``."""
    base = Path(root)
    counts: Counter[str] = Counter()
    for path in _silo_files(base, "train", ".json"):
        for text, _ in _read_json_lines(path):
            counts.update(text.lower().split())
    vocab = Vocab([UNK, PAD] + [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_vocab]])
    return [TextDataset(_read_json_lines(p), vocab, max_len) for p in _silo_files(base, split, ".json")]


def load_silos(root: str | Path, split: str) -> list[Dataset]:
    """Detect the layout under ``root`` (``.pkl`` images or ``.json`` text) and load its silos."""
    base = Path(root)
    folder = base / split
    if not folder.is_dir():
        raise DataError(f"{folder} does not exist; expected a per-silo layout {base}/{{train,test}}/<silo>.pkl|json")
    exts = {p.suffix for p in folder.iterdir()}
    if ".json" in exts:
        return list(load_sent140_silos(base, split))
    if ".pkl" in exts:  # the public code's folders are data/<dataset>/<network>: iNaturalist when named so
        kind = "inaturalist" if "inaturalist" in str(base).lower() else "femnist"
        return list(load_image_silos(base, split, kind))
    raise DataError(f"{folder}: no <silo>.pkl (FEMNIST/iNaturalist) or <silo>.json (Sentiment140) files")


@dataclass(frozen=True)
class SiloData:
    """Training data of the federation: the engine's ``FederatedData`` and the test set for evaluation."""

    federated: Any
    test: Any
    num_classes: int


def digits_silos(num_silos: int, alpha: float, seed: int = 0) -> Any:
    """The digits train split spread over ``num_silos`` silos with a Dirichlet(alpha) label skew."""
    from zoo.data.digits import load_digits_split
    from zoo.engines.federated import FederatedData, dirichlet

    train = load_digits_split("train", seed=seed)
    parts = dirichlet(train.labels.numpy(), num_silos, alpha, seed, min_size=8)
    return FederatedData.partitioned(train, parts)


def make_data(config: Any, source: str, split: str) -> Any:
    """``digits``/``synthetic``: digits over the silos of the variant's network; a folder: the paper's layout."""
    from .underlay import load_underlay

    if source in ("digits", "synthetic"):
        from zoo.data.digits import load_digits_split

        test = load_digits_split("test", seed=config.seed)
        if split == "train":
            n = load_underlay(config.network).num_nodes
            return SiloData(digits_silos(n, config.partition_alpha, config.seed), test, 10)
        return test
    from torch.utils.data import ConcatDataset

    from zoo.engines.federated import FederatedData

    silos = load_silos(source, split)
    if split == "train":
        test = ConcatDataset(load_silos(source, "test")) if (Path(source) / "test").is_dir() else None
        return SiloData(FederatedData.per_silo(silos), test, 0)
    return ConcatDataset(silos)
