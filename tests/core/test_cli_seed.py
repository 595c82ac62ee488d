"""``--seed`` makes a run repeatable: the same seed gives bitwise-identical weights and metrics, through the Python
API and through ``zoo train``, for the tiny variant of every implemented method (two steps each, to stay cheap).

The command line must also train exactly what the Python API trains for that seed (initialisation included), and
another seed must give other weights (so a test that ignored the seed could not pass).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pytest

import zoo
from zoo.cli import main

STEPS = 2
METHODS = zoo.list_models(status="implemented")


def _tiny(method: str) -> str:
    variants = zoo.info(method).variants
    return f"{method}-{'tiny' if 'tiny' in variants else variants[0]}"


def _digest(model: Any) -> str:
    h = hashlib.sha256()
    for key, value in sorted(model.state_dict().items()):
        h.update(key.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _numbers(values: Any) -> dict[str, float]:
    out = {}
    for key, value in dict(values or {}).items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _data_source(name: str) -> str:
    """``synthetic`` where the method makes it, else the bundled ``digits`` (a plugin refuses an unknown source with
    a ConfigError or a DataError)."""
    from zoo.errors import ConfigError, DataError

    try:
        zoo.make_data(name, "synthetic", "train")
        return "synthetic"
    except (ConfigError, DataError):
        return "digits"


def _api_run(name: str, data: str, seed: int, out: Path) -> tuple[str, dict[str, float]]:
    model = zoo.build(name, seed=seed)
    result = zoo.train(model, zoo.make_data(model, data, "train"), steps=STEPS, seed=seed, out_dir=str(out),
                       progress=False)
    metrics = getattr(result, "metrics", None) or (result.get("metrics") if isinstance(result, dict) else {})
    return _digest(model), _numbers(metrics)


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in
                                        ((a[k], b[k]) for k in a))


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_weights_and_metrics(method: str, tmp_path: Path) -> None:
    """Three runs: the API with seed 3, ``zoo train --seed 3`` (identical weights file and metrics), the API with
    seed 4 (other weights)."""
    name = _tiny(method)
    data = _data_source(name)
    api_digest, api_metrics = _api_run(name, data, 3, tmp_path / "api")
    out = tmp_path / "cli"
    assert main(["train", name, "--data", data, "--steps", str(STEPS), "--seed", "3", "--out", str(out),
                 "--no-progress", "--no-eval"]) == 0
    loaded = zoo.load(str(out), accept_license=zoo.info(method).to_dict()["license"])
    assert _digest(loaded.model) == api_digest, f"{name}: a second run with seed 3 (zoo train) gave other weights"
    cli_metrics = json.loads((out / "metrics.json").read_text())
    assert _same(_numbers(cli_metrics), api_metrics), f"{name}: metrics differ: {cli_metrics} vs {api_metrics}"
    assert _api_run(name, data, 4, tmp_path / "other")[0] != api_digest, f"{name}: seed 4 gave the weights of seed 3"
