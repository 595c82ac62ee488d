"""Data for the driving plugins: synthetic roads, and loaders for the Udacity, Gazebo and Carla layouts.

Layouts (those of the public FADNet/CDL code; every path below is relative to the folder handed to ``zoo``):

- **Federated split** (all three datasets): ``<root>/train/<i>.npz`` for silo ``i`` = 0..N-1 (one file per node
  of the topology), ``<root>/train/train.npz`` (all training data, optional) and ``<root>/test/test.npz``.
- **Udacity** ``.npz`` (FADNet's ``driving_udacity`` loader): arrays ``imgs`` (N, 1, H, W) (or (N, H, W) /
  (N, H, W, 1)) of grey crops with raw 0-255 values, and ``ground_truths`` (N,) steering angles.
- **Gazebo / Carla** ``.npz`` (the ``driving_gazebo`` / ``driving_carla`` loader): arrays ``file_names`` (N,) of
  image paths relative to the data root and ``ground_truths`` (N,). Each image is read, turned grey, resized to
  320x240 (scaled with ``image_size``) and cropped to a bottom-centred square.
- **Udacity raw sequences** (DroNet's processed layout): ``<root>/<sequence>/images/*.{png,jpg}`` with
  ``<root>/<sequence>/sync_steering.txt`` (one header line, comma-separated, the angle in the first column, one row
  per image in frame-number order).

A missing or malformed file raises :class:`zoo.errors.DataError` naming the file and what was expected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from zoo.data.synthetic.road import RoadDataset, make_road, make_road_silos
from zoo.errors import DataError

#: Dataset kinds whose layouts this module reads.
DATASETS: tuple[str, ...] = ("udacity", "gazebo", "carla")
_IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp")


class SteeringDataset(RoadDataset):
    """Images (N, C, S, S) and steering angles (N,); the same interface as the synthetic roads.

    Real datasets keep their images as uint8 (0-255) to hold 4x less memory (Gazebo at 200 px: 2.7 GB instead of
    10.7 GB); :func:`as_float` turns any batch into floats in [0, 1], and items come out as floats already.
    """

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return as_float(self.images[index]), self.angles[index]


def as_float(images: torch.Tensor) -> torch.Tensor:
    """A batch of images as floats in [0, 1] (uint8 storage is divided by 255)."""
    return images.float().div_(255.0) if images.dtype == torch.uint8 else images


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Float images in [0, 1] -> uint8 storage (exact for images read from 8-bit files)."""
    return (images.clamp(0, 1) * 255.0).round_().to(torch.uint8)


@dataclass
class SiloData:
    """Training data split over silos (one dataset per node of the topology), plus an optional test set."""

    silos: list[Any]
    test: Any | None = None
    name: str = "synthetic"
    extra: dict[str, Any] = field(default_factory=dict)

    def pooled(self) -> SteeringDataset:
        """All silos' samples in one dataset (what centralised local learning trains on)."""
        return SteeringDataset(torch.cat([s.images for s in self.silos]), torch.cat([s.angles for s in self.silos]))

    def __len__(self) -> int:
        return sum(len(s) for s in self.silos)


# --------------------------------------------------------------------------------------------------- images


def crop_size_for(image_size: int) -> tuple[int, int]:
    """The (width, height) the public code resizes to before cropping: 320x240 for a 200-px crop."""
    return round(image_size * 1.6), round(image_size * 1.2)


def prepare_image(image: Any, image_size: int, in_chans: int = 1) -> torch.Tensor:
    """A PIL image -> (C, S, S) float tensor in [0, 1], preprocessed as in the public code.

    Grey (or RGB) conversion, resize to 1.6S x 1.2S (320x240 at S = 200) and the bottom-centred SxS crop. An
    image that is already SxS (e.g. a saved synthetic road) is used as it is.
    """
    image = image.convert("L" if in_chans == 1 else "RGB")
    if image.size != (image_size, image_size):
        w, h = crop_size_for(image_size)
        image = image.resize((w, h))
        left = w // 2 - image_size // 2
        image = image.crop((left, h - image_size, left + image_size, h))
    arr = np.asarray(image, dtype=np.float32) / 255.0
    t = torch.from_numpy(arr.copy())
    return t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)


