"""GLAMOR-Net data: synthetic faces in context, and the CAER-S / NCAER-S on-disk layouts.

On-disk layout (the one the authors' code reads; NCAER-S is distributed this way, CAER-S after running a face
detector once)::

    ROOT/images/<split>/<Class>/<name>.png     the frames (any common image format)
    ROOT/crop/<split>/<Class>/<name>.txt       one line "x1,y1,x2,y2": the face box in pixels ("0,0,0,0" = no face)

``<split>`` is ``train`` / ``test`` (CAER-S) or ``train`` / ``val`` / ``test`` (NCAER-S); ``<Class>`` is one of the 7
CAER classes (:data:`~zoo_plugins.glamor_net.config.CAER_CLASSES`, case-insensitive). ``ROOT/<split>/<Class>/``
without ``images/`` (the original CAER-S release) is accepted for the frames, but the boxes are still required. A
missing folder or box file, a malformed box line or an unknown class folder raises :class:`zoo.errors.DataError`
naming the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from zoo.data import layout
from zoo.errors import ConfigError, DataError
from zoo_plugins.glamor_net.config import CAER_CLASSES, GlamorConfig
from zoo_plugins.glamor_net.preprocess import center_crop, crop_face, mask_face, random_crop

SPLITS = {"caer-s": ("train", "test"), "ncaer-s": ("train", "val", "test")}


@dataclass(frozen=True)
class Frame:
    """One on-disk sample: image path, face box ``(x, y, w, h)`` (``None`` = no face) and class index."""

    path: Path
    box: tuple[float, float, float, float] | None
    label: int


def read_box(path: Path) -> tuple[float, float, float, float] | None:
    """``x1,y1,x2,y2`` from a crop file -> ``(x, y, w, h)``; ``0,0,0,0`` -> ``None``; malformed -> DataError."""
    text = path.read_text(encoding="utf-8").strip()
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        raise DataError(f"face box file {path} must hold one line 'x1,y1,x2,y2' (pixels), got {text[:60]!r}")
    x1, y1, x2, y2 = values
    if x1 == y1 == x2 == y2 == 0:
        return None
    if x2 <= x1 or y2 <= y1:
        raise DataError(f"face box file {path}: expected x2 > x1 and y2 > y1, got {text!r}")
    return (x1, y1, x2 - x1, y2 - y1)


def scan_caer_layout(root: str | Path, split: str, dataset: str = "caer-s") -> list[Frame]:
    """All frames of one split of a CAER-S / NCAER-S folder (see the module docstring)."""
    splits = SPLITS[dataset]
    if split not in splits:
        raise DataError(f"{dataset} has splits {', '.join(splits)}; got {split!r}")
    base = layout.require_dir(root, f"a {dataset.upper()} folder with images/<split>/<Class>/ and "
                                    "crop/<split>/<Class>/")
    images = base / "images" / split if (base / "images").is_dir() else base / split
    layout.require_dir(images, f"one sub-folder per class ({', '.join(CAER_CLASSES)})")
    crops = layout.require_dir(base / "crop" / split, "face boxes crop/<split>/<Class>/<name>.txt ('x1,y1,x2,y2')")
    lookup = {name.lower(): i for i, name in enumerate(CAER_CLASSES)}
    frames: list[Frame] = []
    for folder in sorted(p for p in images.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name.lower() not in lookup:
            raise DataError(f"dataset folder {folder} is not a CAER class; expected one of {', '.join(CAER_CLASSES)}")
        label = lookup[folder.name.lower()]
        for image in layout.list_files(folder, what=f"{folder.name} frames"):
            box_file = layout.require_file(crops / folder.name, image.stem + ".txt",
                                           f"the face box of {image} as one line 'x1,y1,x2,y2'")
            frames.append(Frame(image, read_box(box_file), label))
    if not frames:
        raise DataError(f"dataset folder {images} holds no class sub-folders; expected <Class>/<name>.png")
    return frames


class CaerScenes(Dataset):
    """Frames of a CAER-S / NCAER-S split as ``{"face", "context", "label", "index"}`` (loaded lazily).

    ``train=True`` resizes the masked image to ``config.context_resize`` and crops a random window (the code's
    training pipeline); otherwise the window is central.
    """

    def __init__(self, frames: list[Frame], config: GlamorConfig, train: bool, seed: int = 0) -> None:
        self.frames = frames
        self.config = config
        self.train = train
        self.generator = torch.Generator().manual_seed(seed)
        self.labels = torch.tensor([f.label for f in frames], dtype=torch.long)
        self.class_names = CAER_CLASSES
        self.num_classes = len(CAER_CLASSES)

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> dict[str, Any]:
        frame = self.frames[i]
        image = layout.image_to_tensor(layout.load_image(frame.path))
        cfg = self.config
        if frame.box is None:  # the code's fallback when no face was detected
            face = image.new_zeros(3, cfg.face_size, cfg.face_size)
            masked = image
        else:
            face = crop_face(image, frame.box, cfg.face_size)
            masked = mask_face(image, frame.box) if cfg.context_face == "masked" else image
        if self.train and any(cfg.context_resize):
            context = random_crop(_resize(masked, cfg.context_resize), cfg.context_size, self.generator)
        else:
            context = _resize_context(masked, cfg)
        return {"face": face, "context": context, "label": self.labels[i], "index": torch.tensor(i)}


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return torch.nn.functional.interpolate(image[None], size=size, mode="bilinear", align_corners=False)[0]


def _resize_context(image: torch.Tensor, cfg: GlamorConfig) -> torch.Tensor:
    """The code's test-time context: resize to ``context_resize`` and centre-crop, or resize straight."""
    if not any(cfg.context_resize):
        return _resize(image, (cfg.context_size, cfg.context_size))
    return center_crop(_resize(image, cfg.context_resize), cfg.context_size)


