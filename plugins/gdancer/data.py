"""GDanceR's data plumbing: datasets (synthetic or an AIOZ-GDANCE folder), CLI options -> infer inputs, outputs ->
files (``sample<i>.npz`` + a stick-figure ``sample<i>.gif``)."""
from __future__ import annotations

from collections.abc import Mapping

from pathlib import Path
from typing import Any

import torch

from zoo.dance.io import make_dance_data, music_from_audio, save_dance_outputs
from zoo.errors import InputError


def make_data(config: Any, source: str, split: str) -> Any:
    """``synthetic`` (seed 0 for train, 1 for test; the same dances as gcd-tiny's) or an AIOZ-GDANCE folder."""
    return make_dance_data(config, source, split, "gdancer")


def parse_positions(text: str) -> torch.Tensor:
    """``"x,y,z;x,y,z"`` -> ``[N, 3]`` initial positions."""
    try:
        rows = [[float(v) for v in part.split(",")] for part in str(text).split(";") if part.strip()]
    except ValueError as exc:
        raise InputError(f"gdancer: --positions must look like 'x,y,z;x,y,z', got {text!r}") from exc
    if not rows or any(len(r) != 3 for r in rows):
        raise InputError(f"gdancer: --positions must list x,y,z triples separated by ';', got {text!r}")
    return torch.tensor(rows, dtype=torch.float32)


def line_formation(dancers: int, spacing: float, height: float) -> torch.Tensor:
    """``[N, 3]`` positions in a line along x, ``spacing`` metres apart, centred, root at ``height``."""
    x = (torch.arange(dancers, dtype=torch.float32) - (dancers - 1) / 2) * spacing
    return torch.stack([x, torch.full_like(x, height), torch.zeros_like(x)], dim=-1)


def example_inputs(config: Any) -> dict[str, torch.Tensor]:
    """Two random one-window music clips; the second group has one dancer fewer (masked)."""
    g = torch.Generator().manual_seed(0)
    music = torch.randn(2, config.frames, config.music_dim, generator=g)
    n = max(2, min(3, config.max_dancers))
    positions = line_formation(n, 1.0, config.root_height)[None].repeat(2, 1, 1)
    mask = torch.ones(2, n, dtype=torch.bool)
    mask[1, -1] = False
    return {"music": music, "positions": positions, "dancer_mask": mask}


def preprocessing(config: Any) -> dict[str, Any]:
    """Music features and pose layout that travel with the weights."""
    from zoo.dance import music

    return {"music_features": config.music_features, "music_dim": config.music_dim, "fps": config.fps,
            "sample_rate": music.SAMPLE_RATE, "hop_length": music.HOP,
            "pose": "root_trans(3) | SMPL axis-angle (72)" if config.pose_repr == "axis_angle"
            else "root_trans(3) | rot6d columns (144)"}


def inputs_from_audio(config: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """``--audio PATH [--seconds S] [--dancers N --spacing M | --positions 'x,y,z;...']`` -> infer inputs."""
    cfg = config
    music, beats = music_from_audio(cfg, options, "gdancer")
    if options.get("positions"):
        positions = parse_positions(options["positions"])
    else:
        dancers = int(options.get("dancers") or cfg.max_dancers)
        if dancers < 1:
            raise InputError(f"gdancer: --dancers must be at least 1, got {dancers}")
        positions = line_formation(dancers, float(options.get("spacing") or 1.0), cfg.root_height)
    inputs: dict[str, Any] = {"music": music, "positions": positions[None]}
    if beats is not None:
        inputs["beats"] = beats
    return inputs


def save_outputs(outputs: dict[str, Any], out_dir: Path, options: Mapping[str, Any]) -> list[Path]:
    """Write ``sample<i>.npz`` (smpl_poses, root_trans, joints, motion, pose of the valid dancers) and
    ``sample<i>.gif`` for each generated group; returns the paths."""
    return save_dance_outputs(outputs, Path(out_dir), options,
                              keys=("smpl_poses", "root_trans", "joints", "motion", "pose"))
