"""``zoo train`` / ``zoo eval`` / ``zoo infer`` end to end, on digits, through an in-process plugin."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zoo import discovery
from zoo.cli import main
from zoo.cli.run import format_table, parse_options
from zoo.errors import ConfigError

HERE = Path(__file__).parent


@pytest.fixture()
def digits_plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # other plugins of the tree may be mid-edit: record their failures instead of raising, for this test only
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "0")
    spec = importlib.util.spec_from_file_location("zoo_tests_digits_plugin", HERE / "digits_plugin.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    discovery.register_plugin(module, "digits_cnn_test")
    try:
        yield
    finally:
        discovery.unregister_plugin("digits_cnn_test")


def test_train_eval_infer_on_digits(
    digits_plugin: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "digits-cnn",
            "--variant",
            "tiny",
            "--data",
            "digits",
            "--steps",
            "150",
            "--out",
            str(out),
            "--seed",
            "1",
            "--log-every",
            "5",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "loss=" in captured.err and "samples_s=" in captured.err  # the progress bar
    for name in ("curves.png", "history.json", "config.json", "model.safetensors", "metrics.json"):
        assert (out / name).is_file(), name
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 150
    assert sum(history["loss"][-15:]) / 15 < 0.5 * sum(history["loss"][:15]) / 15
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.8  # chance is 0.1
    assert "digits-cnn-tiny" in captured.out and "test_accuracy" in captured.out

    assert main(["eval", "digits-cnn", "--data", "digits", "--weights", str(out), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["digits-cnn-tiny"]["accuracy"] == pytest.approx(metrics["test_accuracy"])

    assert (
        main(["infer", "digits-cnn", "--weights", str(out), "--out", str(tmp_path / "pred"), "--index", "3"])
        == 0
    )
    assert (tmp_path / "pred" / "prediction.json").is_file()
    assert str(tmp_path / "pred" / "prediction.json") in capsys.readouterr().out


def test_option_parsing_and_table() -> None:
    assert parse_options(["--image", "a.png", "--top-k", "5", "--scale=0.5", "--flip", "--image", "b.png"]) == {
        "image": ["a.png", "b.png"],
        "top_k": "5",  # typed later, with the kinds the method declares (split_options)
        "scale": "0.5",
        "flip": True,
    }
    with pytest.raises(ConfigError, match="--key value"):
        parse_options(["image"])
    table = format_table({"a-tiny": {"acc": 0.5}, "b-tiny": {"acc": 0.25, "rmse": 1.0}})
    lines = table.splitlines()
    assert lines[0].split() == ["model", "acc", "rmse"]
    assert lines[2].split() == ["a-tiny", "0.5", "-"] and lines[3].split() == ["b-tiny", "0.25", "1"]
