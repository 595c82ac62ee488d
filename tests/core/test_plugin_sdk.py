"""The plugin SDK (zoo.plugin): one declaration becomes the hooks; targets get their arguments by name, typed.

Issue 19, items 1, 13 and 14: a method in one declaration, one signature style (``config`` and typed ``options``
reach infer/evaluate/save_outputs/train), hook returns typed, and a variants key that differs from its
VariantSpec name is rejected.
"""
from __future__ import annotations

import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import zoo
from zoo import discovery, hookspecs
from zoo.errors import ConfigError, PluginError
from zoo.options import Options, TrainOptions, route_options
from zoo.plugin import Input, Method, Option, Plugin, Variant
from zoo.specs import InputSpec, MethodSpec, VariantSpec

SEEN: dict[str, Any] = {}


def tiny_config() -> dict[str, int]:
    """A config stand-in (the SDK does not care what a config is)."""
    return {"width": 3}


def build(config: Any) -> torch.nn.Module:
    SEEN["build"] = config
    return torch.nn.Linear(2, config["width"])


def example(config: Any) -> dict[str, torch.Tensor]:
    return {"x": torch.ones(2, 2)}


def infer(model: torch.nn.Module, inputs: Any, config: Any, options: Any) -> Any:
    SEEN["infer"] = (config, options)
    return model(inputs["x"])[:, : options.top_k]


def evaluate(config: Any, options: Any) -> dict[str, float]:  # takes only what it needs
    SEEN["evaluate"] = (config, options)
    return {"score": float(options.scale)}


def train(model: Any, options: Any, callbacks: Any) -> dict[str, Any]:
    SEEN["train"] = (options, callbacks)
    return {"history": {}, "metrics": {}}


def save_outputs(outputs: Any, out_dir: Path, config: Any, options: Any) -> list[Path]:
    SEEN["save_outputs"] = (config, options)
    return []


