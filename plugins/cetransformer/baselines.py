"""The paper's simplest competitors, with scikit-learn: T-learners (one regressor per treatment arm) with least
squares (Table 1's OLS/LR_2) or an MLP."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from zoo.errors import ConfigError
from zoo_plugins.cetransformer.data import Units

KINDS: tuple[str, ...] = ("ols", "mlp")


def _regressor(kind: str, seed: int) -> Any:
    if kind == "ols":
        from sklearn.linear_model import LinearRegression

        return LinearRegression()
    if kind == "mlp":
        from sklearn.neural_network import MLPRegressor

        return MLPRegressor(hidden_layer_sizes=(64, 64), alpha=1e-3, max_iter=2000, early_stopping=True,
                            random_state=seed)
    raise ConfigError(f"unknown T-learner {kind!r}; expected one of {', '.join(KINDS)}")


class TLearner:
    """``mu_t(x)`` fitted on the units that received ``t``, separately for t = 0 and 1."""

    def __init__(self, kind: str = "ols", seed: int = 0) -> None:
        self.models = [_regressor(kind, seed), _regressor(kind, seed)]

    def fit(self, data: Units) -> "TLearner":
        x, t, y = data.x.numpy(), data.t.numpy(), data.y.numpy()
        for arm, model in enumerate(self.models):
            model.fit(x[t == arm], y[t == arm])
        return self

    def predict(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu0_hat, mu1_hat)`` for covariates ``x``."""
        arr = x.numpy()
        mu0, mu1 = (torch.from_numpy(np.asarray(m.predict(arr), dtype=np.float32)) for m in self.models)
        return mu0, mu1
