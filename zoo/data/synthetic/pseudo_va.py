"""Pseudo valence-arousal from an INDEPENDENT model of the face images, for label-distribution learning (LDL-VA).

Datasets like RAF-DB have no valence-arousal; LDL-VA's authors take pseudo-VA from a separate regressor trained on
another dataset (AffectNet) and applied to the faces. The synthetic analogue here:

1. an **annotated auxiliary set** of synthetic faces (its own seed, never the training faces) whose VA is the
   circumplex point of the expression each face SHOWS plus noise (``va_source="face"`` of
   :func:`~zoo.data.synthetic.faces_in_context.make_faces_in_context`), i.e. what an annotator looking at the face
   would give;
2. a **regressor** (:class:`VAAnnotator`: RBF kernel ridge regression on pooled colour and gradient-orientation
   features of the face) fitted on it;
3. the training faces' VA = the regressor's predictions from their PIXELS. No label of the training set, clean or
   noisy, enters: an ambiguous face (showing another class) gets the VA of what it shows, and the regressor's
   errors are its own.

``make_pseudo_va(n, seed)`` returns faces with such pseudo-VA (a :class:`FacesInContext`, ``va`` replaced).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from zoo.data.synthetic.faces_in_context import FacesInContext, make_faces_in_context

#: Offset of the auxiliary (annotated) set's seed: far from any train/val/test seed of the plugins.
AUX_SEED: int = 90_001


def face_features(faces: torch.Tensor) -> np.ndarray:
    """Hand-made features of faces ``[n, 3, S, S]``: 4x4-pooled colours, per-channel mean and std, and the
    magnitude of the image gradient in 8 orientation bins (the expression texture's orientation)."""
    x = faces.float()
    pooled = torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1)
    grey = x.mean(1, keepdim=True)
    gy = grey[:, :, 1:, :-1] - grey[:, :, :-1, :-1]
    gx = grey[:, :, :-1, 1:] - grey[:, :, :-1, :-1]
    angle = torch.atan2(gy, gx).remainder(np.pi)  # orientation modulo pi
    mag = (gx ** 2 + gy ** 2).sqrt()
    bins = (angle / np.pi * 8).long().clamp(max=7)
    hist = torch.zeros(x.shape[0], 8).scatter_add_(1, bins.flatten(1), mag.flatten(1))
    hist = hist / hist.sum(1, keepdim=True).clamp_min(1e-8)
    stats = torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)
    return torch.cat([pooled, stats, hist], 1).numpy().astype(np.float64)


class VAAnnotator:
    """RBF kernel ridge regression from standardised :func:`face_features` to (valence, arousal).

    On the LDL-VA tiny faces (1,000 annotated faces, annotation noise 0.12) its predictions lie 0.09 on average
    from the circumplex point of the expression a held-out face shows, and the nearest point is the shown one for
    97 % of faces: a good but imperfect annotator (a linear ridge gets 0.50 / 34 %, 10-NN 0.05 / 100 %)."""

    def __init__(self, alpha: float = 0.1, gamma: float = 0.01) -> None:
        self.alpha, self.gamma = alpha, gamma
        self.model: Any = None

    def fit(self, faces: torch.Tensor, va: torch.Tensor) -> VAAnnotator:
        """Fit on annotated faces ``[n, 3, S, S]`` and their VA ``[n, 2]``."""
        from sklearn.kernel_ridge import KernelRidge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.model = make_pipeline(StandardScaler(), KernelRidge(alpha=self.alpha, kernel="rbf", gamma=self.gamma))
        self.model.fit(face_features(faces), va.numpy())
        return self

    def predict(self, faces: torch.Tensor) -> torch.Tensor:
        """Pseudo-VA ``[n, 2]`` of faces, clipped to [-1, 1]."""
        if self.model is None:
            raise RuntimeError("VAAnnotator.predict before fit")
        out = self.model.predict(face_features(faces))
        return torch.from_numpy(np.clip(out, -1.0, 1.0)).float()


