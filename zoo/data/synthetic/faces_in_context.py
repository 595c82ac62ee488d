"""Synthetic faces in context: a scene with one face whose expression AND surroundings carry the emotion class.

For context-aware emotion recognition (GLAMOR-Net) and label-distribution learning with valence-arousal (LDL-VA).

Sample ``i`` of class ``c`` (its *clean* class) is built as follows:

- **face** (``face_size`` square): a skin-toned disc holding an "expression" texture, a grating whose orientation
  is ``pi * c' / C`` (random phase and frequency), with a class tint. ``c'`` is ``c`` except with probability
  ``face_ambiguity``, when the face shows another class (an ambiguous or misleading expression);
- **scene** (``scene_size`` square, RGB): a noisy background, the face pasted into a random box ``(x, y, w, h)``,
  one coloured "context cue" disc whose hue is the class ``c''`` (``c`` except with probability
  ``context_ambiguity``) placed away from the face, and ``distractors`` grey discs. Because the cue is not at a
  fixed position, a model must *find* it: this is what a context attention map is for;
- **context**: the scene with the face box set to zero (the face is masked, as GLAMOR-Net's context input);
- **valence-arousal** ``va`` (2,): with ``va_source="clean"`` the clean class's point on Russell's circumplex
  (table :data:`VA_CENTRES`) plus Gaussian noise of std ``va_noise`` (it follows the clean class BY CONSTRUCTION,
  so a method that uses VA neighbours is handed the clean label); with ``va_source="face"`` the point of the class
  the face SHOWS (``face_classes``) plus noise: what an annotator looking at the face would give. Pseudo-VA from
  an independent model of the images is :mod:`zoo.data.synthetic.pseudo_va`;
- **label** (``label``): the clean class, except that a fraction ``label_noise`` of the samples is flipped to a
  uniformly drawn *other* class (the synthetic-noise protocol of LDL-VA). ``clean_label`` keeps the truth.

Learnable: a small CNN on the faces alone, or on the contexts alone, beats the 1/C chance level within a few hundred
steps; neither cue is always right, so a model that combines them can do better than either. Same ``seed``,
same data.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from zoo.errors import ConfigError

#: The seven CAER / basic emotions, in CAER-S (GLAMOR-Net) order.
EMOTIONS: tuple[str, ...] = ("Anger", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise")

#: Approximate (valence, arousal) of each emotion on Russell's circumplex, in [-1, 1].
VA_CENTRES: dict[str, tuple[float, float]] = {
    "Anger": (-0.55, 0.70),
    "Disgust": (-0.70, 0.20),
    "Fear": (-0.45, 0.85),
    "Happy": (0.80, 0.45),
    "Neutral": (0.00, -0.05),
    "Sad": (-0.70, -0.50),
    "Surprise": (0.30, 0.85),
}


class FacesInContext(Dataset):
    """Map-style dataset; item ``i`` is a dict of ``face`` (3, F, F), ``context`` (3, S, S), ``scene`` (3, S, S),
    ``box`` (4,) float ``x, y, w, h`` in scene pixels, ``label``, ``clean_label`` (int64), ``va`` (2,) and ``index``.
    The whole tensors are attributes of the same names (plural: ``faces``, ``contexts``, ...)."""

    def __init__(self, faces: torch.Tensor, contexts: torch.Tensor, scenes: torch.Tensor, boxes: torch.Tensor,
                 labels: torch.Tensor, clean_labels: torch.Tensor, va: torch.Tensor,
                 class_names: Sequence[str], face_classes: torch.Tensor | None = None) -> None:
        self.faces = faces
        self.face_classes = face_classes if face_classes is not None else clean_labels
        self.contexts = contexts
        self.scenes = scenes
        self.boxes = boxes
        self.labels = labels
        self.clean_labels = clean_labels
        self.va = va
        self.class_names = tuple(class_names)
        self.num_classes = len(self.class_names)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"face": self.faces[i], "context": self.contexts[i], "scene": self.scenes[i], "box": self.boxes[i],
                "label": self.labels[i], "clean_label": self.clean_labels[i], "va": self.va[i],
                "index": torch.tensor(i, dtype=torch.long)}

    def with_face_visible(self) -> FacesInContext:
        """The same samples whose ``context`` is the whole scene, face included (GLAMOR-Net's setting iii)."""
        return FacesInContext(self.faces, self.scenes, self.scenes, self.boxes, self.labels, self.clean_labels,
                              self.va, self.class_names, self.face_classes)

    @property
    def noise_rate(self) -> float:
        """Fraction of labels that differ from the clean class."""
        return float((self.labels != self.clean_labels).float().mean())


def flip_labels(labels: torch.Tensor, rate: float, num_classes: int, generator: torch.Generator) -> torch.Tensor:
    """Flip ``round(rate * n)`` randomly chosen labels to a uniformly drawn *different* class (LDL-VA's protocol)."""
    if not 0.0 <= rate < 1.0:
        raise ConfigError(f"label noise rate must be in [0, 1), got {rate}")
    out = labels.clone()
    count = int(round(rate * labels.numel()))
    if count == 0:
        return out
    chosen = torch.randperm(labels.numel(), generator=generator)[:count]
    shift = torch.randint(1, num_classes, (count,), generator=generator)
    out[chosen] = (labels[chosen] + shift) % num_classes
    return out


def _other_class(c: torch.Tensor, prob: float, num_classes: int, g: torch.Generator) -> torch.Tensor:
    swap = torch.rand(c.shape, generator=g) < prob
    shift = torch.randint(1, num_classes, c.shape, generator=g)
    return torch.where(swap, (c + shift) % num_classes, c)


def _hue_rgb(hue: torch.Tensor) -> torch.Tensor:
    """(n,) hues in radians -> (n, 3) saturated colours in [0, 1]."""
    return 0.5 + 0.5 * torch.stack([torch.cos(hue), torch.cos(hue - 2 * math.pi / 3),
                                    torch.cos(hue + 2 * math.pi / 3)], 1)


def _render_faces(cls: torch.Tensor, size: int, num_classes: int, g: torch.Generator, noise: float) -> torch.Tensor:
    """Skin disc with an oriented expression grating (orientation = class) and a class tint."""
    n = cls.numel()
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    theta = math.pi * cls.float() / num_classes
    freq = 2.5 + 1.5 * torch.rand(n, generator=g)
    phase = 2 * math.pi * torch.rand(n, generator=g)
    proj = xx[None] * torch.cos(theta)[:, None, None] + yy[None] * torch.sin(theta)[:, None, None]
    grating = torch.sin(2 * math.pi * freq[:, None, None] * proj + phase[:, None, None])
    disc = (((xx - 0.5) ** 2 + (yy - 0.5) ** 2) < 0.2).float()[None]
    skin = torch.tensor([0.85, 0.65, 0.55]) * (0.7 + 0.3 * torch.rand(n, 1, generator=g))
    tint = _hue_rgb(2 * math.pi * cls.float() / num_classes)
    colour = 0.6 * skin + 0.4 * tint
    face = colour[:, :, None, None] * (0.65 + 0.35 * grating[:, None])
    face = face * disc[:, None] + 0.15 * (1 - disc[:, None])
    face = face + noise * torch.randn(face.shape, generator=g)
    return face.clamp(0, 1)


def _disc(scene: torch.Tensor, cx: float, cy: float, r: float, colour: torch.Tensor) -> None:
    s = scene.shape[-1]
    coords = torch.arange(s, dtype=torch.float32) + 0.5
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    mask = ((xx - cx) ** 2 + (yy - cy) ** 2) < r * r
    scene[:, mask] = colour[:, None]


def _place_away(box: tuple[int, int, int, int], s: int, r: float, g: torch.Generator) -> tuple[float, float]:
    """A disc centre inside the scene whose disc does not overlap the face box (best of 50 tries)."""
    x, y, w, h = box
    best, best_gap = (r, r), -1e9
    for _ in range(50):
        cx = float(r + (s - 2 * r) * torch.rand((), generator=g))
        cy = float(r + (s - 2 * r) * torch.rand((), generator=g))
        gap = max(x - (cx + r), (cx - r) - (x + w), y - (cy + r), (cy - r) - (y + h))
        if gap >= 0:
            return cx, cy
        if gap > best_gap:
            best, best_gap = (cx, cy), gap
    return best


def make_faces_in_context(n: int, seed: int = 0, *, num_classes: int = 7, class_names: Sequence[str] | None = None,
                          scene_size: int = 48, face_size: int = 32, face_ambiguity: float = 0.3,
                          context_ambiguity: float = 0.3, distractors: int = 2, pixel_noise: float = 0.08,
                          va_noise: float = 0.12, label_noise: float = 0.0, va_source: str = "clean"
                          ) -> FacesInContext:
    """``n`` scenes (see the module docstring); classes are balanced before label noise."""
    if n < 1 or not 2 <= num_classes <= len(EMOTIONS) or scene_size < 16 or face_size < 8:
        raise ConfigError(f"make_faces_in_context needs n >= 1, 2 <= num_classes <= {len(EMOTIONS)}, "
                          f"scene_size >= 16 and face_size >= 8; got n={n}, num_classes={num_classes}, "
                          f"scene_size={scene_size}, face_size={face_size}")
    names = tuple(class_names) if class_names is not None else EMOTIONS[:num_classes]
    if len(names) != num_classes or any(name not in VA_CENTRES for name in names):
        raise ConfigError(f"class_names must be {num_classes} of {', '.join(EMOTIONS)}; got {names}")
    for label, p in (("face_ambiguity", face_ambiguity), ("context_ambiguity", context_ambiguity)):
        if not 0.0 <= p < 1.0:
            raise ConfigError(f"{label} must be in [0, 1), got {p}")
    if va_source not in ("clean", "face"):
        raise ConfigError(f"va_source must be 'clean' or 'face', got {va_source!r}")
    g = torch.Generator().manual_seed(seed)
    clean = (torch.arange(n) % num_classes)[torch.randperm(n, generator=g)]
    face_cls = _other_class(clean, face_ambiguity, num_classes, g)
    ctx_cls = _other_class(clean, context_ambiguity, num_classes, g)
    faces = _render_faces(face_cls, face_size, num_classes, g, pixel_noise)

    s = scene_size
    scenes = 0.35 + 0.1 * torch.rand(n, 3, 1, 1, generator=g) + pixel_noise * torch.randn(n, 3, s, s, generator=g)
    boxes = torch.zeros(n, 4)
    cue_colours = _hue_rgb(2 * math.pi * ctx_cls.float() / num_classes + 0.4)
    r = max(2.0, s / 9)
    for i in range(n):
        w = int(s * (0.3 + 0.12 * float(torch.rand((), generator=g))))
        x = int((s - w) * float(torch.rand((), generator=g)))
        y = int((s - w) * float(torch.rand((), generator=g)))
        boxes[i] = torch.tensor([x, y, w, w], dtype=torch.float32)
        patch = torch.nn.functional.interpolate(faces[i:i + 1], size=(w, w), mode="bilinear", align_corners=False)
        scenes[i, :, y:y + w, x:x + w] = patch[0]
        cx, cy = _place_away((x, y, w, w), s, r, g)
        _disc(scenes[i], cx, cy, r, cue_colours[i])
        for _ in range(distractors):
            cx, cy = _place_away((x, y, w, w), s, r * 0.8, g)
            _disc(scenes[i], cx, cy, r * 0.8, torch.full((3,), float(0.2 + 0.6 * torch.rand((), generator=g))))
    scenes = scenes.clamp(0, 1)
    contexts = scenes.clone()
    for i in range(n):
        x, y, w, h = (int(v) for v in boxes[i])
        contexts[i, :, y:y + h, x:x + w] = 0.0
    centres = torch.tensor([VA_CENTRES[name] for name in names], dtype=torch.float32)
    va = centres[clean if va_source == "clean" else face_cls] + va_noise * torch.randn(n, 2, generator=g)
    labels = flip_labels(clean, label_noise, num_classes, g)
    return FacesInContext(faces.float(), contexts.float(), scenes.float(), boxes, labels.long(), clean.long(),
                          va.float(), names, face_cls.long())
