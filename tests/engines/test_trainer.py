"""The shared trainer: exact resume, outputs, schedules, clipping, EMA, callbacks and the plugin hook."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn
from torch.utils.data import TensorDataset

from zoo import discovery
from zoo.engines import checkpoint as ckpt
from zoo.engines.sampling import StepSampler
from zoo.engines.schedules import lr_factor
from zoo.engines.trainer import Recipe, StopTraining, TrainResult, fit
from zoo.errors import ConfigError, TrainingError
from zoo.hookspecs import hookimpl
from zoo.options import TrainOptions


def _data(n: int = 96) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 8, generator=g)
    return TensorDataset(x, (x[:, 0] + 0.5 * x[:, 1] > 0).long())


def _model(dropout: float = 0.1) -> nn.Module:
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 2)
    )


def _loss(model: nn.Module, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
    x, y = batch
    logits = model(x)
    return nn.functional.cross_entropy(logits, y), {"acc": (logits.argmax(1) == y).float().mean().item()}


def _opts(out: Path | None, **kw: Any) -> TrainOptions:
    return TrainOptions(out_dir=str(out) if out else None, seed=3, progress=False, **kw)


RECIPES = {
    "adamw-cosine-ema-clip": Recipe(
        steps=16,
        batch_size=12,
        lr=1e-2,
        schedule="cosine",
        warmup_steps=3,
        grad_clip=0.5,
        ema_decay=0.8,
        weight_decay=0.01,
    ),
    "sgd-step": Recipe(steps=16, batch_size=40, lr=0.1, optimizer="sgd", schedule="step", milestones=(5, 11)),
}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_resume_is_bitwise_identical(tmp_path: Path, name: str) -> None:
    recipe = RECIPES[name]  # batch 40 of 96 samples: batches straddle epochs
    straight = _model()
    full = fit(straight, _data(), _loss, recipe, _opts(tmp_path / "straight"))

    def crash_at_half(event: str, state: dict[str, Any]) -> None:
        if event == "on_checkpoint" and state["step"] == recipe.steps // 2:
            raise StopTraining

    first = _model()
    half = fit(
        first,
        _data(),
        _loss,
        recipe,
        _opts(tmp_path / "split", checkpoint_every=recipe.steps // 2),
        callbacks=[crash_at_half],
    )
    assert half.steps == recipe.steps // 2
    resumed = _model()  # a fresh process would rebuild the model from scratch
    rest = fit(resumed, _data(), _loss, recipe, _opts(tmp_path / "split", resume=True))
    assert rest.steps == recipe.steps
    for (key, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), key
    assert full.history == rest.history


def test_fit_writes_outputs_and_learns(tmp_path: Path) -> None:
    recipe = Recipe(steps=60, batch_size=32, lr=3e-2, schedule="cosine", warmup_steps=5)
    model = _model(0.0)
    evals: list[int] = []

    def eval_fn(m: nn.Module) -> dict[str, float]:
        evals.append(1)
        m.eval()
        x, y = _data().tensors
        with torch.no_grad():
            return {"accuracy": (m(x).argmax(1) == y).float().mean().item()}

    result = fit(
        model, _data(), _loss, recipe, _opts(tmp_path, eval_every=20, checkpoint_every=25), eval_fn=eval_fn
    )
    assert isinstance(result, TrainResult) and result.steps == 60 and result["steps"] == 60
    loss = result.history["loss"]
    assert len(loss) == 60 and result.history["step"] == [float(i) for i in range(1, 61)]
    assert sum(loss[-10:]) / 10 < 0.6 * sum(loss[:10]) / 10
    assert result.metrics["accuracy"] > 0.85 and "final_loss" in result.metrics
    assert result.history["eval_step"] == [20.0, 40.0, 60.0] and len(evals) == 3
    assert "acc" in result.history  # extras from the loss function are recorded
    for name in ("history.json", "curves.png", "metrics.json", "model.safetensors"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "history.json").read_text())["loss"] == loss
    saved = load_file(str(tmp_path / "model.safetensors"))
    assert torch.equal(saved["0.weight"], model[0].weight.detach())
    steps = [s for s, _ in ckpt.list_checkpoints(tmp_path / "checkpoints")]
    assert steps == [50, 60]  # every 25 steps + the end, keeping the newest 2
    files = {p.name for p in (tmp_path / "checkpoints" / "step-00000060").iterdir()}
    assert files == {"model.safetensors", "optimizer.safetensors", "rng.safetensors", "state.json"}


def test_incomplete_checkpoint_folders_are_ignored(tmp_path: Path) -> None:
    fit(_model(), _data(), _loss, Recipe(steps=2, batch_size=8, lr=1e-3), _opts(tmp_path))
    (tmp_path / "checkpoints" / ".step-00000009.abc.tmp").mkdir()  # a crash while writing
    (tmp_path / "checkpoints" / "step-00000010").mkdir()  # no state.json: not a checkpoint
    assert ckpt.latest_checkpoint(tmp_path / "checkpoints").name == "step-00000002"
    with pytest.raises(TrainingError, match="not a checkpoint"):
        ckpt.load_checkpoint(tmp_path / "checkpoints" / "step-00000010", model=_model())


def test_lr_schedules_follow_the_recipe() -> None:
    assert [lr_factor(s, schedule="constant", total_steps=10, warmup_steps=4) for s in range(5)] == [
        0.25,
        0.5,
        0.75,
        1.0,
        1.0,
    ]
    assert lr_factor(0, schedule="cosine", total_steps=10) == 1.0
    assert lr_factor(5, schedule="cosine", total_steps=10) == pytest.approx(0.5)
    assert lr_factor(10, schedule="cosine", total_steps=10, min_lr_ratio=0.1) == pytest.approx(0.1)
    assert [
        lr_factor(s, schedule="step", total_steps=9, milestones=(3, 6), gamma=0.5) for s in (0, 2, 3, 6, 8)
    ] == [1.0, 1.0, 0.5, 0.25, 0.25]
    recipe = Recipe(steps=12, batch_size=8, lr=0.2, schedule="cosine", warmup_steps=2)
    result = fit(_model(), _data(), _loss, recipe, _opts(None))
    expected = [0.2 * lr_factor(s, schedule="cosine", total_steps=12, warmup_steps=2) for s in range(12)]
    assert result.history["lr"] == pytest.approx(expected)


def test_gradient_clipping_bounds_the_update() -> None:
    model = _model(0.0)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    recipe = Recipe(steps=1, batch_size=16, lr=1.0, optimizer="sgd", momentum=0.0, grad_clip=1e-3)
    result = fit(model, _data(), _loss, recipe, _opts(None))
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert result.history["grad_norm"][0] > 1e-3  # the raw norm was larger...
    assert (after - before).norm().item() == pytest.approx(1e-3, rel=1e-3)  # ...and the step was clipped


def test_ema_is_the_average_of_the_live_weights() -> None:
    decay = 0.7
    model = _model(0.0)
    shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def track(event: str, state: dict[str, Any]) -> None:
        if event == "on_step_end":
            for k, v in state["model"].state_dict().items():
                shadow[k] = decay * shadow[k] + (1 - decay) * v if v.is_floating_point() else v.clone()

    fit(
        model,
        _data(),
        _loss,
        Recipe(steps=5, batch_size=16, lr=0.05, ema_decay=decay),
        _opts(None),
        callbacks=[track],
    )
    for k, v in model.state_dict().items():  # at the end the model holds the average
        torch.testing.assert_close(v, shadow[k], rtol=1e-5, atol=1e-6)


class _Tracker:
    """A third-party plugin that logs training events through the pluggy hook."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    @hookimpl
    def zoo_train_event(self, event: str, state: dict[str, Any]) -> None:
        self.events.append((event, int(state["step"])))


