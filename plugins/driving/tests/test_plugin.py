"""The plugin contract for ``fadnet`` and ``cdl``: build, infer (tensors and image files), evaluate, outputs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

import zoo
from zoo.data.synthetic.road import make_road
from zoo.errors import DataError, InputError

NAMES = ["fadnet-tiny", "cdl-tiny"]


@pytest.mark.parametrize("name", NAMES)
def test_build_infer_and_bad_inputs(name: str) -> None:
    model = zoo.build(name)
    inputs = zoo.api.example_inputs(model)
    out = zoo.infer(model, inputs)
    assert out["angle"].shape == (2,) and torch.isfinite(out["angle"]).all()
    assert model.training  # inference leaves the mode as it found it
    with pytest.raises(InputError):
        zoo.infer(model, {"image": torch.rand(2, 1, 40, 40)})  # not the variant's size
    with pytest.raises(InputError):
        zoo.infer(model, {"image": torch.rand(2, 3, 48, 48)})  # not grey
    with pytest.raises(InputError):
        zoo.infer(model, {"image": torch.full((1, 1, 48, 48), float("nan"))})


def test_cdl_inference_ignores_the_sub_network() -> None:
    model = zoo.build("cdl-tiny")
    x = zoo.api.example_inputs(model)
    before = zoo.infer(model, x)["angle"]
    with torch.no_grad():
        for p in model.sub.parameters():
            p.mul_(-3.0)
    assert torch.allclose(zoo.infer(model, x)["angle"], before)


def test_infer_from_image_files_and_save_outputs(tmp_path: Path) -> None:
    from zoo import discovery

    model = zoo.build("fadnet-tiny")
    road = make_road(1, seed=2, image_size=48).images[0, 0]
    square = tmp_path / "road.png"
    Image.fromarray((road * 255).round().byte().numpy()).save(square)
    wide = tmp_path / "camera.jpg"
    Image.new("RGB", (640, 480), (90, 120, 150)).save(wide)
    plugins = discovery.plugins()
    inputs = plugins.call("zoo_prepare_inputs", "fadnet", config=model.zoo.config,
                          options={"image": f"{square},{wide}"})
    assert inputs["image"].shape == (2, 1, 48, 48)
    assert torch.allclose(inputs["image"][0, 0], road, atol=1 / 255 + 1e-6)
    out = zoo.infer(model, inputs)
    paths = plugins.call("zoo_save_outputs", "fadnet", config=model.zoo.config, outputs=out, out_dir=tmp_path / "out", options={})
    saved = json.loads(Path(paths[0]).read_text())
    assert saved["angle"] == pytest.approx(out["angle"].tolist(), rel=1e-6)
    with pytest.raises(DataError, match="missing.png does not exist"):
        plugins.call("zoo_prepare_inputs", "fadnet", config=model.zoo.config,
                     options={"image": str(tmp_path / "missing.png")})
    with pytest.raises(InputError, match="--image"):
        plugins.call("zoo_prepare_inputs", "fadnet", config=model.zoo.config, options={})


@pytest.mark.parametrize("name", NAMES)
def test_evaluate_returns_rmse_and_mae(name: str) -> None:
    model = zoo.build(name)
    test = make_road(20, seed=4, image_size=48)
    metrics = zoo.evaluate(model, test)
    assert set(metrics) == {"rmse", "mae"}
    pred = zoo.infer(model, {"image": test.images})["angle"]
    assert metrics["rmse"] == pytest.approx(float(((pred - test.angles) ** 2).mean().sqrt()), rel=1e-5)
    assert metrics["mae"] == pytest.approx(float((pred - test.angles).abs().mean()), rel=1e-5)
    assert metrics["mae"] <= metrics["rmse"]


def test_variants_and_preprocessing() -> None:
    from zoo import discovery

    paper = zoo.api.get_config("fadnet-paper")
    assert paper.image_size == 200 and paper.federated.rounds == 3000 and paper.federated.batch_size == 32
    assert paper.federated.lr == 1e-3 and paper.federated.optimizer == "adam"
    cdl = zoo.api.get_config("cdl-paper")
    assert cdl.federated.rounds == 3600 and cdl.beta == 0.5 and cdl.kl == "bernoulli"
    pre = discovery.plugins().call("zoo_preprocessing", "fadnet", config=paper)
    assert pre["resize"] == [320, 240] and pre["size"] == 200 and pre["crop"] == "bottom-centre"
