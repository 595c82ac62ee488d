"""What a simulated round leaves behind: participants, faults, bytes, simulated time, loss and metrics."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RoundRecord:
    """One round's outcome.

    Attributes:
        round: round index (0-based).
        clients: clients whose update was used.
        dropped: ``{client: reason}`` for updates rejected under ``UpdatePolicy(on_invalid="drop")``.
        vanished: clients that disappeared mid-round (never answered).
        bytes_up, bytes_down: bytes sent client -> server (or node -> node) and server -> client this round.
        sim_time_s: simulated wall-clock of the round (0 without a network model).
        loss: mean local training loss of the used clients (NaN when none).
        metrics: evaluation results when the round was evaluated (with per-client evaluation:
            ``global/<m>_mean``, ``global/<m>_p10``, ``personal/<m>_mean``, ``personal/<m>_p10``).
        steps: ``{client: local steps}`` of the used clients (per-client recipes).
        staleness: ``{client: versions}`` of the used clients (asynchronous runs).
        client_metrics: ``{client: {"global/<m>": v, "personal/<m>": v}}`` when clients were evaluated.
    """

    round: int
    clients: list[int]
    dropped: dict[int, str] = field(default_factory=dict)
    vanished: list[int] = field(default_factory=list)
    bytes_up: int = 0
    bytes_down: int = 0
    sim_time_s: float = 0.0
    loss: float = float("nan")
    metrics: dict[str, float] = field(default_factory=dict)
    steps: dict[int, int] = field(default_factory=dict)
    staleness: dict[int, int] = field(default_factory=dict)
    client_metrics: dict[int, dict[str, float]] = field(default_factory=dict)


@dataclass
class FLHistory:
    """All rounds of a run, with totals and a ``{name: [values]}`` view for curves."""

    rounds: list[RoundRecord] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """Bytes sent in both directions over the run."""
        return sum(r.bytes_up + r.bytes_down for r in self.rounds)

    @property
    def total_time_s(self) -> float:
        """Simulated wall-clock of the run."""
        return sum(r.sim_time_s for r in self.rounds)

    def series(self) -> dict[str, list[float]]:
        """Per-round curves: loss, bytes, time, and each metric (NaN where a round was not evaluated)."""
        names = sorted({m for r in self.rounds for m in r.metrics})
        out: dict[str, list[float]] = {"loss": [], "bytes": [], "sim_time_s": []}
        out.update({m: [] for m in names})
        for r in self.rounds:
            out["loss"].append(r.loss)
            out["bytes"].append(float(r.bytes_up + r.bytes_down))
            out["sim_time_s"].append(r.sim_time_s)
            for m in names:
                out[m].append(r.metrics.get(m, float("nan")))
        return out

    def to_json(self) -> list[dict[str, Any]]:
        """JSON-able list of the round records."""
        out = []
        for r in self.rounds:
            d = asdict(r)
            for key in ("dropped", "steps", "staleness", "client_metrics"):
                d[key] = {str(k): v for k, v in d[key].items()}
            out.append(d)
        return out

    @classmethod
    def from_json(cls, rows: list[dict[str, Any]]) -> FLHistory:
        """Inverse of :meth:`to_json` (for checkpoints)."""
        rounds = []
        for d in rows:
            d = dict(d)
            for key in ("dropped", "steps", "staleness", "client_metrics"):
                d[key] = {int(k): v for k, v in d.get(key, {}).items()}
            rounds.append(RoundRecord(**d))
        return cls(rounds)
