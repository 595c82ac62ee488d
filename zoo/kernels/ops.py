"""The public ops: ``from zoo.kernels import ops``; ``ops.info_nce(...)`` and friends.

Each function validates its inputs (bad input raises :class:`~zoo.errors.InputError`), picks an implementation
through the registry's dispatch policy (``ZOO_KERNELS=auto|torch|triton``, see :mod:`zoo.kernels.registry`) and
calls it. Every implementation is differentiable (forward and backward) unless stated otherwise.

Dtypes: arithmetic is in float32 (float64 when an input is float64). Losses are returned in that compute dtype;
tensors keep the dtype of their main input (``mix``: the buffers' dtype, or ``out_dtype``/``out``).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from zoo.errors import InputError

from . import _validate as check
from .registry import select


def info_nce(logits: torch.Tensor, temperature: float, reduction: str = "mean") -> torch.Tensor:
    """InfoNCE over ``logits[B, 1+K]`` whose column 0 is the positive: ``-log softmax(logits/τ)[:, 0]``.

    ``reduction="mean"`` returns a scalar, ``"none"`` the ``[B]`` per-row losses.
    """
    check.tensor("info_nce", "logits", logits, 2)
    check.nonempty("info_nce", "logits", logits)
    if not isinstance(temperature, (int, float)) or not temperature > 0:
        raise InputError(f"info_nce: temperature must be a positive number, got {temperature!r}")
    if reduction not in ("mean", "none"):
        raise InputError(f"info_nce: reduction must be 'mean' or 'none', got {reduction!r}")
    fn = select("info_nce", logits.device, logits.dtype)
    return fn(logits, float(temperature), reduction)


def l2_topk(queries: torch.Tensor, database: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest rows of ``database[N, D]`` to each of ``queries[Q, D]`` in squared L2 distance.

    Returns ``(sq_dist[Q, k] ascending, index[Q, k] int64)``, the same neighbours as faiss ``IndexFlatL2`` (ties
    aside). Distances are differentiable with respect to both inputs; the selection is not.
    """
    check.tensor("l2_topk", "queries", queries, 2)
    check.tensor("l2_topk", "database", database, 2)
    device = check.same_device("l2_topk", queries=queries, database=database)
    if queries.shape[1] != database.shape[1]:
        raise InputError(f"l2_topk: queries have dimension {queries.shape[1]} but the database rows have "
                         f"{database.shape[1]}")
    check.nonempty("l2_topk", "database", database)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= database.shape[0]:
        raise InputError(f"l2_topk: k must be an int in 1..{database.shape[0]} (the database size), got {k!r}")
    fn = select("l2_topk", device, torch.promote_types(queries.dtype, database.dtype))
    return fn(queries, database, k)


def group_modulation(
    h: torch.Tensor, mask: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, eps: float = 1e-8
) -> torch.Tensor:
    """GCD's group modulation on ``h[B, L, C]`` with ``mask[B, L]`` (True = valid token).

    Per sample and channel, μ and the biased variance σ² are taken over the valid tokens only; the output is
    ``scale[B, C] * (h - μ) / sqrt(σ² + eps) + shift[B, C]`` (no +1 on the scale) at valid tokens and **0 at padded
    tokens**. A sample whose mask is all False gives zeros (no NaN). Output dtype = ``h.dtype``.
    """
    op = "group_modulation"
    check.tensor(op, "h", h, 3)
    b, length, c = h.shape
    check.bool_mask(op, "mask", mask, (b, length))
    check.tensor(op, "scale", scale, 2)
    check.tensor(op, "shift", shift, 2)
    check.shape(op, "scale", scale, (b, c))
    check.shape(op, "shift", shift, (b, c))
    device = check.same_device(op, h=h, mask=mask, scale=scale, shift=shift)
    if not eps > 0:
        raise InputError(f"{op}: eps must be positive, got {eps!r}")
    fn = select(op, device, h.dtype)
    return fn(h, mask, scale, shift, float(eps))