def test_callbacks_and_plugin_hook_see_every_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = _Tracker()
    found = discovery.PluginSet(manager=discovery.new_manager())
    found.manager.register(tracker, name="tracker")
    monkeypatch.setattr(discovery, "plugins", lambda: found)
    seen: list[str] = []

    class Methods:  # an object with on_<event> methods is a callback too
        def on_train_end(self, state: dict[str, Any]) -> None:
            seen.append(f"end:{state['result'].steps}")

    fit(
        _model(),
        _data(),
        _loss,
        Recipe(steps=4, batch_size=8, lr=1e-3),
        _opts(tmp_path, checkpoint_every=2, eval_every=2),
        eval_fn=lambda m: {"zero": 0.0},
        callbacks=[lambda e, s: seen.append(e), Methods()],
    )
    names = [e for e, _ in tracker.events]
    assert names[0] == "on_train_start" and names[-1] == "on_train_end"
    assert [s for e, s in tracker.events if e == "on_step_end"] == [1, 2, 3, 4]
    assert [s for e, s in tracker.events if e == "on_checkpoint"] == [2, 4]
    assert [s for e, s in tracker.events if e == "on_eval_end"] == [2, 4]
    assert seen[:-1] == names and seen[-1] == "end:4"


def test_step_fn_replaces_the_default_update() -> None:
    calls: list[int] = []

    def step_fn(model: nn.Module, batch: Any, optimizer: torch.optim.Optimizer) -> dict[str, float]:
        calls.append(len(batch[0]))
        optimizer.zero_grad()
        loss, _ = _loss(model, batch)
        loss.backward()
        optimizer.step()
        return {"loss": loss.item(), "custom": 1.0}

    result = fit(
        _model(),
        (_data().tensors[0], _data().tensors[1]),
        None,
        Recipe(steps=3, batch_size=5, lr=1e-3),
        _opts(None),
        step_fn=step_fn,
    )
    assert calls == [5, 5, 5] and result.history["custom"] == [1.0, 1.0, 1.0]


