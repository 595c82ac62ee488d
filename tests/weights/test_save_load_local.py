"""zoo.save / zoo.load with local folders: provenance, strict loading, meta-device build, pickles, licences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import safetensors.torch
import torch
import yaml

import zoo
from zoo.configs import config_sha256
from zoo.errors import (
    ConfigError,
    IntegrityError,
    LicenseNotAcceptedError,
    StateDictMismatchError,
    UnsafeFormatError,
    WeightsError,
)
from zoo.weights import Loaded
from zoo.weights.statedict import read_header


def _front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_save_writes_config_weights_with_metadata_and_card(weights_env, protonet):
    saved = zoo.save(
        protonet,
        weights_env / "m",
        metrics={"digits": {"accuracy": 0.875}},
        command="zoo train protonet-tiny --steps 150",
        deviations="Prototypes from all training data.",
    )
    folder = weights_env / "m"
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    config = json.loads((folder / "config.json").read_text())
    assert (config["method"], config["variant"]) == ("protonet", "tiny")
    assert config["config"]["channels"] == 16 and config["license"] == "MIT"
    assert config["weights"] == {"file": "model.safetensors", "sha256": saved.sha256, "size": saved.size}
    meta = read_header(folder / "model.safetensors").metadata
    assert meta["zoo.method"] == "protonet" and meta["zoo.variant"] == "tiny"
    assert meta["zoo.config_sha256"] == config_sha256(protonet.zoo.config) == config["config_sha256"]
    assert meta["zoo.version"] == zoo.__version__ and "zoo-protonet" in meta["zoo.code_version"]
    card = (folder / "README.md").read_text()
    front = _front_matter(card)
    assert front["license"] == "mit" and front["library_name"] == "zoo"
    result = front["model-index"][0]["results"][0]
    assert result["dataset"]["name"] == "digits"
    assert result["metrics"] == [{"type": "accuracy", "value": 0.875}]
    for text in (
        "zoo train protonet-tiny --steps 150",
        "Prototypes from all training data.",
        "https://arxiv.org/abs/1703.05175",
        "## Intended use",
        saved.sha256,
    ):
        assert text in card


def test_load_local_folder_gives_identical_outputs_and_a_bundle(weights_env, protonet, image):
    zoo.save(protonet, weights_env / "m")
    loaded = zoo.load(weights_env / "m")
    assert isinstance(loaded, Loaded) and loaded.init == "meta" and loaded.name == "protonet-tiny"
    assert not any(t.is_meta for t in loaded.model.state_dict().values())
    assert torch.equal(loaded(image), protonet(image))
    assert torch.equal(
        loaded.infer({"image": image})["probs"], zoo.infer(protonet, {"image": image})["probs"]
    )
    model, preprocessing, spec = loaded
    from zoo.weights.save import preprocessing_of

    declared = preprocessing_of("protonet", protonet.zoo.config)  # what the plugin's zoo_preprocessing says
    assert model is loaded.model and spec.name == "protonet" and preprocessing == declared
    assert json.loads((weights_env / "m" / "config.json").read_text())["preprocessing"] == declared
    assert (
        loaded.zoo.variant == "tiny" and not loaded.training
    )  # delegated to the model, which is in eval mode
    assert (
        loaded.record is not None
        and loaded.record.sha256
        == json.loads((weights_env / "m" / "config.json").read_text())["weights"]["sha256"]
    )


def test_meta_build_initialises_parameters_once(weights_env, protonet, monkeypatch):
    zoo.save(protonet, weights_env / "m")
    devices: list[str] = []
    real = torch.nn.init.kaiming_uniform_

    def spy(tensor, *args, **kwargs):
        devices.append(tensor.device.type)
        return real(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.nn.init, "kaiming_uniform_", spy)
    loaded = zoo.load(weights_env / "m")
    assert devices and set(devices) == {"meta"}  # every init ran on meta: no real initialisation at all
    assert loaded.init == "meta"


def test_dtype_and_preprocessing_travel_with_weights(weights_env, wtest_plugin):
    torch.manual_seed(0)
    model = zoo.build("wtest-tiny")
    zoo.save(model, weights_env / "w")
    loaded = zoo.load(str(weights_env / "w"), dtype="float64")
    assert loaded.preprocessing == {"normalize": {"mean": 0.5, "std": 0.25}, "width": 8}
    assert all(p.dtype == torch.float64 for p in loaded.model.parameters())
    x = torch.randn(2, 8)
    assert torch.allclose(loaded(x.double()), model(x).double(), atol=1e-6)


def test_tied_weights_are_saved_once_and_retied(weights_env, wtest_plugin):
    torch.manual_seed(0)
    model = zoo.build("wtest-tiny")
    zoo.save(model, weights_env / "w")
    header = read_header(weights_env / "w" / "model.safetensors")
    assert header.aliases == {"out.weight": "inp.weight"} and "out.weight" not in header.tensors
    loaded = zoo.load(weights_env / "w")
    assert loaded.model.out.weight is loaded.model.inp.weight
    assert len(list(loaded.model.parameters())) == 3
    x = torch.randn(4, 8)
    assert torch.equal(loaded(x), model(x))


def test_non_persistent_buffer_falls_back_to_an_eager_build(weights_env, wtest_plugin):
    torch.manual_seed(0)
    model = zoo.build("wtest-buffered")
    zoo.save(model, weights_env / "w")
    loaded = zoo.load(weights_env / "w")
    assert loaded.init == "eager" and any("meta" in n for n in loaded.notes)
    assert not loaded.model.scale.is_meta
    x = torch.randn(4, 8)
    assert torch.equal(loaded(x), model(x))


def _rewrite_weights(folder: Path, edit) -> None:
    """Replace the tensors of a saved folder (metadata kept) and update config.json's digest to match."""
    path = folder / "model.safetensors"
    meta = read_header(path).metadata
    tensors = edit(safetensors.torch.load_file(str(path)))
    safetensors.torch.save_file(tensors, str(path), metadata=meta)
    import hashlib

    config = json.loads((folder / "config.json").read_text())
    data = path.read_bytes()
    config["weights"].update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    (folder / "config.json").write_text(json.dumps(config))