def load_image_file(path: str | Path, image_size: int, in_chans: int = 1) -> torch.Tensor:
    """Read one image file and :func:`prepare_image` it; unreadable files raise DataError naming them."""
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise DataError(f"image file {p} does not exist")
    try:
        with Image.open(p) as img:
            img.load()
            return prepare_image(img, image_size, in_chans)
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"image file {p} could not be read as an image ({exc})") from exc


def _resize_batch(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, S, S) by area interpolation (a no-op when the size already matches)."""
    if images.shape[-2:] == (image_size, image_size):
        return images
    return F.interpolate(images, size=(image_size, image_size), mode="area")


# --------------------------------------------------------------------------------------------------- npz files


def _open_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Load the arrays ``keys`` of an ``.npz`` file, naming the file in every error."""
    if not path.is_file():
        raise DataError(f"data file {path} does not exist (expected an .npz with arrays {list(keys)})")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                raise DataError(f"data file {path} lacks arrays {missing}; it has {sorted(data.files)}")
            return {k: np.asarray(data[k]) for k in keys}
    except DataError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, ValueError, OSError: a malformed file
        raise DataError(f"data file {path} is not a readable .npz archive ({type(exc).__name__}: {exc})") from exc


def _angles(path: Path, raw: np.ndarray, n: int) -> torch.Tensor:
    """Validate a ground-truth array: n finite numbers."""
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    if raw.ndim != 1 or raw.shape[0] != n or not np.issubdtype(raw.dtype, np.number):
        raise DataError(f"data file {path}: ground_truths must be {n} numbers, got shape {raw.shape} "
                        f"dtype {raw.dtype}")
    out = torch.as_tensor(raw.astype(np.float32))
    if not torch.isfinite(out).all():
        raise DataError(f"data file {path}: ground_truths contain NaN or Inf")
    return out