def test_bad_runs_raise_domain_errors() -> None:
    with pytest.raises(ConfigError, match="optimizer"):
        Recipe(steps=1, batch_size=1, lr=1.0, optimizer="lion")
    with pytest.raises(ConfigError, match="schedule"):
        Recipe(steps=1, batch_size=1, lr=1.0, schedule="poly")
    with pytest.raises(ConfigError, match="loss_fn or a step_fn"):
        fit(_model(), _data(), None, Recipe(steps=1, batch_size=1, lr=1.0))

    def nan_loss(model: nn.Module, batch: Any) -> torch.Tensor:
        return model(batch[0]).sum() * math.nan

    with pytest.raises(TrainingError, match="loss became nan at step 0"):
        fit(_model(), _data(), nan_loss, Recipe(steps=2, batch_size=4, lr=1.0), _opts(None))


def test_sampler_visits_every_sample_once_per_epoch() -> None:
    sampler = StepSampler(10, 4, seed=5)
    first_epoch = torch.cat([sampler.global_indices(s) for s in range(5)])  # 20 positions = 2 epochs
    assert sorted(first_epoch[:10].tolist()) == list(range(10))
    assert sorted(first_epoch[10:].tolist()) == list(range(10))
    assert torch.equal(StepSampler(10, 4, seed=5).indices(3), sampler.indices(3))
    assert not torch.equal(StepSampler(10, 4, seed=6).indices(3), sampler.indices(3))


def test_determinism_switch_is_scoped_to_the_run() -> None:
    seen: list[bool] = []
    before = torch.are_deterministic_algorithms_enabled()
    fit(_model(), _data(), _loss, Recipe(steps=1, batch_size=8, lr=1e-3, deterministic=True), _opts(None),
        callbacks=[lambda e, s: seen.append(torch.are_deterministic_algorithms_enabled())])
    assert all(seen) and seen
    assert torch.are_deterministic_algorithms_enabled() == before


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_mixed_precision_on_cuda_trains(tmp_path: Path) -> None:
    dtypes: list[torch.dtype] = []

    def loss_fn(model: nn.Module, batch: Any) -> torch.Tensor:
        logits = model(batch[0])
        dtypes.append(logits.dtype)
        return nn.functional.cross_entropy(logits.float(), batch[1])

    recipe = Recipe(steps=40, batch_size=32, lr=3e-2, amp=True, grad_clip=1.0)
    result = fit(_model(0.0), _data(), loss_fn, recipe, TrainOptions(device="cuda", out_dir=str(tmp_path),
                                                                    progress=False))
    assert dtypes[0] in (torch.bfloat16, torch.float16)  # autocast was on
    assert np.mean(result.history["loss"][-5:]) < np.mean(result.history["loss"][:5])
    assert (tmp_path / "checkpoints").is_dir()


