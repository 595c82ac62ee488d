"""Dance metrics (spec §1.7 and §2.4), on joint positions from FK, in numpy.

Single-dancer: FID_k (Fréchet distance of kinetic features), GenDiv (mean pairwise distance of normalised kinetic
features), MMC (motion-music beat alignment), PFC (physical foot contact, EDGE's definition and scale).
Group: GMR (Fréchet distance of group kinetic features, lower is better), GMC (DTW-aligned correlation of the
dancers' per-frame kinetic features, higher = more synchronised, identical dancers give 1), TIF (trajectory
intersection frequency, lower is better).

Joint arrays are ``[T, J, 3]`` for one dancer and ``[N, T, J, 3]`` for a group (metres, y up, 30 FPS).
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from zoo.dance import FPS
from zoo.dance.skeleton import FOOT_JOINTS, SMPL_PARENTS, UP_AXIS
from zoo.errors import InputError

#: sigma (frames) of the beat-alignment kernel used by GCD's evaluation scripts.
MMC_SIGMA: float = 2.12
#: Constant m of the group kinetic feature log(1 + m x) (GDanceR code).
GMR_M: float = 1.5
#: Floor on the ground-truth std used to normalise kinetic features: a feature that is constant in the ground
#: truth (e.g. a root that never moves horizontally) would otherwise be divided by ~0 and swamp FID_k/GenDiv.
STD_FLOOR: float = 1e-3


def _joints(x: np.ndarray, rank: int, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != rank or arr.shape[-1] != 3:
        want = "[T, J, 3]" if rank == 3 else "[N, T, J, 3]"
        raise InputError(f"{name} must be joint positions {want}, got shape {arr.shape}")
    if arr.shape[-3] < 3:
        raise InputError(f"{name} needs at least 3 frames, got {arr.shape[-3]}")
    return arr


# ------------------------------------------------------------------------------------------------ kinetic features
def kinetic_features(joints: np.ndarray, fps: int = FPS) -> np.ndarray:
    """72-d kinetic feature of one dancer (AIST++/FACT): per joint, the average horizontal kinetic energy
    ``mean 0.5 |v_h|^2``, the average vertical kinetic energy ``mean 0.5 v_y^2`` and the average energy
    expenditure ``mean |a| |v|`` (velocities and accelerations by central differences)."""
    p = _joints(joints, 3, "joints")
    v = np.gradient(p, axis=0) * fps
    a = np.gradient(v, axis=0) * fps
    horizontal = [ax for ax in range(3) if ax != UP_AXIS]
    h_ke = 0.5 * (v[..., horizontal] ** 2).sum(-1).mean(0)
    v_ke = 0.5 * (v[..., UP_AXIS] ** 2).mean(0)
    energy = (np.linalg.norm(a, axis=-1) * np.linalg.norm(v, axis=-1)).mean(0)
    return np.stack([h_ke, v_ke, energy], axis=-1).reshape(-1)


def normalise(features: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Standardise ``features`` with the mean and std (floored at :data:`STD_FLOOR`) of ``reference`` (the GT)."""
    ref = np.asarray(reference, dtype=np.float64)
    return (np.asarray(features, dtype=np.float64) - ref.mean(0)) / np.maximum(ref.std(0), STD_FLOOR)


def fid_k(generated: np.ndarray, ground_truth: np.ndarray) -> float:
    """FID_k: Fréchet distance between kinetic features ``[M, 72]`` of generated and ground-truth dancers, both
    normalised by the ground truth's statistics."""
    from zoo.metrics import frechet

    gt = np.asarray(ground_truth, dtype=np.float64)
    return frechet.frechet_distance_from_features(normalise(generated, gt), normalise(gt, gt))


