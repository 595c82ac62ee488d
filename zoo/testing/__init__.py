"""Tools for testing zoo and zoo plugins.

- :mod:`zoo.testing.conformance`: the conformance kit a plugin runs in its own tests::

      import zoo.testing

      def test_conforms():
          zoo.testing.check_method("my-method")     # or check_plugin("my_entry_point") for all its methods

  (declaration, hook targets, configs round-trip, build, infer, bad inputs raise InputError, safetensors round
  trip, method card sections; see docs/plugins.md).
- :mod:`zoo.testing.hub`: a pytest fixture that serves a local Hugging Face-compatible hub.
"""
from __future__ import annotations

from typing import Any

__all__ = ["CARD_PENDING", "ConformanceReport", "bad_inputs", "check_card", "check_method", "check_plugin"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from zoo.testing import conformance

        return getattr(conformance, name)
    raise AttributeError(name)
