"""Longer CPU experiments of GDanceR (not tests): 60-s rollouts of models trained on 1-s windows.

For each setting (the decoder's root form, scheduled sampling), train ``gdancer-tiny`` on the synthetic dances and
generate 60 s (1,800 frames) for new synthetic songs from the ground truth's start positions, then report per
10-s window:

- ``speed``: mean joint speed (m/s), the "motion-change magnitude" the GCD blog says falls to 0 for GDanceR
  (freezing);
- ``spread``: mean horizontal distance between two dancers' roots (m); the synthetic dancers stand 1 m apart,
  so a collapse of the formation shows as spread -> 0;
- ``drift``: mean horizontal distance of a dancer's root from where it started (m); the ground truth stays put.

Run::

    OMP_NUM_THREADS=1 nice -n 15 .venv/bin/python -m zoo_plugins.gdancer.experiments --steps 300 --seeds 0 1 2
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

SETTINGS: dict[str, dict[str, object]] = {
    "residual root (default)": {},
    "literal root (blog)": {"root_residual": False},
    "residual root + scheduled sampling 0.5": {"scheduled_sampling": 0.5},
    "literal root + scheduled sampling 0.5": {"root_residual": False, "scheduled_sampling": 0.5},
}
WINDOW_S = 10


def rollout_stats(joints: torch.Tensor, fps: int = 30, window_s: int = WINDOW_S) -> dict[str, list[float]]:
    """Per-window ``speed``, ``spread`` and ``drift`` of groups ``joints [B, N, T, 24, 3]`` (all dancers valid)."""
    j = joints.double()
    speed = (j[:, :, 1:] - j[:, :, :-1]).norm(dim=-1).mean(-1) * fps  # [B, N, T-1]
    root = j[..., 0, :][..., [0, 2]]  # horizontal root [B, N, T, 2]
    n = root.shape[1]
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    spread = torch.stack([(root[:, a] - root[:, b]).norm(dim=-1) for a, b in pairs], 1).mean(1)  # [B, T]
    drift = (root - root[:, :, :1]).norm(dim=-1).mean(1)  # [B, T]
    w = window_s * fps
    out: dict[str, list[float]] = {"speed": [], "spread": [], "drift": []}
    for s in range(0, j.shape[2] - 1, w):
        out["speed"].append(float(speed[:, :, s:s + w].mean()))
        out["spread"].append(float(spread[:, s:s + w].mean()))
        out["drift"].append(float(drift[:, s:s + w].mean()))
    return out


def run(setting: dict[str, object], steps: int, seed: int, songs: int, seconds: int) -> dict[str, list[float]]:
    """Train one setting and roll it out on ``songs`` synthetic songs of ``seconds`` seconds."""
    import zoo
    from zoo.dance import representation
    from zoo.data.synthetic.dance import make_dance
    from zoo_plugins.gdancer.infer import sample

    torch.manual_seed(seed)
    model = zoo.build("gdancer-tiny", seed=seed, **setting)
    zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=steps, seed=seed, progress=False)
    cfg = model.cfg
    songs_data = make_dance(songs, seed=100 + seed, max_dancers=cfg.max_dancers, min_dancers=cfg.max_dancers,
                            frames=seconds * cfg.fps, music_dim=cfg.music_dim, fps=cfg.fps, short_prob=0.0)
    tau0 = songs_data.motion[:, :, 0, :3]
    out = sample(model, songs_data.music, tau0)
    with torch.no_grad():
        gen = rollout_stats(representation.to_joints(out["motion"]))
        gt = rollout_stats(representation.to_joints(songs_data.motion))
    return {**gen, **{f"gt_{k}": v for k, v in gt.items()}}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--songs", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--only", nargs="*", help="setting names to run (default: all)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results: dict[str, list[dict[str, list[float]]]] = {}
    for name, setting in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        for seed in args.seeds:
            start = time.time()
            results.setdefault(name, []).append(run(setting, args.steps, seed, args.songs, args.seconds))
            print(f"done: {name}, seed {seed} ({time.time() - start:.0f} s)", flush=True)
    windows = len(next(iter(results.values()))[0]["speed"])
    head = " | ".join(f"{WINDOW_S * w}-{WINDOW_S * (w + 1)} s" for w in range(windows))
    for key, unit in (("speed", "m/s"), ("spread", "m"), ("drift", "m")):
        print(f"\n{key} ({unit}), mean over seeds {args.seeds} [min..max]\n| setting | {head} |")
        print("|---|" + "---|" * windows)
        first = next(iter(results.values()))
        rows = {"ground truth": [r[f"gt_{key}"] for r in first], **{n: [r[key] for r in rs]
                                                                    for n, rs in results.items()}}
        for name, runs in rows.items():
            arr = np.asarray(runs)
            cells = [f"{arr[:, w].mean():.3g} [{arr[:, w].min():.3g}..{arr[:, w].max():.3g}]"
                     for w in range(windows)]
            print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "results": results}))


if __name__ == "__main__":
    main()
