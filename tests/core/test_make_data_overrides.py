"""zoo.make_data applies config overrides whether the method is named or given as a model, and never drops them."""
from __future__ import annotations

import pytest

import zoo
from zoo.errors import ConfigError


def test_overrides_apply_to_a_model_as_to_a_name() -> None:
    model = zoo.build("fpsora-tiny")
    by_model = zoo.make_data(model, "digits", "train", num_samples=60)
    by_name = zoo.make_data("fpsora-tiny", "digits", "train", num_samples=60)
    assert len(by_model) == len(by_name) == 60
    assert len(zoo.make_data(model, "digits", "train")) == zoo.get_config("fpsora-tiny").num_samples != 60


def test_an_unknown_override_is_an_error_not_silently_dropped() -> None:
    with pytest.raises(ConfigError, match="realization"):
        zoo.make_data(zoo.build("fpsora-tiny"), "digits", "train", realization=3)
