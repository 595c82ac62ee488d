"""Labelled feature matrices for clustering and embedding experiments: a container and scikit-learn's digits as
a ``(n, 64)`` matrix (shipped with scikit-learn, nothing downloaded)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from zoo.errors import InputError


@dataclass
class LabelledMatrix:
    """``x (n, D)`` samples as rows (float64), ``labels (n,)`` ground-truth classes or ``None``, a ``name``."""

    x: torch.Tensor
    labels: torch.Tensor | None
    name: str = "data"

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def subset(self, index: torch.Tensor) -> LabelledMatrix:
        """The rows ``index`` (labels too)."""
        return LabelledMatrix(self.x[index], None if self.labels is None else self.labels[index], self.name)


def digits_matrix(num_samples: int | None = None, seed: int = 0) -> LabelledMatrix:
    """The 1,797 8x8 digits as 64 raw features in [0, 16] (not normalised); ``num_samples``: a seeded, stratified
    subset in the original order."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    data = LabelledMatrix(torch.tensor(bunch.data, dtype=torch.float64),
                          torch.tensor(bunch.target, dtype=torch.long), "digits")
    if num_samples is None or num_samples >= len(data):
        return data
    if num_samples < 10:
        raise InputError(f"a stratified digits subset needs at least 10 samples, got {num_samples}")
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(list(range(len(data))), train_size=num_samples, stratify=data.labels.numpy(),
                              random_state=seed)
    return data.subset(torch.tensor(sorted(idx)))