def mix(
    weights: torch.Tensor,
    buffers: torch.Tensor,
    *,
    out: torch.Tensor | None = None,
    out_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """``weights[M, N] @ buffers[N, P]``: federated averaging (M=1) or a gossip step (M=N) in one product.

    Accumulation is float32 (float64 for float64 inputs) whatever the buffers' dtype, so bf16/fp16 parameter
    buffers mix without precision loss in the sum. The result has ``out_dtype`` (default: ``buffers.dtype``) or is
    written into ``out[M, P]``, which may be ``buffers`` itself (in-place gossip, M == N). ``out=`` is not
    differentiable (as for torch's own ``out=`` functions).
    """
    check.tensor("mix", "weights", weights, 2)
    check.tensor("mix", "buffers", buffers, 2)
    m, n = weights.shape
    if buffers.shape[0] != n:
        raise InputError(f"mix: weights is [M={m}, N={n}] so buffers must have N={n} rows, got "
                         f"shape {tuple(buffers.shape)}")
    device = check.same_device("mix", weights=weights, buffers=buffers)
    if out is not None:
        check.tensor("mix", "out", out, 2)
        check.shape("mix", "out", out, (m, buffers.shape[1]))
        check.same_device("mix", weights=weights, out=out)
        if out_dtype is not None and out_dtype != out.dtype:
            raise InputError(f"mix: out_dtype={out_dtype} contradicts out.dtype={out.dtype}")
        if torch.is_grad_enabled() and (weights.requires_grad or buffers.requires_grad or out.requires_grad):
            raise InputError("mix: out= does not support autograd; call without out= to differentiate")
        if out.data_ptr() == buffers.data_ptr() and m != n:
            raise InputError(f"mix: in-place mixing (out is buffers) needs a square weights matrix, got [{m}, {n}]")
        out_dtype = out.dtype
    if out_dtype is not None and out_dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise InputError(f"mix: out_dtype must be a floating dtype, got {out_dtype}")
    fn = select("mix", device, buffers.dtype)
    return fn(weights, buffers, out=out, out_dtype=out_dtype)


def rot6d_to_matrix(x: torch.Tensor, convention: str = "columns") -> torch.Tensor:
    """``x[..., 6]`` -> rotation matrices ``[..., 3, 3]`` by Gram-Schmidt (Zhou et al., CVPR 2019).

    ``a1 = x[..., :3]`` and ``a2 = x[..., 3:]`` give ``b1 = a1/|a1|``, ``b2 = normalise(a2 - (b1·a2)b1)``,
    ``b3 = b1 × b2``. With ``convention="columns"`` (default, Zhou et al.) b1, b2, b3 are the matrix COLUMNS; with
    ``"rows"`` they are the ROWS — the convention of PyTorch3D's ``rotation_6d_to_matrix``, which the EDGE and GCD
    code uses; the two results are transposes of each other. Use :func:`matrix_to_rot6d` with the same convention.
    """
    check.tensor("rot6d_to_matrix", "x", x)
    if x.dim() < 1 or x.shape[-1] != 6:
        raise InputError(f"rot6d_to_matrix: x must have a last dimension of 6, got shape {tuple(x.shape)}")
    _convention("rot6d_to_matrix", convention)
    fn = select("rot6d_to_matrix", x.device, x.dtype)
    return fn(x, convention)


def matrix_to_rot6d(matrix: torch.Tensor, convention: str = "columns") -> torch.Tensor:
    """Rotation matrices ``[..., 3, 3]`` -> 6D ``[..., 6]`` (first two columns, or rows, concatenated).

    A slice, so it has no fused implementation; provided for data preparation symmetric to
    :func:`rot6d_to_matrix`.
    """
    check.tensor("matrix_to_rot6d", "matrix", matrix)
    if matrix.dim() < 2 or tuple(matrix.shape[-2:]) != (3, 3):
        raise InputError(f"matrix_to_rot6d: matrix must end in (3, 3), got shape {tuple(matrix.shape)}")
    _convention("matrix_to_rot6d", convention)
    from .reference import matrix_to_rot6d as ref

    return ref(matrix, convention)


def forward_kinematics(
    rotmats: torch.Tensor, root: torch.Tensor, offsets: torch.Tensor, parents: Sequence[int]
) -> torch.Tensor:
    """Joint positions ``[..., J, 3]`` from local rotations ``rotmats[..., J, 3, 3]`` on a kinematic tree.

    ``G_j = G_parent · R_j`` and ``p_j = p_parent + G_parent · offsets[j]``; a root joint (parent -1) sits at
    ``root[..., 3]`` with ``G = R`` (its offset row is ignored, as in the EDGE/GCD skeleton code). ``parents``
    lists each joint's parent, parents before children (``zoo.kernels.SMPL_PARENTS`` for SMPL's 24 joints).
    """
    op = "forward_kinematics"
    check.tensor(op, "rotmats", rotmats)
    if rotmats.dim() < 3 or tuple(rotmats.shape[-2:]) != (3, 3):
        raise InputError(f"{op}: rotmats must have shape [..., J, 3, 3], got {tuple(rotmats.shape)}")
    n_joints = rotmats.shape[-3]
    check.tensor(op, "root", root)
    check.shape(op, "root", root, (*rotmats.shape[:-3], 3))
    check.tensor(op, "offsets", offsets, 2)
    check.shape(op, "offsets", offsets, (n_joints, 3))
    tree = check.parents(op, parents, n_joints)
    device = check.same_device(op, rotmats=rotmats, root=root, offsets=offsets)
    fn = select(op, device, rotmats.dtype)
    return fn(rotmats, root, offsets, tree)


def geometric_losses(
    pred_joints: torch.Tensor,
    target_joints: torch.Tensor,
    mask: torch.Tensor,
    foot_idx: Sequence[int],
    contact: torch.Tensor,
    contact_threshold: float = 0.5,
) -> dict[str, torch.Tensor]:
    """GCD's geometric-loss terms on joint positions ``[B, N, T, J, 3]`` (dancers N, frames T).

    With ``mask[B, N, T]`` (True = valid dancer-frame) and frame pairs (t, t+1) valid when both frames are:

    * ``joint``    = Σ_valid frames ‖p̂ - p‖² / (#valid frames · J · 3)
    * ``velocity`` = Σ_valid pairs ‖(p̂_{t+1} - p̂_t) - (p_{t+1} - p_t)‖² / (#valid pairs · J · 3)
    * ``foot``     = Σ_valid pairs Σ_f 1[contact_{t,f}] ‖p̂_{t+1,f} - p̂_{t,f}‖² / (#valid pairs · F · 3)

    ``foot_idx`` names the F foot joints (SMPL: ``zoo.kernels.SMPL_FOOT_JOINTS``); ``contact[B, N, T, F]`` is bool,
    or numbers compared ``> contact_threshold`` (GCD's code feeds the model's own predicted contacts with
    threshold 0.95). Each term is 0 (not NaN) when nothing is valid. Losses are 0-dim tensors in the compute dtype;
    gradients flow to ``pred_joints`` and ``target_joints`` (the contact indicator is not differentiable).
    """
    op = "geometric_losses"
    check.tensor(op, "pred_joints", pred_joints, 5)
    if pred_joints.shape[-1] != 3:
        raise InputError(f"{op}: pred_joints must be [B, N, T, J, 3], got {tuple(pred_joints.shape)}")
    b, n, t, n_joints, _ = pred_joints.shape
    check.tensor(op, "target_joints", target_joints, 5)
    check.shape(op, "target_joints", target_joints, tuple(pred_joints.shape))
    check.bool_mask(op, "mask", mask, (b, n, t))
    feet = check.indices(op, "foot_idx", foot_idx, n_joints)
    check.tensor(op, "contact", contact, 4, floating=False)
    check.shape(op, "contact", contact, (b, n, t, len(feet)))
    if contact.dtype != torch.bool and (contact.is_complex() or not (contact.is_floating_point() or
                                                                       contact.dtype in _INT_DTYPES)):
        raise InputError(f"{op}: contact must be bool or numeric, got {contact.dtype}")
    device = check.same_device(op, pred_joints=pred_joints, target_joints=target_joints, mask=mask, contact=contact)
    fn = select(op, device, torch.promote_types(pred_joints.dtype, target_joints.dtype))
    return fn(pred_joints, target_joints, mask, feet, contact, float(contact_threshold))


_INT_DTYPES = frozenset({torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64})


def _convention(op: str, convention: str) -> None:
    if convention not in ("columns", "rows"):
        raise InputError(f"{op}: convention must be 'columns' (Zhou et al.) or 'rows' (PyTorch3D/EDGE), "
                         f"got {convention!r}")


def quantile_loss(target: torch.Tensor, pred: torch.Tensor, taus: torch.Tensor, pairing: str = "all"
                  ) -> torch.Tensor:
    """Pairwise pinball (quantile-regression) loss, without the pairwise difference tensor.

    ``ρ_τ(u) = u (τ - 1[u < 0])``. ``target[H, M]`` and ``pred[K, N]``; ``taus[N]`` are the fractions of the
    prediction columns. ``pairing="all"`` returns ``mean_{h,k} Σ_{j,i} ρ_{τ_i}(target[h,j] - pred[k,i])`` (QR-GAN's
    generator loss, Alg. 1 line 10); ``"matched"`` (M must equal N) returns
    ``mean_{h,k} Σ_i ρ_{τ_i}(target[h,i] - pred[k,i])`` (QR-GAN's critic objective, Eq. 14). A 0-dim tensor in the
    compute dtype; gradients flow to ``target`` and ``pred`` (with ``1[0 < 0] = 0``), not to ``taus``.
    """
    op = "quantile_loss"
    check.tensor(op, "target", target, 2)
    check.tensor(op, "pred", pred, 2)
    check.tensor(op, "taus", taus, 1)
    check.nonempty(op, "target", target)
    check.nonempty(op, "pred", pred)
    check.shape(op, "taus", taus, (pred.shape[1],))
    if pairing not in ("all", "matched"):
        raise InputError(f"{op}: pairing must be 'all' or 'matched', got {pairing!r}")
    if pairing == "matched" and target.shape[1] != pred.shape[1]:
        raise InputError(f"{op}: pairing='matched' needs as many target columns as pred columns, got target "
                         f"{tuple(target.shape)} and pred {tuple(pred.shape)}")
    device = check.same_device(op, target=target, pred=pred, taus=taus)
    fn = select(op, device, torch.promote_types(target.dtype, pred.dtype))
    return fn(target, pred, taus, pairing)


def mean_shift(means: torch.Tensor, points: torch.Tensor, bandwidth: float, kernel: str = "flat"
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """One mean-shift step of every seed ``means[S, D]`` over ``points[N, D]``, without the ``[S, N]`` matrix.

    With ``d = ‖m - x‖²`` and ``h = bandwidth``: the weights are ``1[d ≤ h²]`` (``kernel="flat"``, scikit-learn's
    ``MeanShift``) or ``exp(-d / 2h²)`` (``"gaussian"``); returns ``(new_means[S, D]`` = weighted mean of the
    points (a seed with zero total weight stays put), in ``means.dtype``, ``counts[S]`` int64 = points within
    ``h``). Not differentiable (a clustering iteration; results are detached).
    """
    op = "mean_shift"
    check.tensor(op, "means", means, 2)
    check.tensor(op, "points", points, 2)
    check.nonempty(op, "points", points)
    if means.shape[1] != points.shape[1]:
        raise InputError(f"{op}: means have dimension {means.shape[1]} but the points have {points.shape[1]}")
    if isinstance(bandwidth, bool) or not isinstance(bandwidth, (int, float)) or not bandwidth > 0:
        raise InputError(f"{op}: bandwidth must be a positive number, got {bandwidth!r}")
    if kernel not in ("flat", "gaussian"):
        raise InputError(f"{op}: kernel must be 'flat' or 'gaussian', got {kernel!r}")
    device = check.same_device(op, means=means, points=points)
    fn = select(op, device, torch.promote_types(means.dtype, points.dtype))
    return fn(means, points, float(bandwidth), kernel)