def load_caer_s(root: str | Path, split: str, config: GlamorConfig) -> CaerScenes:
    """CAER-S (Lee et al., ICCV 2019) with pre-computed face boxes."""
    return CaerScenes(scan_caer_layout(root, split, "caer-s"), config, train=split == "train")


def load_ncaer_s(root: str | Path, split: str, config: GlamorConfig) -> CaerScenes:
    """NCAER-S (the authors' video-disjoint re-split of CAER), same layout with a ``val`` split."""
    return CaerScenes(scan_caer_layout(root, split, "ncaer-s"), config, train=split == "train")


def synthetic(config: GlamorConfig, split: str, seed: int = 0) -> Any:
    """Synthetic scenes at the variant's face/context sizes (``train`` and ``test`` use different seeds); with
    ``context_face="visible"`` the context input is the whole scene, face included (setting iii)."""
    from zoo.data.synthetic.faces_in_context import make_faces_in_context

    if split not in ("train", "val", "test"):
        raise ConfigError(f"synthetic split must be train, val or test, got {split!r}")
    n = config.train_size if split == "train" else config.test_size
    offset = {"train": 0, "val": 1, "test": 2}[split]
    data = make_faces_in_context(n, seed=seed * 10 + offset, num_classes=config.num_classes,
                                 class_names=config.class_names, scene_size=config.context_size,
                                 face_size=config.face_size)
    return data.with_face_visible() if config.context_face == "visible" else data


def make_data(config: GlamorConfig, source: str, split: str) -> Any:
    """``synthetic``, ``caer-s:PATH``, ``ncaer-s:PATH``, or a PATH (NCAER-S when it has a ``val`` split)."""
    if source == "synthetic":
        return synthetic(config, split)
    kind, sep, path = source.partition(":")
    if sep and kind.lower() in SPLITS:
        loader = load_caer_s if kind.lower() == "caer-s" else load_ncaer_s
        return loader(path, split, config)
    root = Path(source)
    has_val = (root / "images" / "val").is_dir() or (root / "val").is_dir()
    return (load_ncaer_s if has_val else load_caer_s)(root, split, config)
