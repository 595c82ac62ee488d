"""Data plumbing shared by the group-dance plugins (GCD, GDanceR): datasets, audio -> music features, outputs.

- :func:`make_dance_data`: ``synthetic`` beat-synchronised groups or an AIOZ-GDANCE folder, for a config with
  ``max_dancers``, ``frames``, ``music_dim``, ``fps``, ``music_features`` and ``train_size``/``test_size``;
- :func:`music_from_audio`: ``--audio PATH [--seconds S]`` -> ``[1, T, D]`` features (+ the beat channel);
- :func:`save_dance_outputs`: ``sample<i>.npz`` (SMPL arrays of the valid dancers) + a stick-figure
  ``sample<i>.gif`` with the beats marked, per generated group.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zoo.io import atomic_write_bytes
from zoo.errors import ConfigError, InputError


def _extractor(cfg: Any, method: str) -> Any:
    from zoo.dance.music import get_extractor

    extractor = get_extractor(cfg.music_features, cfg.music_dim)
    if extractor.dim != cfg.music_dim:
        raise ConfigError(f"{method}: extractor {cfg.music_features!r} gives {extractor.dim}-d features but the "
                          f"config expects music_dim={cfg.music_dim}")
    return extractor


def make_dance_data(cfg: Any, source: str, split: str, method: str) -> Any:
    """``synthetic`` (seed 0 for train, 1 for test) or a path to an AIOZ-GDANCE folder."""
    if source == "synthetic":
        from zoo.data.synthetic.dance import make_dance

        size = cfg.train_size if split == "train" else cfg.test_size
        size = size or (256 if split == "train" else 32)
        return make_dance(size, seed=0 if split == "train" else 1, max_dancers=cfg.max_dancers, frames=cfg.frames,
                          music_dim=cfg.music_dim, fps=cfg.fps)
    path = Path(source)
    if path.is_dir():
        from zoo.dance.aioz import AiozGdance

        return AiozGdance(path, split, extractor=_extractor(cfg, method), frames=cfg.frames,
                          max_dancers=cfg.max_dancers)
    raise ConfigError(f"{method} data source must be 'synthetic' or an AIOZ-GDANCE folder, got {source!r}")


def music_from_audio(cfg: Any, options: dict[str, Any], method: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Music features ``[1, T, D]`` of ``options['audio']`` cropped to ``options['seconds']``, and the beat
    channel ``[1, T]`` when the extractor has one."""
    audio = options.get("audio")
    if not audio:
        raise InputError(f"{method}: pass --audio PATH (a WAV/FLAC/OGG file, or pre-extracted features .npy)")
    extractor = _extractor(cfg, method)
    feats = extractor.extract(audio)
    seconds = options.get("seconds")
    if seconds is not None:
        seconds = float(seconds)
        if not seconds > 0:
            raise InputError(f"{method}: --seconds must be positive, got {seconds}")
        frames = int(round(seconds * cfg.fps))
        if frames > feats.shape[0]:
            raise InputError(f"{method}: asked for {seconds:g} s but the music lasts "
                             f"{feats.shape[0] / cfg.fps:.2f} s")
        feats = feats[:frames]
    music = torch.from_numpy(np.ascontiguousarray(feats))[None].float()
    return music, (music[..., -1].clone() if extractor.has_beats else None)


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def save_dance_outputs(outputs: dict[str, Any], out_dir: Path, options: dict[str, Any],
                       keys: Sequence[str] = ("smpl_poses", "root_trans", "joints", "motion"),
                       fps: int = 30) -> list[Path]:
    """Write ``sample<i>.npz`` (``keys`` of the valid dancers and frames) and ``sample<i>.gif`` for each group."""
    from zoo.dance.render import write_gif

    out_dir.mkdir(parents=True, exist_ok=True)
    mask = outputs["mask"].cpu().numpy()
    written: list[Path] = []
    beats = outputs.get("beats")
    for i in range(mask.shape[0]):
        dancers = np.flatnonzero(mask[i].any(axis=1))
        frames = int(mask[i][dancers[0]].sum()) if dancers.size else 0
        arrays = {key: outputs[key][i, dancers, :frames].detach().cpu().numpy() for key in keys}
        path = out_dir / f"sample{i}.npz"
        atomic_write_bytes(path, _npz_bytes(**arrays, fps=np.array(fps)))
        written.append(path)
        if options.get("gif", True) and frames > 0:
            b = None if beats is None else beats[i, :frames].cpu().numpy()
            written.append(write_gif(out_dir / f"sample{i}.gif", arrays["joints"], b))
    return written