def make_data(source: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.zeros(4, 2), torch.zeros(4)


@pytest.fixture()
def sdk_plugin() -> Iterator[Plugin]:
    SEEN.clear()
    plugin = Plugin(Method(
        "sdk-probe", task="probe", title="SDK probe",
        variants=[Variant("tiny", tiny_config, "three outputs")],
        inputs=[Input("x", ("B", 2))],
        options=[Option("top_k", "int", 2, "outputs to keep"),
                 Option("scale", "float", 1.0, "a number", hooks=("evaluate",)),
                 Option("warmup", "int", 0, "a train option", hooks=("train",))],
        build=build, example_inputs=example, infer=infer, evaluate=evaluate, train=train,
        save_outputs=save_outputs, make_data=make_data,
    ))
    discovery.register_plugin(plugin, "sdk_probe")
    try:
        yield plugin
    finally:
        discovery.unregister_plugin("sdk_probe")


def test_targets_receive_config_and_typed_options_by_name(sdk_plugin: Plugin, tmp_path: Path) -> None:
    model = zoo.build("sdk-probe-tiny")
    assert SEEN["build"] == {"width": 3}
    out = zoo.infer(model, {"x": torch.ones(1, 2)}, top_k="1")  # a string, as from the command line
    config, options = SEEN["infer"]
    assert config == {"width": 3} and isinstance(options, Options) and options.top_k == 1 and out.shape == (1, 1)
    assert zoo.evaluate(model, (torch.zeros(1, 2), torch.zeros(1)), scale="2.5") == {"score": 2.5}
    config, options = SEEN["evaluate"]
    assert config == {"width": 3} and isinstance(options, Options) and options.scale == 2.5
    callbacks = [lambda event, state: None]
    zoo.train(model, steps=3, callbacks=callbacks, warmup=4)
    options, passed = SEEN["train"]
    assert isinstance(options, TrainOptions) and (options.steps, options.warmup, options.seed) == (3, 4, 0)
    assert passed == callbacks  # callbacks reach the plugin's train target
    found = discovery.plugins()
    found.call("zoo_save_outputs", "sdk-probe", outputs=out, out_dir=tmp_path, config=model.zoo.config,
               options=Options(top_k=1))
    assert SEEN["save_outputs"][0] == {"width": 3}


def test_an_unknown_option_lists_the_accepted_ones(sdk_plugin: Plugin) -> None:
    model = zoo.build("sdk-probe-tiny")
    with pytest.raises(ConfigError, match=r"unknown infer option\(s\) \['topk'\].*top_k"):
        zoo.infer(model, {"x": torch.ones(1, 2)}, topk=1)
    with pytest.raises(ConfigError, match="must be an int"):
        zoo.infer(model, {"x": torch.ones(1, 2)}, top_k="many")


def test_cli_style_options_are_routed_to_their_hooks_typed(sdk_plugin: Plugin) -> None:
    spec = discovery.plugins().methods["sdk-probe"]
    infer_opts, eval_opts = route_options(spec, {"top-k": "3", "scale": "0.5"}, ("infer", "evaluate"))
    assert infer_opts.top_k == 3 and type(infer_opts.top_k) is int
    assert eval_opts.scale == 0.5 and type(eval_opts.scale) is float


def test_an_undeclared_optional_hook_is_not_implemented() -> None:
    plugin = Plugin(Method("sdk-minimal", task="t", title="T", variants=[Variant("tiny", tiny_config)],
                           inputs=[Input("x", ("B", 2))], build=build, example_inputs=example, infer=infer))
    discovery.register_plugin(plugin, "sdk_minimal")
    try:
        model = zoo.build("sdk-minimal-tiny")
        assert not discovery.plugins().implements("zoo_train", "sdk-minimal")
        with pytest.raises(PluginError, match="does not implement zoo_train"):
            zoo.train(model, (torch.zeros(2, 2), torch.zeros(2)))
    finally:
        discovery.unregister_plugin("sdk_minimal")


def test_a_target_asking_for_an_argument_its_hook_does_not_pass_is_named() -> None:
    def bad_infer(model: Any, inputs: Any, temperature: float) -> Any:
        return None

    plugin = Plugin(Method("sdk-bad", task="t", title="T", variants=[Variant("tiny", tiny_config)],
                           inputs=[Input("x", ("B", 2))], build=build, example_inputs=example, infer=bad_infer))
    discovery.register_plugin(plugin, "sdk_bad")
    try:
        model = zoo.build("sdk-bad-tiny")
        with pytest.raises(PluginError, match=r"asks for \['temperature'\].*can take"):
            zoo.infer(model, {"x": torch.ones(1, 2)})
    finally:
        discovery.unregister_plugin("sdk_bad")


def test_targets_are_module_function_strings_checked_at_declaration() -> None:
    with pytest.raises(ValueError, match="must be 'package.module:function'"):
        Method("sdk-x", task="t", title="T", variants=[Variant("tiny", tiny_config)], inputs=[],
               build="no_colon_here", example_inputs=example, infer=infer)


def test_a_variants_key_that_differs_from_its_name_is_rejected() -> None:
    """Item 14: {"big": VariantSpec("tiny")} used to build a model tagged 'big' from the tiny config."""
    with pytest.raises(ValueError, match="variants key 'big' differs"):
        MethodSpec(name="m", task="t", title="T", variants={"big": VariantSpec("tiny", dict)},
                   default_variant="big", inputs=(InputSpec("x", ("B",)),))
    with pytest.raises(ValueError, match="variants key 'big' differs"):
        Method("m", task="t", title="T", variants={"big": Variant("tiny", tiny_config)}, inputs=[],
               build=build, example_inputs=example, infer=infer)


def test_hooks_say_what_they_return() -> None:
    """Item 13: the hook specs are typed (``nn.Module`` under TYPE_CHECKING), and infer/evaluate/save_outputs
    take ``config`` like train does."""
    specs = hookspecs.ZooHookSpecs
    assert typing.get_type_hints(specs.zoo_build, localns={"nn": torch.nn})["return"] is torch.nn.Module
    for hook in ("zoo_infer", "zoo_evaluate", "zoo_save_outputs", "zoo_train"):
        assert "config" in getattr(specs, hook).__code__.co_varnames, hook
    for hook in ("zoo_infer", "zoo_evaluate", "zoo_train", "zoo_build"):
        assert getattr(specs, hook).__annotations__.get("model", "nn.Module") != "Any", hook


def test_declaring_a_method_imports_no_torch() -> None:
    code = ("import sys, zoo_protonet; from zoo import discovery; "
            "assert 'torch' not in sys.modules, 'torch imported'; "
            "print(zoo_protonet.plugin.zoo_methods()[0].name)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "protonet"
