"""Network layers shared by several plugins (one module per family of layers; import the module you need).

======================================  ==============================================================================
:mod:`zoo.layers.attention`             channel attention (SE, ECA, CBAM channel gate, coordinate attention), the
                                        pluggable :class:`~zoo.layers.attention.SpatialGate` and CBAM
======================================  ==============================================================================

Nothing is imported eagerly: ``import zoo.layers`` does not import torch, and each module stands alone.
"""
from __future__ import annotations

__all__: list[str] = []
