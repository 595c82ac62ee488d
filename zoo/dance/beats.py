"""Beat alignment of generated dances against a piece's beats, with chance-level controls.

For dances written by ``zoo infer gcd|gdancer --audio piece.wav --out DIR`` (``sample<i>.npz`` with ``joints``),
this reports the paper's beat metric (MMC / beat-align score, :func:`zoo.dance.metrics.mmc`: motion beats = local
minima of the joint-velocity envelope, Gaussian kernel of sigma 2.12 frames to the nearest music beat) of

- each generated dancer against the music beats of the piece (the beat one-hot of the extractor the model uses);
- **random motion**: smooth random dances of the same length (random key poses every few frames, interpolated),
  the chance level of a dance that ignores the music;
- **shifted motion**: the same generated dances circularly shifted in time by random offsets, which keeps their
  motion statistics and destroys any alignment;

and how well the audio beat tracker agrees with the score's own beats when they are known (MIDI renderings).

Command line::

    python -m zoo.dance.beats piece.wav out/gcd/sample0.npz out/gdancer/sample0.npz [--score-bpm 132]
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zoo.dance import FPS, metrics


def beat_frames(onehot: np.ndarray) -> np.ndarray:
    """Frame indices of a beat one-hot."""
    return np.flatnonzero(np.asarray(onehot) > 0.5)


def dancer_mmc(joints: np.ndarray, music_beats: np.ndarray) -> list[float]:
    """MMC of every dancer of ``joints [N, T, 24, 3]`` against a beat one-hot ``[T]``."""
    return [metrics.mmc(d, music_beats[: d.shape[0]]) for d in np.asarray(joints)]


def random_dances(dancers: int, frames: int, seed: int = 0, key_every: int = 8) -> np.ndarray:
    """Smooth random dances ``[dancers, frames, 24, 3]``: random SMPL key poses (axis-angle std 0.3 rad) every
    ``key_every`` frames with a random phase, interpolated by cubic splines, through forward kinematics."""
    import torch
    from scipy.interpolate import CubicSpline

    from zoo.dance import representation

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(dancers):
        phase = int(rng.integers(0, key_every))
        keys = np.arange(-phase, frames + 2 * key_every, key_every)
        poses = rng.normal(0.0, 0.3, size=(len(keys), 72))
        poses[:, :3] *= 0.3
        aa = CubicSpline(keys, poses, axis=0)(np.arange(frames))
        root = np.zeros((frames, 3))
        root[:, 1] = 0.9
        motion = representation.encode(torch.tensor(aa, dtype=torch.float32)[None],
                                       torch.tensor(root, dtype=torch.float32)[None])
        out.append(representation.to_joints(motion)[0].numpy())
    return np.stack(out)


def shifted_mmc(joints: np.ndarray, music_beats: np.ndarray, shifts: int = 20, seed: int = 0) -> float:
    """Mean MMC of the dancers circularly shifted in time by ``shifts`` random offsets (at least 5 frames)."""
    rng = np.random.default_rng(seed)
    frames = joints.shape[1]
    values = []
    for _ in range(shifts):
        k = int(rng.integers(5, max(6, frames - 5)))
        values += dancer_mmc(np.roll(joints, k, axis=1), music_beats)
    return float(np.mean(values))


def tracker_agreement(tracked: np.ndarray, score_beat_times: np.ndarray, fps: int = FPS, tol: int = 3
                      ) -> tuple[float, float]:
    """(recall, precision) of tracked beat frames against the score's beat times, within ``tol`` frames."""
    ref = np.round(np.asarray(score_beat_times) * fps)
    got = np.asarray(tracked)
    if ref.size == 0 or got.size == 0:
        return 0.0, 0.0
    recall = float(np.mean([np.abs(got - r).min() <= tol for r in ref]))
    precision = float(np.mean([np.abs(ref - g).min() <= tol for g in got]))
    return recall, precision


def report(wav: str | Path, samples: Sequence[str | Path], extractor: str = "librosa-compact",
           score_beats: np.ndarray | None = None, random_seeds: int = 10) -> dict[str, float]:
    """The numbers of the module docstring for the dances in ``samples`` (npz files) on the piece ``wav``."""
    from zoo.dance.music import get_extractor

    feats = get_extractor(extractor).extract(wav)
    beats = feats[:, -1]
    out: dict[str, float] = {"music_frames": float(len(beats)), "music_beats": float(beat_frames(beats).size)}
    if score_beats is not None:
        out["tracker_recall"], out["tracker_precision"] = tracker_agreement(beat_frames(beats), score_beats)
    all_joints = []
    for path in samples:
        with np.load(path) as arrays:
            joints = arrays["joints"]
        all_joints.append(joints)
        out[f"mmc[{Path(path).parent.name}/{Path(path).name}]"] = float(np.mean(dancer_mmc(joints, beats)))
        out[f"shifted[{Path(path).parent.name}/{Path(path).name}]"] = shifted_mmc(joints, beats)
    frames = min(len(beats), min(j.shape[1] for j in all_joints)) if all_joints else len(beats)
    rand = [np.mean(dancer_mmc(random_dances(3, frames, seed=s), beats)) for s in range(random_seeds)]
    out["random_mean"], out["random_std"] = float(np.mean(rand)), float(np.std(rand))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Beat alignment of generated dances vs a piece's beats.")
    parser.add_argument("wav")
    parser.add_argument("samples", nargs="+", help="sample<i>.npz files written by zoo infer")
    parser.add_argument("--extractor", default="librosa-compact")
    parser.add_argument("--corpus", default=None, help="the music21 piece the WAV was rendered from (score beats)")
    parser.add_argument("--seconds", type=float, default=None, help="rendered length (with --corpus)")
    args = parser.parse_args(argv)
    score = None
    if args.corpus:
        import tempfile

        from zoo.dance.corpus import render_corpus

        with tempfile.TemporaryDirectory() as tmp:
            score = render_corpus(args.corpus, Path(tmp) / "x.wav", seconds=args.seconds, synth="sine").beats
    for key, value in report(args.wav, args.samples, args.extractor, score).items():
        print(f"{key}: {value:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
