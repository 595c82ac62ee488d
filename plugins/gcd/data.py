"""GCD's data plumbing: datasets (synthetic or AIOZ-GDANCE), audio -> infer inputs, outputs -> files."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from zoo.dance.io import make_dance_data, music_from_audio, save_dance_outputs
from zoo.errors import InputError


def example_inputs(config: Any) -> dict[str, torch.Tensor]:
    """Two random one-window music clips, two and one dancers."""
    g = torch.Generator().manual_seed(0)
    music = torch.randn(2, config.frames, config.music_dim, generator=g)
    return {"music": music, "n_dancers": torch.tensor([min(2, config.max_dancers), 1])}


def preprocessing(config: Any) -> dict[str, Any]:
    """Music features and motion layout that travel with the weights."""
    from zoo.dance import music

    return {"music_features": config.music_features, "music_dim": config.music_dim, "fps": config.fps,
            "sample_rate": music.SAMPLE_RATE, "hop_length": music.HOP,
            "motion": "root_trans(3) | rot6d columns (144) | foot contacts 7,8,10,11 (4)"}


def make_data(config: Any, source: str, split: str) -> Any:
    """``synthetic`` (seed 0 for train, 1 for test) or a path to an AIOZ-GDANCE folder."""
    return make_dance_data(config, source, split, "gcd")


def inputs_from_audio(config: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """CLI options -> infer inputs: features of ``audio`` (cropped to ``seconds``), ``dancers``, and the beats."""
    cfg = config
    music, beats = music_from_audio(cfg, options, "gcd")
    dancers = int(options.get("dancers") or cfg.max_dancers)
    if not 1 <= dancers <= cfg.max_dancers:
        raise InputError(f"gcd: --dancers must be in 1..{cfg.max_dancers} for this variant, got {dancers}")
    inputs: dict[str, Any] = {"music": music, "n_dancers": torch.tensor([dancers])}
    if beats is not None:
        inputs["beats"] = beats
    return inputs


def save_outputs(outputs: dict[str, Any], out_dir: Path, options: Mapping[str, Any]) -> list[Path]:
    """Write ``sample<i>.npz`` and ``sample<i>.gif`` for each generated group; returns the paths."""
    return save_dance_outputs(outputs, Path(out_dir), options)