def test_strict_loading_reports_missing_unexpected_and_shape_mismatches(weights_env, protonet):
    zoo.save(protonet, weights_env / "m")
    state = protonet.state_dict()
    dropped = sorted(k for k in state if k.endswith(".bias"))[-1]  # any real key (the layout is the plugin's)
    rows, cols = state["prototypes"].shape

    def edit(tensors):
        tensors.pop(dropped)
        tensors["extra.weight"] = torch.zeros(2)
        tensors["prototypes"] = torch.zeros(rows, cols - 1)
        return tensors

    _rewrite_weights(weights_env / "m", edit)
    with pytest.raises(StateDictMismatchError) as info:
        zoo.load(weights_env / "m")
    text = str(info.value)
    assert "missing in the weights file" in text and dropped in text
    assert "unexpected in the weights file" in text and "extra.weight" in text
    assert f"prototypes: model [{rows}, {cols}] vs file [{rows}, {cols - 1}]" in text


def test_integrity_and_provenance_are_checked_for_local_folders(weights_env, protonet):
    zoo.save(protonet, weights_env / "m")
    config_path = weights_env / "m" / "config.json"
    config = json.loads(config_path.read_text())
    config["config"]["num_classes"] = (
        5  # config changed after saving: the weights' metadata no longer matches
    )
    config_path.write_text(json.dumps(config))
    with pytest.raises(IntegrityError, match="provenance"):
        zoo.load(weights_env / "m")
    zoo.save(protonet, weights_env / "n")
    blob = weights_env / "n" / "model.safetensors"
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(IntegrityError) as info:
        zoo.load(weights_env / "n")
    expected = json.loads((weights_env / "n" / "config.json").read_text())["weights"]["sha256"]
    assert str(blob) in str(info.value) and expected in str(info.value) and info.value.actual != expected


def test_pickles_are_refused_unless_allowed_and_then_weights_only(weights_env, protonet, image):
    zoo.save(protonet, weights_env / "m")
    folder = weights_env / "m"
    torch.save(protonet.state_dict(), folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    with pytest.raises(UnsafeFormatError, match="pickle"):
        zoo.load(folder)
    with pytest.raises(UnsafeFormatError):
        zoo.load(folder / "pytorch_model.bin")
    loaded = zoo.load(folder, allow_pickle=True)
    assert torch.equal(loaded(image), protonet(image))
    assert any("weights_only=True" in note for note in loaded.notes)
    torch.save({"payload": _Evil()}, folder / "pytorch_model.bin")
    with pytest.raises(UnsafeFormatError, match="weights_only"):
        zoo.load(folder, allow_pickle=True)


class _Evil:
    """An arbitrary object: a weights_only unpickler must refuse to rebuild it."""


def test_non_commercial_licence_needs_acceptance(weights_env, protonet, image):
    zoo.save(protonet, weights_env / "m", license="CC-BY-NC-4.0")
    with pytest.raises(LicenseNotAcceptedError, match="accept_license='CC-BY-NC-4.0'"):
        zoo.load(weights_env / "m")
    with pytest.raises(LicenseNotAcceptedError):
        zoo.load(weights_env / "m", accept_license="MIT")
    loaded = zoo.load(weights_env / "m", accept_license="cc-by-nc-4.0")
    assert torch.equal(loaded(image), protonet(image))


def test_random_weights_come_from_zoo_build_only(weights_env):
    with pytest.raises(ConfigError, match=r"zoo.build\('protonet-tiny', seed=0\)"):
        zoo.load("protonet-tiny.digits", pretrained=False)


def test_unknown_targets_say_what_was_expected(weights_env):
    with pytest.raises(WeightsError, match="no weights known for 'protonet-tiny'"):
        zoo.load("protonet-tiny")
    with pytest.raises(WeightsError, match="neither a model folder"):
        zoo.load("not a/repo id")


def test_saving_the_same_weights_gives_the_same_bytes(weights_env, protonet, image):
    first = zoo.save(protonet, weights_env / "a")
    again = zoo.save(zoo.load(weights_env / "a").model, weights_env / "b")
    assert first.sha256 == again.sha256
    assert (weights_env / "a" / "model.safetensors").read_bytes() == (
        weights_env / "b" / "model.safetensors"
    ).read_bytes()
    with safetensors.safe_open(str(weights_env / "b" / "model.safetensors"), framework="pt") as handle:
        assert handle.metadata()["zoo.method"] == "protonet"
        assert torch.equal(handle.get_tensor("prototypes"), protonet.prototypes)
