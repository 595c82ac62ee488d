"""Registration of the built-in ops: their torch references and fused Triton implementations."""
from __future__ import annotations

import torch

from .registry import FLOAT_DTYPES, Implementation, KernelOp, register

_REF = "zoo.kernels.reference"
_FUSED = "zoo.kernels.fused"
_HALF_AND_FLOAT = frozenset({torch.float16, torch.bfloat16, torch.float32})


def _reference(function: str) -> Implementation:
    return Implementation("torch", f"{_REF}:{function}", ("cpu", "cuda", "mps", "xpu"), FLOAT_DTYPES, "torch",
                          "plain PyTorch (autograd)")


def _triton(module: str, function: str, dtypes: frozenset[torch.dtype], description: str) -> Implementation:
    return Implementation("triton", f"{_FUSED}.{module}:{function}", ("cuda",), dtypes, "triton", description)


def _op(name: str, summary: str, module: str, dtypes: frozenset[torch.dtype], description: str) -> None:
    register(KernelOp(name, summary, _reference(name), {"triton": _triton(module, name, dtypes, description)}))


_op("info_nce", "InfoNCE / cross-entropy over [positive, K negatives] logits with temperature",
    "info_nce", FLOAT_DTYPES, "one program per row block: logsumexp forward, softmax-minus-onehot backward")
_op("l2_topk", "squared-L2 k nearest neighbours (IndexFlatL2 semantics)",
    "l2_topk", _HALF_AND_FLOAT, "tiled |q|²+|x|²-2q·x with a running per-query top-k; never stores Q×N")
_op("group_modulation", "masked per-sample per-channel normalisation + affine (GCD group modulation)",
    "group_modulation", FLOAT_DTYPES, "single-pass masked Welford statistics + affine; fused backward")
_op("mix", "weights[M,N] @ buffers[N,P] in fp32 accumulation (federated averaging / gossip)",
    "mix", FLOAT_DTYPES, "column-tiled skinny GEMM, fp32 accumulation, low-precision buffers, in-place out=")
_op("rot6d_to_matrix", "6D rotation -> 3x3 matrix by Gram-Schmidt (Zhou et al. 2019)",
    "geometry", FLOAT_DTYPES, "elementwise kernel with hand-written Gram-Schmidt backward")
_op("forward_kinematics", "joint positions from local rotations on a kinematic tree (SMPL 24 joints)",
    "geometry", FLOAT_DTYPES, "one lane per pose, joints walked in order; hand-written reverse-mode backward")
_op("geometric_losses", "GCD L_geo terms: joint MSE, velocity MSE, foot-contact velocity (masked means)",
    "geometric_losses", FLOAT_DTYPES, "one pass over frames producing the three partial sums; fused backward")
_op("quantile_loss", "pairwise pinball loss mean_{h,k} Σ ρ_τ(target - pred) (QR-GAN critic/generator losses)",
    "quantile_loss", FLOAT_DTYPES, "predictions × streamed targets, sums and counts per prediction; counting backward")
_op("mean_shift", "one mean-shift step of S seeds over N points, flat or Gaussian kernel (ANC neuron clustering)",
    "mean_shift", FLOAT_DTYPES, "flash-style: point chunks streamed, S×N weights never stored; forward only")
