"""Flower app components for a real deployment (SuperLink + SuperNodes, ``flwr run``), built from run config.

A Flower app project (see docs/federated.md) names these components in its ``pyproject.toml``::

    [tool.flwr.app.components]
    serverapp = "zoo.engines.federated.flower_app:serverapp"
    clientapp = "zoo.engines.federated.flower_app:clientapp"

    [tool.flwr.app.config]
    task = "my_task:make_task"        # module:function (or file.py:function) returning a FlowerTask
    rounds = 10
    out = "runs/flower"              # where the ServerApp writes global.safetensors and history.json

Every SuperNode is started with ``--node-config "partition-id=K"`` (K = the client id it plays) and must be able to
import the task module (ship it inside the app project, or install it). The ServerApp and ClientApp then run the
engine's server and client sides exactly as :func:`~zoo.engines.federated.flower.run_flower_simulation` does.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.engines.federated.distributed import load_task
from zoo.engines.federated.flower import ClientHandlers, FlowerTask, _node_map, run_server_task
from zoo.errors import FederatedError

from flwr.app import Context, Message
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

serverapp = ServerApp()
clientapp = ClientApp()
_HANDLERS: dict[str, ClientHandlers] = {}


def task_of(context: Context) -> tuple[str, FlowerTask]:
    """The task named by the run config's ``task`` entry."""
    spec = str(context.run_config.get("task", ""))
    if not spec:
        raise FederatedError("the Flower run config needs task = 'module:function' returning a FlowerTask")
    task: Any = load_task(spec)
    if not isinstance(task, FlowerTask):
        raise FederatedError(f"{spec} returned a {type(task).__name__}, not a FlowerTask")
    return spec, task


def _handlers(context: Context) -> ClientHandlers:
    spec = str(context.run_config.get("task", ""))
    if spec not in _HANDLERS:
        _HANDLERS[spec] = ClientHandlers([task_of(context)[1]])
    return _HANDLERS[spec]


@serverapp.main()
def main(grid: Grid, context: Context) -> None:
    """Run the task for ``rounds`` rounds; write the global model and the history to ``out``."""
    import json

    from safetensors.torch import save_file

    from zoo.io import atomic_write_text

    _, task = task_of(context)
    rounds = int(context.run_config.get("rounds", 1))
    nodes = _node_map(grid, task.data.num_clients, float(context.run_config.get("connect-timeout", 600)))
    result = run_server_task(grid, task, 0, rounds, nodes, personal=False)
    out = Path(str(context.run_config.get("out", "runs/flower")))
    out.mkdir(parents=True, exist_ok=True)
    assert result.global_vec is not None
    save_file({"global": result.global_vec.contiguous()}, str(out / "global.safetensors"))
    atomic_write_text(out / "history.json", json.dumps(result.history.to_json(), indent=2))


@clientapp.train()
def train(msg: Message, context: Context) -> Message:
    """The engine's client update."""
    return _handlers(context).train(msg, context)


@clientapp.query()
def query(msg: Message, context: Context) -> Message:
    """Partition id (and state on request)."""
    return _handlers(context).query(msg, context)
