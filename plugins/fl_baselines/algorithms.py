"""FedAvg, FedProx and SCAFFOLD as :class:`zoo.engines.federated.Algorithm` plug-ins (no engine change needed)."""
from __future__ import annotations

import torch

from zoo.engines.federated import (
    AggregationInfo, Algorithm, LocalContext, LocalRule, ProxRule, WeightedFedAvg, weighted_mean,
)
from zoo.errors import ConfigError
from zoo_plugins.fl_baselines.config import FLBaselineConfig


class FedAvg(Algorithm):
    """McMahan et al. 2017: local SGD, then the n_k-weighted average of the client models."""

    name = "fedavg"


class FedProx(Algorithm):
    """Li et al. 2020: each client minimises ``F_k(w) + mu/2 ||w - w^t||^2`` (the engine's ``ProxRule``)."""

    name = "fedprox"

    def __init__(self, mu: float, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.mu = mu

    def local_rule(self) -> LocalRule:
        """Gradient + ``mu (w - w^t)``."""
        return ProxRule(self.mu)


class ControlVariateRule(LocalRule):
    """SCAFFOLD's corrected step ``y <- y - lr (g - c_i + c)`` and option-II update of ``c_i`` at the end.

    ``c`` comes in ``ctx.payload["c"]`` and ``c_i`` lives in ``ctx.state["c"]``. Option II:
    ``c_i+ = c_i - c + (x - y) / (K lr)`` (x the start model, y the final one, K local steps), valid for plain SGD
    with a constant learning rate. Row-wise arithmetic: the batched trainer may run it on ``[K, P]`` stacks.
    """

    def correct(self, ctx: LocalContext, grad: torch.Tensor) -> torch.Tensor:
        """``g - c_i + c``."""
        return grad - ctx.state["c"] + ctx.payload["c"]

    def end(self, ctx: LocalContext) -> None:
        """Update ``c_i`` and remember ``Delta c_i`` for the message."""
        c_old = ctx.state["c"]
        c_new = c_old - ctx.payload["c"] + (ctx.start - ctx.weights) / (ctx.steps * ctx.lr)
        ctx.scratch["delta_c"] = c_new - c_old
        ctx.state["c"] = c_new


class Scaffold(Algorithm):
    """Karimireddy et al. 2020 (option II): ``x += lr_g mean(Delta y)``, ``c += |S|/N mean(Delta c)``."""

    name = "scaffold"

    def message_sizes(self, num_params: int) -> dict[str, int]:
        """Model change and control-variate change (twice FedAvg's uplink)."""
        return {"delta": num_params, "delta_c": num_params}

    def init_server_state(self, global_vec: torch.Tensor) -> dict[str, torch.Tensor]:
        """Server control variate ``c = 0``."""
        return {"c": torch.zeros_like(global_vec)}

    def init_client_state(self, client: int, global_vec: torch.Tensor) -> dict[str, torch.Tensor]:
        """Client control variate ``c_i = 0``."""
        return {"c": torch.zeros_like(global_vec)}

    def payload(self, server_state: dict[str, torch.Tensor], client: int) -> dict[str, torch.Tensor]:
        """``c`` travels down with the model."""
        return {"c": server_state["c"]}

    def local_rule(self) -> LocalRule:
        """Control-variate corrected SGD."""
        return ControlVariateRule()

    def message(self, ctx: LocalContext) -> dict[str, torch.Tensor]:
        """``(Delta y, Delta c)``."""
        return {"delta": ctx.weights - ctx.start, "delta_c": ctx.scratch["delta_c"]}

    def aggregate(
        self, global_vec: torch.Tensor, server_state: dict[str, torch.Tensor], messages: dict[str, torch.Tensor],
        weights: torch.Tensor, info: AggregationInfo,
    ) -> torch.Tensor:
        """Model step with the aggregator; ``c`` moves by ``|S|/N`` of the mean control change."""
        new = self.aggregator(global_vec, messages["delta"], weights, server_state)
        share = len(info.clients) / info.num_clients
        server_state["c"] = server_state["c"] + share * weighted_mean(messages["delta_c"], weights)
        return new


def algorithm_for(cfg: FLBaselineConfig) -> Algorithm:
    """The algorithm object a config asks for."""
    agg = WeightedFedAvg(cfg.server_lr)
    if cfg.method == "fedavg":
        return FedAvg(aggregator=agg, weighting=cfg.weighting)
    if cfg.method == "fedprox":
        return FedProx(cfg.mu, aggregator=agg, weighting=cfg.weighting)
    if cfg.method == "scaffold":
        if cfg.momentum or cfg.weight_decay:
            raise ConfigError("SCAFFOLD's option-II control variates assume plain SGD: set momentum=0, weight_decay=0")
        return Scaffold(aggregator=agg, weighting=cfg.weighting)
    raise ConfigError(f"unknown FL baseline {cfg.method!r}; expected 'fedavg', 'fedprox' or 'scaffold'")
