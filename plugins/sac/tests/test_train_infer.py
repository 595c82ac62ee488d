"""Training on scikit-learn digits through the shared trainer, evaluation, inference, CLI inputs and pictures."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import zoo
from zoo import discovery
from zoo.errors import ConfigError, InputError
from zoo.options import TrainOptions
from zoo_plugins.sac.config import paper
from zoo_plugins.sac.train import recipe_for


@pytest.fixture(scope="module")
def trained() -> Iterator[tuple[Any, Any, Any]]:
    """sac-tiny trained with its own recipe (150 steps) on the digits training split; one thread (tiny ops)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)  # the initial weights (the trainer seeds the batch order itself)
        model = zoo.build("sac-tiny")
        train = zoo.make_data(model, "digits", "train")
        test = zoo.make_data(model, "digits", "test")
        result = zoo.train(model, train, options=TrainOptions(progress=False, seed=0))
        yield model, test, result
    finally:
        torch.set_num_threads(threads)


def test_sac_learns_digits(trained: tuple[Any, Any, Any]) -> None:
    model, test, result = trained
    losses = result.history["loss"]
    assert sum(losses[-10:]) / 10 < 0.5 * sum(losses[:10]) / 10
    assert "ce2" in result.history and "ce1_drop" in result.history  # both classifiers, dropped view trained
    metrics = zoo.evaluate(model, test)
    assert metrics["top1_accuracy"] > 0.90, metrics
    assert metrics["top1_second"] > 0.90, metrics  # the self-assessment classifier itself learned


def test_infer_real_digits(trained: tuple[Any, Any, Any], tmp_path: Path) -> None:
    model, test, _ = trained
    out = zoo.infer(model, {"image": test.images[:8]})
    assert out["probs"].shape == (8, 10) and out["top_indices"].shape == (8, 3)
    assert (out["top_indices"][:, 0] == test.labels[:8]).float().mean() >= 0.75
    assert out["top_names"][0][0] == test.class_names[int(out["top_indices"][0, 0])]
    assert out["attention"].shape == (8, 4, 4) and out["attention_per_class"].shape == (8, 3, 4, 4)
    torch.testing.assert_close(out["attention"].sum(dim=(1, 2)), torch.full((8,), 3.0))
    two = zoo.infer(model, {"image": test.images[:2]})
    written = discovery.plugins().call("zoo_save_outputs", "sac", config=None, outputs=two, out_dir=tmp_path, options={})
    pngs = [p for p in written if p.suffix == ".png"]
    assert len(pngs) == 2 and all(p.stat().st_size > 1000 for p in pngs)
    records = json.loads((tmp_path / "predictions.json").read_text())
    assert records[0]["top_k"][0]["class"] == two["top_names"][0][0] == out["top_names"][0][0]


def test_prepare_inputs_from_png(tmp_path: Path) -> None:
    from PIL import Image

    config = zoo.api.get_config("sac-tiny")
    path = tmp_path / "x.png"
    Image.new("L", (32, 32), 255).save(path)
    inputs = discovery.plugins().call("zoo_prepare_inputs", "sac", config=config, options={"image": str(path)})
    assert inputs["image"].shape == (1, 1, 8, 8)
    torch.testing.assert_close(inputs["image"], torch.ones(1, 1, 8, 8))
    model = zoo.build("sac-tiny")
    assert zoo.infer(model, inputs)["probs"].shape == (1, 10)
    with pytest.raises(InputError, match="does not exist"):
        discovery.plugins().call("zoo_prepare_inputs", "sac", config=config, options={"image": str(tmp_path / "no")})
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.raises(InputError, match="bad.png"):
        discovery.plugins().call("zoo_prepare_inputs", "sac", config=config, options={"image": str(tmp_path / "bad.png")})


def test_bad_inputs() -> None:
    model = zoo.build("sac-tiny")
    with pytest.raises(InputError, match="channels"):
        zoo.infer(model, {"image": torch.rand(2, 3, 8, 8)})
    with pytest.raises(InputError):
        zoo.infer(model, {"image": torch.rand(2, 8, 8)})
    bad = torch.rand(1, 1, 8, 8)
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(InputError):
        zoo.infer(model, {"image": bad})


def test_class_names_must_match_the_data() -> None:
    model = zoo.build("sac-tiny", class_names=tuple(f"digit {i}" for i in range(10)))
    with pytest.raises(ConfigError, match="class names"):
        zoo.train(model, zoo.make_data(model, "digits", "train"), options=TrainOptions(progress=False, steps=1))


