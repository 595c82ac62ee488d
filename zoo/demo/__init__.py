"""``zoo demo``: the whole product end to end on a machine with no internet.

Starts the embedded hub on loopback (storage under zoo's cache), trains the ``tiny`` variant of one representative
method per family (``--all``: every method with a demo recipe; ``--family NAME``: one family) on bundled or
synthetic data, pushes each with its model card, pulls it back by pinned revision with ``zoo.load`` (checking the
outputs are identical), runs it on real inputs, and writes a report with captioned figures and a metric glossary to
``./zoo-demo/``. A second run reuses what is already there.

A plugin adds its methods to the demo with a ``demo`` module beside its declaration whose ``recipes()`` returns
:class:`zoo.demo.recipes.Recipe` objects (a family name, data, steps, inputs, captions): see
:mod:`zoo.demo.recipes`.
"""
from __future__ import annotations

from zoo.demo.recipes import Prepared, Recipe
from zoo.demo.run import list_recipes, run_demo

__all__ = ["Prepared", "Recipe", "list_recipes", "run_demo"]