def fit_annotator(seed: int = 0, n: int = 1000, **face_kwargs: Any) -> VAAnnotator:
    """A :class:`VAAnnotator` fitted on an auxiliary annotated set (seed ``AUX_SEED + seed``); ``face_kwargs``
    (``face_size``, ``num_classes``, ``class_names``, ``face_ambiguity``, ``pixel_noise``, ...) must describe the
    same kind of faces as the set it will annotate. Fitted annotators are cached per arguments."""
    key = (seed, n, tuple(sorted(face_kwargs.items())))
    if key not in _FITTED:
        aux = make_faces_in_context(n, seed=AUX_SEED + seed, va_source="face", label_noise=0.0, **face_kwargs)
        _FITTED[key] = VAAnnotator().fit(aux.faces, aux.va)
    return _FITTED[key]


_FITTED: dict[Any, VAAnnotator] = {}


def annotate(faces: torch.Tensor, seed: int = 0, n_aux: int = 1000, **face_kwargs: Any) -> torch.Tensor:
    """Pseudo-VA ``[n, 2]`` of ``faces`` from an independently fitted annotator (see the module docstring)."""
    return fit_annotator(seed, n_aux, **face_kwargs).predict(faces)


def make_pseudo_va(n: int, seed: int = 0, **face_kwargs: Any) -> FacesInContext:
    """``n`` synthetic faces (:func:`make_faces_in_context` with ``face_kwargs``) whose ``va`` is the pseudo-VA of
    an annotator fitted on an independent auxiliary set."""
    data = make_faces_in_context(n, seed=seed, **face_kwargs)
    shared = {k: v for k, v in face_kwargs.items() if k not in ("label_noise", "va_source", "va_noise")}
    va = annotate(data.faces, seed=seed, **shared)
    return FacesInContext(data.faces, data.contexts, data.scenes, data.boxes, data.labels, data.clean_labels, va,
                          data.class_names, data.face_classes)


def knn_purity(va: torch.Tensor, labels: torch.Tensor, k: int = 4) -> float:
    """Fraction of each sample's ``k`` nearest other samples in VA space that share its label."""
    dist = torch.cdist(va.float(), va.float())
    dist.fill_diagonal_(float("inf"))
    index = dist.topk(k, largest=False).indices
    return float((labels[index] == labels[:, None]).float().mean())


def main() -> None:
    """Print the annotator's quality and the VA-neighbour purity on the faces of the LDL-VA tiny variant."""
    from zoo.data.synthetic.faces_in_context import VA_CENTRES

    names = ("Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger")
    kwargs: dict[str, Any] = dict(num_classes=7, class_names=names, scene_size=16, face_size=32,
                                  face_ambiguity=0.1, context_ambiguity=0.0, distractors=0, pixel_noise=0.15)
    centres = torch.tensor([VA_CENTRES[n] for n in names])
    held_out = make_faces_in_context(448, seed=12_345, **kwargs)
    pred = annotate(held_out.faces, seed=0, **kwargs)
    dist = (pred - centres[held_out.face_classes]).norm(dim=1).mean()
    nearest = ((pred[:, None] - centres[None]).norm(dim=-1).argmin(1) == held_out.face_classes).float().mean()
    print(f"annotator: mean distance to the shown expression's VA point {float(dist):.3f}, "
          f"nearest point = the shown expression for {100 * float(nearest):.0f} % of held-out faces")
    train = make_faces_in_context(448, seed=0, label_noise=0.3, **kwargs)
    for source, va in (("independent pseudo-VA", annotate(train.faces, seed=0, **kwargs)), ("clean-class VA", train.va)):
        print(f"{source}: {100 * knn_purity(va, train.clean_labels):.1f} % of 4 VA neighbours share the clean class")


if __name__ == "__main__":
    main()