def gen_div(features: np.ndarray, reference: np.ndarray | None = None) -> float:
    """GenDiv: average pairwise Euclidean distance between (normalised) kinetic features ``[M, D]``."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise InputError(f"GenDiv needs at least 2 feature vectors [M, D], got shape {f.shape}")
    if reference is not None:
        f = normalise(f, reference)
    diff = f[:, None, :] - f[None, :, :]
    dist = np.sqrt((diff ** 2).sum(-1))
    m = f.shape[0]
    return float(dist.sum() / (m * (m - 1)))


# ------------------------------------------------------------------------------------------------ beats
def velocity_envelope(joints: np.ndarray) -> np.ndarray:
    """``sum_j |v_{t,j}|`` per frame (central differences), ``[T]``."""
    p = _joints(joints, 3, "joints")
    return np.linalg.norm(np.gradient(p, axis=0), axis=-1).sum(-1)


def motion_beats(joints: np.ndarray, order: int = 5) -> np.ndarray:
    """Frames of the local minima of the velocity envelope (``argrelextrema``, ``order`` frames each side)."""
    from scipy.signal import argrelextrema

    env = velocity_envelope(joints)
    return argrelextrema(env, np.less, order=order)[0]


def beat_alignment(motion_beat_frames: Sequence[int], music_beat_frames: Sequence[int],
                   sigma: float = MMC_SIGMA) -> float:
    """Mean over motion beats of ``exp(-d^2 / (2 sigma^2))``, d = distance (frames) to the nearest music beat."""
    mb = np.asarray(motion_beat_frames, dtype=np.float64)
    ab = np.asarray(music_beat_frames, dtype=np.float64)
    if mb.size == 0 or ab.size == 0:
        return 0.0
    d = np.abs(mb[:, None] - ab[None, :]).min(axis=1)
    return float(np.exp(-(d ** 2) / (2 * sigma ** 2)).mean())


def mmc(joints: np.ndarray, music_beats: np.ndarray, sigma: float = MMC_SIGMA, order: int = 5) -> float:
    """MMC (beat alignment) of one dancer ``[T, J, 3]`` against a music beat one-hot ``[T]``."""
    beats = np.flatnonzero(np.asarray(music_beats) > 0.5)
    return beat_alignment(motion_beats(joints, order), beats, sigma)


# ------------------------------------------------------------------------------------------------ PFC
#: EDGE reports PFC multiplied by this factor.
PFC_SCALE: float = 10_000.0
PFC_DEFINITIONS: tuple[str, ...] = ("edge", "speed3d")


def pfc(joints: np.ndarray, fps: int = FPS, definition: str = "edge") -> float:
    """Physical foot contact of one dancer ``[T, J, 3]``: high when the body accelerates with no foot planted.

    ``definition="edge"`` (EDGE, Tseng et al. 2023, ``eval/eval_pfc.py``; comparable with published PFC):
    ``10^4 * mean_t( a_t / max_t a_t * min(|dl7|, |dl10|) * min(|dr8|, |dr11|) )`` over frames ``t = 1..T-2``,
    where ``a_t`` is the norm of the root acceleration (finite differences at ``fps``, its upward component
    clamped at 0) and ``|d..|`` is the HORIZONTAL displacement of a foot joint between frames t and t+1 (metres per
    frame, not divided by the frame time): left ankle 7 / left foot 10, right ankle 8 / right foot 11.
    ``definition="speed3d"``: this project's earlier variant, the same product with 3D foot speeds in metres per
    second (displacement * fps) and no 10^4 factor; its values are NOT comparable with published PFC.
    """
    if definition not in PFC_DEFINITIONS:
        raise InputError(f"PFC definition must be one of {PFC_DEFINITIONS}, got {definition!r}")
    p = _joints(joints, 3, "joints")
    dt = 1.0 / fps
    root_v = np.diff(p[:, 0], axis=0) / dt
    root_a = np.diff(root_v, axis=0) / dt
    root_a[:, UP_AXIS] = np.maximum(root_a[:, UP_AXIS], 0.0)
    root_a = np.linalg.norm(root_a, axis=-1)
    scale = root_a.max()
    root_a = root_a / scale if scale > 0 else root_a
    left, right = [FOOT_JOINTS[0], FOOT_JOINTS[2]], [FOOT_JOINTS[1], FOOT_JOINTS[3]]
    step = p[2:] - p[1:-1]  # displacement between frames t and t+1, t = 1..T-2: [T-2, J, 3]
    if definition == "edge":
        horizontal = [ax for ax in range(3) if ax != UP_AXIS]
        feet = np.linalg.norm(step[..., horizontal], axis=-1)
        factor = PFC_SCALE
    else:
        feet = np.linalg.norm(step, axis=-1) / dt
        factor = 1.0
    left_min = feet[:, left].min(-1)
    right_min = feet[:, right].min(-1)
    return float(factor * (left_min * right_min * root_a).mean())


# ------------------------------------------------------------------------------------------------ group metrics
def group_kinetic_features(group: np.ndarray, fps: int = FPS, m: float = GMR_M) -> np.ndarray:
    """72-d group feature ``log(1 + m * mean_n k_n)`` of a group ``[N, T, J, 3]`` (k_n: kinetic features)."""
    g = _joints(group, 4, "group")
    feats = np.stack([kinetic_features(d, fps) for d in g])
    return np.log1p(m * feats.mean(0))


def group_chunks(group: np.ndarray, chunk: int) -> list[np.ndarray]:
    """Non-overlapping ``chunk``-frame pieces of a group (the last partial piece is dropped unless it is the only one)."""
    g = np.asarray(group)
    t = g.shape[1]
    if t <= chunk:
        return [g]
    return [g[:, s:s + chunk] for s in range(0, t - chunk + 1, chunk)]


def gmr(generated: Sequence[np.ndarray], ground_truth: Sequence[np.ndarray], chunk: int = 150,
        fps: int = FPS) -> float:
    """GMR: Fréchet distance between group kinetic features of generated and ground-truth group chunks."""
    from zoo.metrics import frechet

    gen = np.stack([group_kinetic_features(c, fps) for g in generated for c in group_chunks(g, chunk)])
    gt = np.stack([group_kinetic_features(c, fps) for g in ground_truth for c in group_chunks(g, chunk)])
    return frechet.frechet_distance_from_features(gen, gt)


def dtw_path(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    """Dynamic-time-warping path between sequences ``a [T1, D]`` and ``b [T2, D]`` (Euclidean frame cost)."""
    cost = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        row = cost[i - 1]
        for j in range(1, m + 1):
            acc[i, j] = row[j - 1] + min(acc[i - 1, j], acc[i, j - 1], acc[i - 1, j - 1])
    path = []
    i, j = n, m
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        step = int(np.argmin([acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]]))
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return path[::-1]


def frame_kinetics(joints: np.ndarray, fps: int = FPS) -> np.ndarray:
    """Per-frame kinetic feature ``[T, J]``: the squared speed of every joint."""
    v = np.gradient(np.asarray(joints, dtype=np.float64), axis=0) * fps
    return (v ** 2).sum(-1)


def pair_correlation(a: np.ndarray, b: np.ndarray, fps: int = FPS) -> float:
    """Correlation of two dancers' per-frame kinetic features along their DTW alignment (Pearson, in [-1, 1]).

    The alignment uses root-relative poses (so a formation offset does not dominate it); the kinetic features
    use the absolute joints.
    """
    ra, rb = a - a[:, :1], b - b[:, :1]
    path = dtw_path(ra.reshape(a.shape[0], -1), rb.reshape(b.shape[0], -1))
    ka, kb = frame_kinetics(a, fps), frame_kinetics(b, fps)
    x = np.concatenate([ka[i] for i, _ in path])
    y = np.concatenate([kb[j] for _, j in path])
    x, y = x - x.mean(), y - y.mean()
    denom = np.sqrt((x ** 2).sum() * (y ** 2).sum())
    return float((x * y).sum() / denom) if denom > 1e-12 else 0.0


def gmc(group: np.ndarray, fps: int = FPS) -> float:
    """GMC of one group ``[N, T, J, 3]``: the mean pairwise DTW-aligned kinetic correlation (1 for identical
    dancers). A single dancer gives 1."""
    g = _joints(group, 4, "group")
    pairs = list(combinations(range(g.shape[0]), 2))
    if not pairs:
        return 1.0
    return float(np.mean([pair_correlation(g[i], g[j], fps) for i, j in pairs]))


def body_points(joints: np.ndarray, per_bone: int = 2) -> np.ndarray:
    """Points sampled on the skeleton (joints plus ``per_bone`` interior points per bone): ``[..., P, 3]``."""
    j = np.asarray(joints, dtype=np.float64)
    if j.shape[-2] != len(SMPL_PARENTS):
        return j
    pts = [j]
    for c, p in enumerate(SMPL_PARENTS):
        if p < 0:
            continue
        for k in range(1, per_bone + 1):
            s = k / (per_bone + 1)
            pts.append((j[..., p, :] * (1 - s) + j[..., c, :] * s)[..., None, :])
    return np.concatenate(pts, axis=-2)


def tif(group: np.ndarray, radius: float = 0.08) -> float:
    """TIF = sum over frames and ordered pairs i != j of 1[bodies i and j intersect] / frames.

    Bodies are approximated by spheres of ``radius`` around points on the skeleton's bones (the paper intersects
    SMPL meshes, which need the SMPL model file); two bodies intersect when any two of their points are closer
    than ``2 * radius``.
    """
    g = _joints(group, 4, "group")
    pts = body_points(g)  # [N, T, P, 3]
    n, t = pts.shape[:2]
    hits = 0
    for i, j in combinations(range(n), 2):  # each unordered pair counts for (i, j) and (j, i)
        d = np.linalg.norm(pts[i][:, :, None, :] - pts[j][:, None, :, :], axis=-1).min(axis=(1, 2))
        hits += 2 * int((d < 2 * radius).sum())
    return hits / t
