"""From a whole image and a face box to GLAMOR-Net's two inputs: the face crop and the face-masked context.

Boxes are ``(x, y, w, h)`` in pixels of the image (the CLI's ``--face x,y,w,h``); the authors' on-disk ``crop/*.txt``
files hold ``x1,y1,x2,y2`` and are converted by the loader. A box is clipped to the image; an empty box after
clipping means "no face" (the code's fallback: an all-zero face and an unmasked context).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from zoo.errors import InputError


def parse_box(text: object) -> tuple[float, float, float, float]:
    """``"x,y,w,h"`` (or a 4-sequence) -> four floats; anything else raises :class:`InputError`."""
    if isinstance(text, str):
        parts = [p for p in text.replace(" ", "").split(",") if p]
    elif isinstance(text, Sequence):
        parts = list(text)
    else:
        parts = []
    try:
        values = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
        raise InputError(f"face box must be 'x,y,w,h' with w, h > 0 (pixels of the image), got {text!r}")
    return values  # type: ignore[return-value]


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x.unsqueeze(0), size=size, mode="bilinear", align_corners=False).squeeze(0)


def clip_box(box: Sequence[float], height: int, width: int) -> tuple[int, int, int, int]:
    """Integer ``(x1, y1, x2, y2)`` of ``(x, y, w, h)`` clipped to the image."""
    x, y, w, h = box
    x1, y1 = int(round(max(0.0, min(x, width)))), int(round(max(0.0, min(y, height))))
    x2, y2 = int(round(max(0.0, min(x + w, width)))), int(round(max(0.0, min(y + h, height))))
    return x1, y1, x2, y2


def mask_face(image: torch.Tensor, box: Sequence[float]) -> torch.Tensor:
    """A copy of ``image`` (3, H, W) with the face box set to zero."""
    x1, y1, x2, y2 = clip_box(box, image.shape[1], image.shape[2])
    out = image.clone()
    out[:, y1:y2, x1:x2] = 0.0
    return out


def crop_face(image: torch.Tensor, box: Sequence[float], size: int) -> torch.Tensor:
    """The face box of ``image`` resized to (3, size, size); zeros when the box is empty after clipping."""
    x1, y1, x2, y2 = clip_box(box, image.shape[1], image.shape[2])
    if x2 <= x1 or y2 <= y1:
        return image.new_zeros(image.shape[0], size, size)
    return _resize(image[:, y1:y2, x1:x2], (size, size))


def face_and_context(image: torch.Tensor, box: Sequence[float], face_size: int, context_size: int,
                     context_resize: tuple[int, int] = (0, 0), mask: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(face (3, F, F), context (3, S, S)) from an image (3, H, W) in [0, 1] and its face box ``(x, y, w, h)``.

    With ``context_resize=(H', W')`` the masked image is resized to it and centre-cropped to ``S`` (the code's test
    preprocessing); with ``(0, 0)`` it is resized straight to ``S x S``. ``mask=False`` keeps the face visible in
    the context (the paper's ablation setting iii).
    """
    if image.dim() != 3 or image.shape[0] != 3:
        raise InputError(f"expected an RGB image tensor (3, H, W), got shape {tuple(image.shape)}")
    face = crop_face(image, box, face_size)
    masked = mask_face(image, box) if mask else image
    if not any(context_resize):
        return face, _resize(masked, (context_size, context_size))
    return face, center_crop(_resize(masked, context_resize), context_size)


def center_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """The central ``size x size`` window of (C, H, W) (H, W >= size)."""
    h, w = image.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return image[..., top:top + size, left:left + size]


def random_crop(image: torch.Tensor, size: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random ``size x size`` window of (C, H, W)."""
    h, w = image.shape[-2:]
    top = int(torch.randint(0, h - size + 1, (), generator=generator))
    left = int(torch.randint(0, w - size + 1, (), generator=generator))
    return image[..., top:top + size, left:left + size]
