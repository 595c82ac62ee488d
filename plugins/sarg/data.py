"""Synthetic actor tracks for group activity recognition: a few key actors stand together and perform the group's
activity; most other actors idle anywhere, and some "confusers" perform another activity's action alone, so the
activity is decided by which action a group of nearby actors shares, not by which actions occur."""
from __future__ import annotations

import torch
from torch.utils.data import Dataset

from zoo.errors import ConfigError, DataError
from zoo_plugins.sarg.config import SARGConfig


class ActorTracks(Dataset):
    """``features (S, K, N, f)``, ``positions (S, K, N, 2)`` in [0, 1], ``activity (S,)``, ``actions (S, N)``,
    ``key (S, N)`` (bool: the key actors). Items are dicts of one clip."""

    def __init__(self, features: torch.Tensor, positions: torch.Tensor, activity: torch.Tensor,
                 actions: torch.Tensor, key: torch.Tensor) -> None:
        self.features, self.positions, self.activity, self.actions, self.key = (features, positions, activity,
                                                                                 actions, key)

    def __len__(self) -> int:
        return int(self.activity.shape[0])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"features": self.features[i], "positions": self.positions[i], "activity": self.activity[i],
                "actions": self.actions[i], "key": self.key[i]}


def actor_tracks(num_clips: int, config: SARGConfig, *, key_actors: int = 3, confusers: float = 0.3,
                 noise: float = 0.8, spread: float = 0.04, drift: float = 0.01, seed: int = 0) -> ActorTracks:
    """``num_clips`` clips of ``config.frames`` frames with ``config.num_actors`` actors.

    Group activity g (``num_activities`` classes) = the action of the ``key_actors``, who stand within ``spread``
    of a random centre. Each other actor is placed uniformly; with probability ``confusers`` it performs the
    action of another activity (alone), otherwise an "idle" action (classes ``>= num_activities``). An actor's
    feature = its action's prototype + Gaussian noise (``noise``, fresh every frame); positions drift by
    ``drift`` per frame. Action prototypes are fixed (generator seed 1234), so train and test share them."""
    n, k, f = config.num_actors, config.frames, config.feature_dim
    if config.num_actions <= config.num_activities:
        raise DataError("actor_tracks needs more action classes than activities (the extra ones are idle)")
    if not 1 <= key_actors < n:
        raise DataError(f"key_actors must be in [1, {n}), got {key_actors}")
    protos = torch.randn(config.num_actions, f, generator=torch.Generator().manual_seed(1234))
    g = torch.Generator().manual_seed(seed)
    activity = torch.randint(config.num_activities, (num_clips,), generator=g)
    idle = config.num_activities + torch.randint(config.num_actions - config.num_activities, (num_clips, n),
                                                 generator=g)
    other = (activity[:, None] + 1 + torch.randint(config.num_activities - 1, (num_clips, n), generator=g)) \
        % config.num_activities
    actions = torch.where(torch.rand(num_clips, n, generator=g) < confusers, other, idle)
    order = torch.argsort(torch.rand(num_clips, n, generator=g), dim=1)
    key = torch.zeros(num_clips, n, dtype=torch.bool).scatter_(1, order[:, :key_actors], True)
    actions = torch.where(key, activity[:, None], actions)
    centre = 0.15 + 0.7 * torch.rand(num_clips, 1, 2, generator=g)
    pos = torch.rand(num_clips, n, 2, generator=g)
    pos = torch.where(key[..., None], centre + spread * torch.randn(num_clips, n, 2, generator=g), pos)
    steps = drift * torch.randn(num_clips, k, n, 2, generator=g).cumsum(1)
    positions = (pos[:, None] + steps).clamp(0, 1)
    features = protos[actions][:, None].expand(num_clips, k, n, f) + noise * torch.randn(num_clips, k, n, f,
                                                                                          generator=g)
    return ActorTracks(features.contiguous(), positions, activity, actions, key)


def make_data(config: SARGConfig, source: str = "synthetic", split: str = "train") -> ActorTracks:
    """The ``make_data`` hook: synthetic actor tracks (train: 2,000 clips, test: 500, disjoint seeds)."""
    if source != "synthetic":
        raise ConfigError(f"sarg knows the data source 'synthetic' (Volleyball / Collective need a backbone and "
                          f"RoIAlign front end, not included), got {source!r}")
    if split not in ("train", "test"):
        raise ConfigError(f"sarg data split must be train or test, got {split!r}")
    return actor_tracks(2000 if split == "train" else 500, config, seed=0 if split == "train" else 1)