def _two_losses(model: nn.Module, batch: Any, tools: Any) -> dict[str, float]:
    """A step with two backward passes, like local learning: the first layer's loss, then the head's."""
    x, y = batch
    with tools.autocast():
        h = model[1](model[0](x))
        first = h.pow(2).mean()
    tools.backward(first, name="local_loss_0")
    with tools.autocast():
        logits = model[4](model[3](model[2](h.detach())))
        loss = nn.functional.cross_entropy(logits, y)
    return {"loss": tools.backward(loss), "local_loss_0": float(first)}


def test_backward_fn_gets_clipping_and_one_step() -> None:
    model = _model(0.0)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    recipe = Recipe(steps=1, batch_size=16, lr=1.0, optimizer="sgd", momentum=0.0, grad_clip=1e-3)
    result = fit(model, _data(), None, recipe, _opts(None), backward_fn=_two_losses)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert result.history["grad_norm"][0] > 1e-3 and "local_loss_0" in result.history
    assert (after - before).norm().item() == pytest.approx(1e-3, rel=1e-3)  # clipped like the default path


def test_backward_fn_and_step_fn_losses_are_checked_for_nan() -> None:
    def nan_local(model: nn.Module, batch: Any, tools: Any) -> dict[str, float]:
        tools.backward(model(batch[0]).sum() * math.nan, name="local_loss_2")
        return {"loss": 0.0}

    with pytest.raises(TrainingError, match="local_loss_2 became nan at step 0"):
        fit(_model(), _data(), None, Recipe(steps=2, batch_size=4, lr=1.0), _opts(None), backward_fn=nan_local)

    def nan_step(model: nn.Module, batch: Any, optimizer: Any) -> dict[str, float]:
        return {"loss": math.inf}

    with pytest.raises(TrainingError, match="loss became inf at step 0"):
        fit(_model(), _data(), None, Recipe(steps=2, batch_size=4, lr=1.0), _opts(None), step_fn=nan_step)


def test_backward_fn_may_step_several_optimizers_each_clipped() -> None:
    model = _model(0.0)
    first = torch.optim.SGD(list(model[0].parameters()) + list(model[1].parameters()), lr=1.0)
    second = torch.optim.SGD(list(model[4].parameters()), lr=1.0)
    before = [p.detach().clone() for p in model.parameters()]

    def per_module(model: nn.Module, batch: Any, tools: Any) -> dict[str, float]:
        x, y = batch
        h = model[1](model[0](x))
        tools.backward(h.pow(2).mean())
        tools.step(first)
        loss = nn.functional.cross_entropy(model[4](model[3](model[2](h.detach()))), y)
        tools.backward(loss)
        tools.step(second)
        return {"loss": float(loss)}

    main = torch.optim.SGD(model.parameters(), lr=0.0)  # the run's optimizer: never stepped here
    fit(model, _data(), None, Recipe(steps=1, batch_size=16, lr=0.0, grad_clip=1e-3), _opts(None),
        optimizer=main, backward_fn=per_module)
    moved = [float((p.detach() - b).norm()) for p, b in zip(model.parameters(), before)]
    first_move = math.sqrt(sum(m * m for m in moved[:4]))
    assert first_move == pytest.approx(1e-3, rel=1e-3) and math.sqrt(moved[4] ** 2 + moved[5] ** 2) == \
        pytest.approx(1e-3, rel=1e-3)


def test_fit_refuses_two_step_kinds() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        fit(_model(), _data(), _loss, Recipe(steps=1, batch_size=4, lr=1.0), _opts(None), backward_fn=_two_losses)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_backward_fn_runs_under_mixed_precision_on_cuda() -> None:
    dtypes: list[torch.dtype] = []

    def step(model: nn.Module, batch: Any, tools: Any) -> dict[str, float]:
        with tools.autocast():
            logits = model(batch[0])
        dtypes.append(logits.dtype)
        return {"loss": tools.backward(nn.functional.cross_entropy(logits.float(), batch[1]))}

    result = fit(_model(0.0), _data(), None, Recipe(steps=30, batch_size=32, lr=3e-2, amp=True, grad_clip=1.0),
                 TrainOptions(device="cuda", progress=False), backward_fn=step)
    assert dtypes[0] in (torch.bfloat16, torch.float16)
    assert np.mean(result.history["loss"][-5:]) < np.mean(result.history["loss"][:5])