def test_paper_recipe() -> None:
    config = paper()
    recipe = recipe_for(config, 5994)  # CUB-200-2011 training images
    per_epoch = 500  # ceil(5994 / 12)
    assert recipe.steps == 80 * per_epoch and recipe.batch_size == 12 and recipe.optimizer == "sgd"
    assert recipe.milestones[:2] == (2 * per_epoch, 4 * per_epoch) and len(recipe.milestones) == 39
    assert (recipe.lr, recipe.gamma, recipe.momentum, recipe.weight_decay) == (1e-3, 0.9, 0.9, 1e-5)
    assert (config.top_k, config.alpha, config.d_phi, config.word_dim, config.class_dim) == (10, 0.5, 0.1, 300, 1024)
    names = dataclasses.replace(config, num_classes=3, top_k=2).names
    assert names == ("class_1", "class_2", "class_3")


def test_public_code_options_train() -> None:
    """The code's choices (shared factors, residual head, WS-DAN drop, lambda 0.01) and the couples softmax run
    through the trainer and change the weights."""
    torch.manual_seed(0)
    model = zoo.build("sac-tiny", shared_projections=True, second_head="residual", drop_mode="wsdan",
                      second_weight=0.01, attention_norm="couples", second_scope="topk")
    before = model.second.up.weight.detach().clone()
    result = zoo.train(model, zoo.make_data(model, "digits", "train"), options=TrainOptions(progress=False, steps=3))
    assert len(result.history["loss"]) == 3 and all(torch.isfinite(torch.tensor(result.history["loss"])))
    assert not torch.equal(before, model.second.up.weight)
    out = zoo.infer(model, {"image": torch.rand(2, 1, 8, 8)})
    second_part = out["probs"] - 0.5 * out["probs_first"]  # (1 - alpha) * Pr_2, renormalised over C_k
    outside = torch.ones_like(second_part, dtype=torch.bool).scatter(-1, out["candidates"], False)
    assert second_part[outside].abs().max() < 1e-6 and second_part[~outside].min() > 0


# ------------------------------------------------------------------------------------------------ fidelity pass
def test_placeholder_class_names_warn_when_built_and_cannot_train_by_accident() -> None:
    """Without class names the GRU would embed 'class_1'..'class_N' (a class-id embedding): say so loudly."""
    from zoo_plugins.sac.model import PlaceholderNamesWarning, SACModel
    from zoo_plugins.sac.train import train

    config = dataclasses.replace(paper(), backbone="zoo_sac_cnn", in_chans=1, image_size=8, mean=(0.0,),
                                 std=(1.0,), num_classes=10, top_k=3, word_dim=8, class_dim=8, joint_dim=8,
                                 steps=1, epochs=0)
    assert paper().class_names == ()
    with pytest.warns(PlaceholderNamesWarning, match="class-id embedding"):
        model = SACModel(config)
    assert model.class_names[0] == "class_1"
    data = zoo.make_data(zoo.build("sac-tiny"), "digits", "train")
    with pytest.raises(ConfigError, match="WITHOUT class names"):
        train(model, data, config, TrainOptions(progress=False))
    allowed = dataclasses.replace(config, allow_placeholder_names=True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", PlaceholderNamesWarning)
        SACModel(allowed)  # an explicit ablation: no warning
    named = dataclasses.replace(config, class_names=data.class_names)
    train(SACModel(named), data, named, TrainOptions(progress=False, steps=1))


def test_fine_grained_task_differs_only_in_a_small_local_mark() -> None:
    """Same genus: same body colour distribution; the species is the 3x3 mark's shape; names share words."""
    from zoo_plugins.sac.finegrained import class_names, make_fine_grained

    data = make_fine_grained(200, seed=0)
    names = class_names()
    assert len(names) == 20 and names[0] == "red crowned warbler" and data.class_names == names
    assert torch.bincount(data.labels, minlength=20).tolist() == [10] * 20
    genus = data.labels // 5
    # the body covers only ~30 % of the image (the grey background dominates a whole-image median), so find its
    # pixels by their saturation: the genus colour's channels span >= 0.45, the grey background's only its noise
    pixels = data.images.flatten(2)  # [n, 3, P]
    on_body = pixels.max(1).values - pixels.min(1).values > 0.3  # [n, P]
    assert int(on_body.sum(1).min()) >= 30  # every image has a body to measure
    body = torch.stack([torch.stack([pixels[i, c][on_body[i]].median() for c in range(3)]) for i in range(200)])
    for g_ in range(4):  # one genus looks alike: its body colours spread ~0.22x the spread over all (shuffled: ~1x)
        spread_within = body[genus == g_].std(0).mean()
        assert spread_within < 0.5 * body.std(0).mean()
    dark = (data.images.max(dim=1).values < 0.2).float().sum((1, 2))  # ... and dark pixels: mark + 2 blots
    assert float(dark.min()) >= 3 + 2 * 4 - 4 and float(dark.max()) <= 9 + 2 * 4
    again = make_fine_grained(200, seed=0)
    assert torch.equal(again.images, data.images)
