"""Plain PyTorch reference implementations of every kernel op (the ground truth for parity tests).

These functions assume validated inputs (``zoo.kernels.ops`` validates) and are differentiable through ordinary
autograd. Arithmetic is done in float32 (float64 when an input is float64); see each op for its output dtype.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def compute_dtype(*dtypes: torch.dtype) -> torch.dtype:
    """float64 if any input is float64, else float32 (half-precision inputs are computed in float32)."""
    return torch.float64 if torch.float64 in dtypes else torch.float32


# ----------------------------------------------------------------------------------------------------------- info_nce
def info_nce(logits: torch.Tensor, temperature: float, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy over ``[positive, K negatives]`` logits with label 0: ``logsumexp(z/τ) - z_0/τ`` per row."""
    z = logits.to(compute_dtype(logits.dtype)) / temperature
    loss = torch.logsumexp(z, dim=-1) - z[:, 0]
    return loss.mean() if reduction == "mean" else loss


# ------------------------------------------------------------------------------------------------------------ l2_topk
_TOPK_CHUNK_ELEMENTS = 1 << 26  # distance-matrix elements materialised at once (256 MiB in fp32)


def sorted_exact_distances(
    queries: torch.Tensor, database: torch.Tensor, index: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact squared distances of the selected pairs (differentiable), re-sorted ascending per row.

    Candidates are selected from the expanded form ``|q|²+|x|²-2q·x`` (as faiss does); their values are then
    recomputed as ``Σ(q-x)²`` so that they are accurate and carry gradients to both inputs.
    """
    dt = compute_dtype(queries.dtype, database.dtype)
    diff = queries.to(dt).unsqueeze(1) - database.to(dt)[index]
    dist = diff.square().sum(-1)
    order = torch.argsort(dist.detach(), dim=1, stable=True)
    return dist.gather(1, order), index.gather(1, order)


def l2_topk(queries: torch.Tensor, database: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest database rows of each query in squared L2 distance: ``(sq_dist ascending, index int64)``."""
    dt = compute_dtype(queries.dtype, database.dtype)
    q, x = queries.detach().to(dt), database.detach().to(dt)
    x_sq = x.square().sum(-1)
    rows = max(1, _TOPK_CHUNK_ELEMENTS // max(1, x.shape[0]))
    picks = []
    for start in range(0, q.shape[0], rows):
        qc = q[start : start + rows]
        d = qc.square().sum(-1, keepdim=True) + x_sq.unsqueeze(0) - 2.0 * (qc @ x.T)
        picks.append(torch.topk(d, k, dim=1, largest=False, sorted=True).indices)
    index = torch.cat(picks, 0) if picks else torch.empty(0, k, dtype=torch.long, device=queries.device)
    return sorted_exact_distances(queries, database, index)


# --------------------------------------------------------------------------------------------------- group_modulation
def group_modulation(
    h: torch.Tensor, mask: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, eps: float = 1e-8
) -> torch.Tensor:
    """Masked per-sample, per-channel normalisation then affine: ``scale*(h-μ)/sqrt(σ²+eps)+shift``.

    μ and σ² (biased) are taken over the valid tokens of each sample only. Padded positions of the output are 0;
    a sample with no valid token gives an all-zero output (and zero gradients), never NaN.
    """
    dt = compute_dtype(h.dtype, scale.dtype, shift.dtype)
    valid = mask.unsqueeze(-1)
    x = torch.where(valid, h.to(dt), torch.zeros((), dtype=dt, device=h.device))
    m = valid.to(dt)
    count = m.sum(1, keepdim=True).clamp_min(1.0)
    mu = x.sum(1, keepdim=True) / count
    centred = (x - mu) * m
    var = centred.square().sum(1, keepdim=True) / count
    y = scale.to(dt).unsqueeze(1) * centred * torch.rsqrt(var + eps) + shift.to(dt).unsqueeze(1)
    y = torch.where(valid, y, torch.zeros((), dtype=dt, device=h.device))
    return y.to(h.dtype)


# ----------------------------------------------------------------------------------------------------------------- mix
def mix(
    weights: torch.Tensor,
    buffers: torch.Tensor,
    *,
    out: torch.Tensor | None = None,
    out_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """``weights @ buffers`` accumulated in float32 (float64 for float64 inputs), in ``out_dtype`` or into ``out``."""
    dt = compute_dtype(weights.dtype, buffers.dtype)
    result = weights.to(dt) @ buffers.to(dt)
    if out is not None:
        return out.copy_(result)  # the product is complete before out (possibly buffers itself) is written
    return result.to(out_dtype or buffers.dtype)


# ------------------------------------------------------------------------------------------------------------ geometry
def rot6d_to_matrix(x: torch.Tensor, convention: str = "columns") -> torch.Tensor:
    """6D rotation -> 3×3 matrix by Gram-Schmidt (Zhou et al. 2019).

    ``a1 = x[..., :3]``, ``a2 = x[..., 3:]``; ``b1 = a1/|a1|``, ``b2 = normalise(a2 - (b1·a2) b1)``, ``b3 = b1×b2``.
    ``convention="columns"`` (Zhou et al.): b1, b2, b3 are the COLUMNS of the matrix. ``"rows"`` (PyTorch3D, and
    the EDGE/GCD code that copies it): they are the ROWS, i.e. the transpose.
    """
    dt = compute_dtype(x.dtype)
    a1, a2 = x[..., :3].to(dt), x[..., 3:].to(dt)
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    out = torch.stack((b1, b2, b3), dim=-1 if convention == "columns" else -2)
    return out.to(x.dtype)


def matrix_to_rot6d(matrix: torch.Tensor, convention: str = "columns") -> torch.Tensor:
    """Inverse of :func:`rot6d_to_matrix` on rotation matrices: the first two columns (or rows), concatenated."""
    if convention == "columns":
        return torch.cat((matrix[..., :, 0], matrix[..., :, 1]), dim=-1)
    return torch.cat((matrix[..., 0, :], matrix[..., 1, :]), dim=-1)


def forward_kinematics(
    rotmats: torch.Tensor, root: torch.Tensor, offsets: torch.Tensor, parents: Sequence[int]
) -> torch.Tensor:
    """Joint positions from local joint rotations on a kinematic tree.

    ``G_j = G_parent(j) @ R_j`` and ``p_j = p_parent(j) + G_parent(j) @ offsets[j]``; a joint whose parent is -1 is
    placed at ``root`` with ``G_j = R_j`` (its offset row is ignored, as in the EDGE/GCD skeleton code).
    """
    dt = compute_dtype(rotmats.dtype, root.dtype, offsets.dtype)
    r, p0, off = rotmats.to(dt), root.to(dt), offsets.to(dt)
    glob: list[torch.Tensor] = []
    pos: list[torch.Tensor] = []
    for j, parent in enumerate(parents):
        if parent < 0:
            glob.append(r[..., j, :, :])
            pos.append(p0)
        else:
            g = glob[parent]
            pos.append(pos[parent] + (g @ off[j].unsqueeze(-1)).squeeze(-1))
            glob.append(g @ r[..., j, :, :])
    return torch.stack(pos, dim=-2).to(rotmats.dtype)


# ---------------------------------------------------------------------------------------------------- geometric_losses
def contact_indicator(contact: torch.Tensor, threshold: float) -> torch.Tensor:
    """Foot-contact labels as a boolean tensor: bools as given, numbers ``> threshold``."""
    return contact if contact.dtype == torch.bool else contact > threshold


def geometric_losses(
    pred_joints: torch.Tensor,
    target_joints: torch.Tensor,
    mask: torch.Tensor,
    foot_idx: Sequence[int],
    contact: torch.Tensor,
    contact_threshold: float = 0.5,
) -> dict[str, torch.Tensor]:
    """GCD's L_geo terms on joint positions ``[B,N,T,J,3]`` with masked means (see ``zoo.kernels.ops``)."""
    dt = compute_dtype(pred_joints.dtype, target_joints.dtype)
    p, g = pred_joints.to(dt), target_joints.to(dt)
    _, _, t_len, n_joints, _ = p.shape
    m = mask.to(dt)
    zero = torch.zeros((), dtype=dt, device=p.device)

    err = torch.where(mask[..., None, None], p - g, zero)
    joint = err.square().sum((-1, -2)).sum() / (m.sum() * n_joints * 3).clamp_min(1.0)

    pair = mask[:, :, 1:] & mask[:, :, :-1]
    mp = pair.to(dt)
    vel_err = torch.where(pair[..., None, None], (p[:, :, 1:] - p[:, :, :-1]) - (g[:, :, 1:] - g[:, :, :-1]), zero)
    velocity = vel_err.square().sum((-1, -2)).sum() / (mp.sum() * n_joints * 3).clamp_min(1.0)

    feet = list(foot_idx)
    on = contact_indicator(contact, contact_threshold)[:, :, :-1] & pair.unsqueeze(-1)
    foot_vel = p[:, :, 1:, feet] - p[:, :, :-1, feet]
    foot_vel = torch.where(on.unsqueeze(-1), foot_vel, zero)
    foot = foot_vel.square().sum() / (mp.sum() * len(feet) * 3).clamp_min(1.0)
    if t_len < 2:
        velocity, foot = velocity * 0, foot * 0
    return {"joint": joint, "velocity": velocity, "foot": foot}


#: SMPL's 24-joint kinematic tree (parent of each joint; -1 for the pelvis), the tree GCD's geometric loss uses.
SMPL_PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

#: SMPL foot joints used by GCD's foot-contact term: left/right ankle (7, 8) and left/right foot (10, 11).
SMPL_FOOT_JOINTS: tuple[int, ...] = (7, 8, 10, 11)


# ------------------------------------------------------------------------------------------------------ quantile_loss
def quantile_loss(target: torch.Tensor, pred: torch.Tensor, taus: torch.Tensor, pairing: str = "all") -> torch.Tensor:
    """Pairwise pinball loss ``mean_{h,k} Σ ρ_τ(target[h,·] - pred[k,·])`` with ``ρ_τ(u) = u (τ - 1[u < 0])``.

    ``pairing="all"``: every target column j against every prediction column i (τ = taus[i]);
    ``"matched"``: column i against column i only. Materialises the ``[H, K, M, N]`` (or ``[H, K, N]``) tensor.
    """
    acc = compute_dtype(target.dtype, pred.dtype, taus.dtype)
    t, p, tau = target.to(acc), pred.to(acc), taus.detach().to(acc)  # the fractions get no gradient
    if pairing == "matched":
        u = t[:, None, :] - p[None, :, :]  # [h, k, i]
        return (u * (tau - (u < 0).to(acc))).sum(-1).mean()
    u = t[:, None, :, None] - p[None, :, None, :]  # [h, k, j, i]
    return (u * (tau - (u < 0).to(acc))).sum((-1, -2)).mean()


# --------------------------------------------------------------------------------------------------------- mean_shift
def mean_shift(
    means: torch.Tensor, points: torch.Tensor, bandwidth: float, kernel: str = "flat"
) -> tuple[torch.Tensor, torch.Tensor]:
    """One mean-shift step of every row of ``means[S, D]`` over ``points[N, D]``: ``(new means, counts)``.

    ``d = ‖m - x‖²`` (as ``|m|² + |x|² - 2 m·x``, clamped at 0); ``counts[s] = #{x : d ≤ h²}``; the weights are
    ``1[d ≤ h²]`` (flat) or ``exp(-d / 2h²)`` (Gaussian); a mean with zero total weight stays where it is.
    Not differentiable (a clustering iteration): the results are detached.
    """
    with torch.no_grad():
        acc = compute_dtype(means.dtype, points.dtype)
        m, x = means.to(acc), points.to(acc)
        h2 = bandwidth * bandwidth
        d = ((m * m).sum(-1)[:, None] + (x * x).sum(-1)[None, :] - 2.0 * (m @ x.T)).clamp_min(0.0)
        within = d <= h2
        weights = within.to(acc) if kernel == "flat" else torch.exp(-d / (2.0 * h2))
        mass = weights.sum(1, keepdim=True)
        new = (weights @ x) / mass.clamp_min(torch.finfo(acc).tiny)
        return torch.where(mass > 0, new, m).to(means.dtype), within.sum(1)
