"""GLAMOR-Net trains beyond chance on synthetic faces in context; the CLI path from an image and a face box."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import zoo
from zoo.data.synthetic.faces_in_context import make_faces_in_context
from zoo.errors import ConfigError, InputError
from zoo.options import TrainOptions
from zoo_plugins.glamor_net.preprocess import face_and_context, parse_box

STEPS = 120


def test_tiny_trains_beyond_chance_on_synthetic_scenes() -> None:
    torch.manual_seed(0)
    model = zoo.build("glamor-net-tiny", train_size=420, test_size=140)
    train, test = zoo.make_data(model, "synthetic", "train"), zoo.make_data(model, "synthetic", "test")
    result = zoo.train(model, train, options=TrainOptions(steps=STEPS, progress=False, seed=0))
    losses = result.history["loss"]
    assert sum(losses[-20:]) / 20 < sum(losses[:20]) / 20 - 0.2
    acc = zoo.evaluate(model, test)["accuracy"]
    assert acc > 0.35, acc  # chance is 1/7 = 0.143


def test_synthetic_scenes_mask_the_face_and_carry_the_class() -> None:
    data = make_faces_in_context(14, seed=3, scene_size=48, face_size=32)
    for i in range(len(data)):
        x, y, w, h = (int(v) for v in data.boxes[i])
        assert data.contexts[i, :, y:y + h, x:x + w].abs().sum() == 0
        assert data.scenes[i, :, y:y + h, x:x + w].abs().sum() > 0
    assert sorted(data.labels.tolist()) == sorted([c for c in range(7)] * 2)
    from zoo.data import synthetic

    again = synthetic.make("faces_in_context", 14, seed=3, scene_size=48, face_size=32)
    assert torch.equal(data.contexts, again.contexts)
    noisy = make_faces_in_context(14, seed=3, scene_size=48, face_size=32, label_noise=0.5)
    assert torch.equal(noisy.faces, data.faces) and int((noisy.labels != noisy.clean_labels).sum()) == 7


def test_face_and_context_crop_and_mask_the_box() -> None:
    image = torch.rand(3, 40, 60)
    face, context = face_and_context(image, (10, 5, 20, 10), face_size=8, context_size=16)
    assert face.shape == (3, 8, 8) and context.shape == (3, 16, 16)
    full = face_and_context(image, (10, 5, 20, 10), 20, 40)[1]
    assert full.shape == (3, 40, 40)
    with pytest.raises(InputError):
        parse_box("1,2,3")
    with pytest.raises(InputError):
        parse_box("1,2,0,4")
    assert parse_box("1, 2, 3, 4") == (1.0, 2.0, 3.0, 4.0)


def test_cli_style_inference_writes_attention_picture(tmp_path: Path) -> None:
    torch.manual_seed(0)
    scene = (np.random.default_rng(0).random((60, 80, 3)) * 255).astype(np.uint8)
    Image.fromarray(scene).save(tmp_path / "scene.png")
    model = zoo.build("glamor-net-tiny")
    from zoo import discovery

    plugins = discovery.plugins()
    options = {"image": str(tmp_path / "scene.png"), "face": "20,10,24,24"}
    inputs = plugins.call("zoo_prepare_inputs", "glamor-net", config=model.zoo.config, options=options)
    assert inputs["face"].shape == (1, 3, 32, 32) and inputs["context"].shape == (1, 3, 48, 48)
    outputs = zoo.infer(model, inputs)
    paths = plugins.call("zoo_save_outputs", "glamor-net", config=model.zoo.config, outputs=outputs, out_dir=tmp_path / "out",
                         options=options)
    names = sorted(p.name for p in paths)
    assert names == ["attention.png", "predictions.json"]
    assert (tmp_path / "out" / "attention.png").stat().st_size > 1000
    record = json.loads((tmp_path / "out" / "predictions.json").read_text())["predictions"][0]
    assert set(record["probs"]) == set(model.zoo.config.class_names)
    with pytest.raises(ConfigError, match="--face"):
        plugins.call("zoo_prepare_inputs", "glamor-net", config=model.zoo.config,
                     options={"image": str(tmp_path / "scene.png")})