def load_udacity_npz(path: str | Path, image_size: int) -> SteeringDataset:
    """An ``imgs`` + ``ground_truths`` archive (grey crops, raw 0-255) as a :class:`SteeringDataset`."""
    p = Path(path)
    arrays = _open_npz(p, ("imgs", "ground_truths"))
    imgs = arrays["imgs"]
    if imgs.ndim == 3:
        imgs = imgs[:, None]
    elif imgs.ndim == 4 and imgs.shape[-1] in (1, 3) and imgs.shape[1] not in (1, 3):
        imgs = imgs.transpose(0, 3, 1, 2)
    if imgs.ndim != 4 or imgs.shape[1] not in (1, 3) or imgs.shape[0] == 0:
        raise DataError(f"data file {p}: imgs must be (N, 1, H, W) grey images with N >= 1, got {arrays['imgs'].shape}")
    if not np.issubdtype(imgs.dtype, np.number):
        raise DataError(f"data file {p}: imgs must be numeric, got dtype {imgs.dtype}")
    images = torch.as_tensor(imgs.astype(np.float32)) / 255.0
    if images.shape[1] == 3:
        images = (images * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    angles = _angles(p, arrays["ground_truths"], images.shape[0])
    return SteeringDataset(to_uint8(_resize_batch(images, image_size)), angles)


def _find_image_root(npz: Path, names: np.ndarray) -> Path:
    """The nearest ancestor folder of ``npz`` under which the first listed image exists (the public code's
    ``data/`` folder), so a split folder can be handed over wherever it sits."""
    first = names[0].decode() if isinstance(names[0], bytes) else str(names[0])
    for folder in npz.resolve().parents:
        if (folder / first).is_file():
            return folder
    raise DataError(f"data file {npz} lists {first!r}, which exists under none of its parent folders")


def load_filenames_npz(path: str | Path, image_root: str | Path | None, image_size: int) -> SteeringDataset:
    """A ``file_names`` + ``ground_truths`` archive (Gazebo/Carla) whose images live under ``image_root``
    (default: the nearest parent folder of the archive under which the listed files exist)."""
    p = Path(path)
    arrays = _open_npz(p, ("file_names", "ground_truths"))
    names = arrays["file_names"]
    if names.ndim != 1 or names.shape[0] == 0 or names.dtype.kind not in "US":
        raise DataError(f"data file {p}: file_names must be a non-empty 1-d array of strings, got shape "
                        f"{names.shape} dtype {names.dtype}")
    angles = _angles(p, arrays["ground_truths"], names.shape[0])
    root = Path(image_root) if image_root is not None else _find_image_root(p, names)
    images = []
    for name in names:
        rel = name.decode() if isinstance(name, bytes) else str(name)
        try:
            images.append(to_uint8(load_image_file(root / rel, image_size)))
        except DataError as exc:
            raise DataError(f"data file {p} lists {rel!r}: {exc}") from exc
    return SteeringDataset(torch.stack(images), angles)


def load_sequence_dirs(root: str | Path, image_size: int) -> SteeringDataset:
    """DroNet-style Udacity sequences: ``<seq>/images/*`` with ``<seq>/sync_steering.txt``."""
    base = Path(root)
    if not base.is_dir():
        raise DataError(f"data folder {base} does not exist")
    seqs = sorted(d for d in base.iterdir() if d.is_dir() and (d / "images").is_dir())
    if not seqs:
        raise DataError(f"data folder {base} has no '<sequence>/images' folders (DroNet's Udacity layout)")
    images: list[torch.Tensor] = []
    angles: list[float] = []
    for seq in seqs:
        steer = seq / "sync_steering.txt"
        if not steer.is_file():
            raise DataError(f"steering file {steer} does not exist (one header line, then 'angle,...' rows)")
        try:
            values = np.loadtxt(steer, usecols=0, delimiter=",", skiprows=1, ndmin=1)
        except ValueError as exc:
            raise DataError(f"steering file {steer} is malformed: {exc}") from exc
        frames = [f for f in (seq / "images").iterdir() if f.suffix.lower() in _IMAGE_EXTS]

        def frame_number(f: Path) -> int:
            m = re.search(r"\d+", f.stem)
            if m is None:
                raise DataError(f"image file {f} has no frame number in its name")
            return int(m.group())

        frames.sort(key=frame_number)
        if len(frames) != len(values):
            raise DataError(f"steering file {steer} has {len(values)} rows but {seq / 'images'} holds "
                            f"{len(frames)} images")
        images.extend(to_uint8(load_image_file(f, image_size)) for f in frames)
        angles.extend(float(v) for v in values)
    return SteeringDataset(torch.stack(images), torch.tensor(angles, dtype=torch.float32))


# --------------------------------------------------------------------------------------------------- splits


def detect_kind(root: Path, kind: str | None = None) -> str:
    """``udacity`` / ``gazebo`` / ``carla`` from an explicit kind or the folder names (``driving_gazebo``...)."""
    if kind is not None:
        if kind not in DATASETS:
            raise DataError(f"unknown driving dataset {kind!r}; expected one of {DATASETS}")
        return kind
    for part in reversed(root.resolve().parts):
        for name in DATASETS:
            if name in part.lower():
                return name
    raise DataError(f"cannot tell which dataset {root} holds; name it (udacity:PATH, gazebo:PATH or carla:PATH)")


def _load_file(path: Path, kind: str, image_root: Path | None, image_size: int) -> SteeringDataset:
    if kind == "udacity":
        return load_udacity_npz(path, image_size)
    return load_filenames_npz(path, image_root, image_size)


def load_split(root: str | Path, image_size: int, kind: str | None = None, image_root: str | Path | None = None,
               num_silos: int | None = None) -> SiloData:
    """A federated split folder: ``train/<i>.npz`` per silo and ``test/test.npz``.

    Udacity may instead be a folder of DroNet sequences (used as one silo; see :func:`load_sequence_dirs`).
    ``image_root`` is where Gazebo/Carla ``file_names`` are relative to (default: the nearest parent folder
    where they exist, the public code's ``data/`` folder). ``num_silos`` checks that the split matches the topology.
    """
    base = Path(root)
    if not base.exists():
        raise DataError(f"data folder {base} does not exist")
    kind = detect_kind(base, kind)
    train_dir = base / "train"
    if not train_dir.is_dir():
        if kind == "udacity":
            ds = load_sequence_dirs(base, image_size)
            return SiloData([ds], test=None, name=kind)
        raise DataError(f"data folder {base} has no 'train' folder (expected train/<i>.npz and test/test.npz)")
    files = {int(f.stem): f for f in train_dir.glob("*.npz") if f.stem.isdigit()}
    if not files:
        raise DataError(f"folder {train_dir} has no per-silo files 0.npz, 1.npz, ...")
    n = max(files) + 1
    missing = [i for i in range(n) if i not in files]
    if missing:
        raise DataError(f"folder {train_dir} lacks silo files {[f'{i}.npz' for i in missing]}")
    if num_silos is not None and n != num_silos:
        raise DataError(f"folder {train_dir} holds {n} silos but the topology has {num_silos} nodes")
    img_root = Path(image_root) if image_root is not None else None
    silos = [_load_file(files[i], kind, img_root, image_size) for i in range(n)]
    test_file = base / "test" / "test.npz"
    test = _load_file(test_file, kind, img_root, image_size) if test_file.exists() else None
    return SiloData(silos, test=test, name=kind)


def load_test(root: str | Path, image_size: int, kind: str | None = None,
              image_root: str | Path | None = None) -> SteeringDataset:
    """The test set of a split folder (``test/test.npz``), or a single ``.npz`` file given directly."""
    base = Path(root)
    if base.suffix == ".npz":
        kind = detect_kind(base.parent, kind)
        return _load_file(base, kind, Path(image_root) if image_root is not None else None, image_size)
    kind = detect_kind(base, kind)
    test_file = base / "test" / "test.npz"
    if not test_file.exists():
        if kind == "udacity" and not (base / "train").exists():
            return load_sequence_dirs(base, image_size)
        raise DataError(f"test file {test_file} does not exist")
    img_root = Path(image_root) if image_root is not None else None
    return _load_file(test_file, kind, img_root, image_size)


# --------------------------------------------------------------------------------------------------- entry point


def parse_source(source: str) -> tuple[str | None, str]:
    """``"gazebo:/data/driving_gazebo"`` -> ("gazebo", path); a bare path -> (None, path)."""
    head, sep, rest = source.partition(":")
    if sep and head in DATASETS:
        return head, rest
    return None, source


def synthetic_data(config: Any, num_silos: int, split: str) -> Any:
    """The synthetic road data of ``config.data``: non-IID silos for ``train``, an IID test set otherwise."""
    d = config.data
    if split == "train":
        silos = make_road_silos(num_silos, d.samples_per_silo, seed=d.seed, image_size=config.image_size,
                                non_iid=d.non_iid)
        return SiloData(silos, test=None, name="synthetic")
    return make_road(d.test_samples, seed=d.seed + 7919, image_size=config.image_size)


def make_data(config: Any, source: str, split: str, num_silos: int) -> Any:
    """What ``zoo_make_data`` returns: :class:`SiloData` for ``train``, a dataset for ``test``/``val``."""
    if split not in ("train", "test", "val"):
        raise DataError(f"split must be 'train', 'test' or 'val', got {split!r}")
    if source in ("synthetic", "road"):
        return synthetic_data(config, num_silos, split)
    kind, path = parse_source(source)
    if split == "train":
        return load_split(path, config.image_size, kind, num_silos=num_silos)
    return load_test(path, config.image_size, kind)


def make_data_hook(config: Any, source: str, split: str) -> Any:
    """The ``make_data`` hook: ``synthetic`` (non-IID road silos / IID test roads), or a Udacity/Gazebo/Carla
    folder (``gazebo:PATH`` or a path whose name says which); ``train`` gives per-silo data, ``test`` a dataset."""
    from zoo_plugins.driving.topology import num_silos

    return make_data(config, source, split, num_silos(config.federated.topology))


def preprocessing(config: Any) -> dict[str, Any]:
    """How images are prepared before the network (stored with the weights)."""
    w, h = crop_size_for(config.image_size)
    return {"color": "grey" if config.in_chans == 1 else "rgb", "resize": [w, h], "crop": "bottom-centre",
            "size": config.image_size, "range": [0.0, 1.0], "input_norm": config.input_norm}
