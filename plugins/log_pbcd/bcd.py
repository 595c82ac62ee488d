"""The LOG-PBCD updates (Algorithm 1 of Xie, Li and Zhao, PRCV 2021), full batch, no gradients.

Notation of the paper: column = sample. ``A[0] = X^T`` (d_0 x M); for hidden layers l = 1..L-1 the blocks are
``W_l, B_l, Z_l, A_l``; the output layer has ``W_L, B_L, Z_L``. Each sweep updates the layers in forward order,
``W_l -> B_l -> Z_l -> A_l``, each block by the closed form of its proximal subproblem, always using the newest
value of every other block (Gauss-Seidel):

- ``W_l = (delta W_l + rho (Z_l - B_l) A_{l-1}^T)(delta I + rho A_{l-1} A_{l-1}^T)^{-1}``      (Eq. 7)
- ``B_l = (delta B_l + rho (Z_l - W_l A_{l-1})) / (rho + delta)``, one column shared by all samples (Eq. 8)
- ``Z_l = prox_{1/2 eta (a - relu z)^2}(S_l)``, ``S_l = (delta Z_l + rho (W_l A_{l-1} + B_l)) / (rho + delta)``,
  ``eta = (rho + delta) / gamma`` (Eq. 10-13, :func:`zoo.prox.relu_prox`)
- ``A_l = prox_{log, lam/delta}(X_l)`` for l <= L-2, a proximal-gradient step with
  ``X_l = A_l - ((rho W_{l+1}^T W_{l+1} + gamma I) A_l - rho W_{l+1}^T (Z_{l+1} - B_{l+1}) - gamma relu(Z_l)) / delta``
  (Eq. 15-17, :func:`zoo.prox.log_threshold`)
- ``A_{L-1} = (rho W_L^T W_L + (gamma + delta) I)^{-1} (delta A_{L-1} + rho W_L^T (Z_L - B_L) + gamma relu(Z_{L-1}))``
  (Eq. 18-19; the paper prints ``(rho + delta) I``, equal when gamma = rho)
- output layer: ``W_L``, ``B_L`` as above, ``Z_L = (beta (W_L A_{L-1} + B_L) + alpha Y + delta Z_L)
  / (alpha + beta + delta)`` (Eq. 20-21)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from zoo.prox import log_penalty, log_threshold, prox_log, relu_prox
from zoo_plugins.log_pbcd.config import LogPBCDConfig
from zoo_plugins.log_pbcd.model import LogPBCDNet


@dataclass
class BCDState:
    """The auxiliary blocks of one full-batch problem: activations ``A[0..L-1]`` and pre-activations ``Z[1..L]``.

    ``Z[0]`` is unused (``None``) so indices match the paper; ``Y`` is the one-hot label matrix (K x M).
    """

    A: list[torch.Tensor]
    Z: list[torch.Tensor | None]
    Y: torch.Tensor


def init_state(net: LogPBCDNet, x: torch.Tensor, labels: torch.Tensor) -> BCDState:
    """Blocks from one forward pass of the network (``Z_l = W_l A_{l-1} + B_l``, ``A_l = relu(Z_l)``)."""
    with torch.no_grad():
        a = x.flatten(1).T.contiguous()
        A: list[torch.Tensor] = [a]
        Z: list[torch.Tensor | None] = [None]
        for i, layer in enumerate(net.layers):
            z = layer.weight @ A[-1] + layer.bias[:, None]
            Z.append(z)
            if i < len(net.layers) - 1:
                A.append(torch.relu(z))
        Y = torch.nn.functional.one_hot(labels, net.config.num_classes).T.to(a.dtype)
    return BCDState(A, Z, Y)


def update_weights(W: torch.Tensor, b: torch.Tensor, Z: torch.Tensor, A_prev: torch.Tensor, rho: float,
                   delta: float) -> None:
    """Eq. 7 then Eq. 8, in place: the proximal least-squares weights, then the shared bias column."""
    d = A_prev.shape[0]
    gram = delta * torch.eye(d, dtype=A_prev.dtype) + rho * (A_prev @ A_prev.T)
    rhs = delta * W + rho * (Z - b[:, None]) @ A_prev.T
    W.copy_(torch.linalg.solve(gram, rhs.T).T)  # rhs @ gram^{-1}, gram symmetric
    b.copy_((delta * b + rho * (Z - W @ A_prev).mean(1)) / (rho + delta))


def update_z(Z: torch.Tensor, A: torch.Tensor, W: torch.Tensor, b: torch.Tensor, A_prev: torch.Tensor,
             config: LogPBCDConfig) -> torch.Tensor:
    """Eq. 10-13: the ReLU proximal step of a hidden layer's pre-activations."""
    rho, delta = config.rho, config.delta
    S = (delta * Z + rho * (W @ A_prev + b[:, None])) / (rho + delta)
    return relu_prox(A, S, (rho + delta) / config.gamma)


def update_sparse_a(A: torch.Tensor, Z: torch.Tensor, W_next: torch.Tensor, b_next: torch.Tensor,
                    Z_next: torch.Tensor, config: LogPBCDConfig) -> torch.Tensor:
    """Eq. 15-17: a proximal-gradient step on A_l, then log-thresholding with ``lam / delta``."""
    rho, gamma, delta = config.rho, config.gamma, config.delta
    grad = rho * (W_next.T @ (W_next @ A)) + gamma * A - rho * W_next.T @ (Z_next - b_next[:, None]) \
        - gamma * torch.relu(Z)
    X = A - grad / delta
    threshold = log_threshold if config.prox == "paper" else prox_log
    return threshold(X, config.lam / delta, config.eps)


def update_last_a(A: torch.Tensor, Z: torch.Tensor, W_out: torch.Tensor, b_out: torch.Tensor, Z_out: torch.Tensor,
                  config: LogPBCDConfig) -> torch.Tensor:
    """Eq. 18-19: the closed-form update of the last hidden layer (no sparsity term)."""
    rho, gamma, delta = config.rho, config.gamma, config.delta
    d = A.shape[0]
    lhs = rho * (W_out.T @ W_out) + (gamma + delta) * torch.eye(d, dtype=A.dtype)
    rhs = delta * A + rho * W_out.T @ (Z_out - b_out[:, None]) + gamma * torch.relu(Z)
    return torch.linalg.solve(lhs, rhs)


def update_output_z(Z_out: torch.Tensor, W_out: torch.Tensor, b_out: torch.Tensor, A_last: torch.Tensor,
                    Y: torch.Tensor, config: LogPBCDConfig) -> torch.Tensor:
    """Eq. 20-21: ``(beta (W_L A + B_L) + alpha Y + delta Z_L) / (alpha + beta + delta)``."""
    a, be, de = config.alpha, config.beta, config.delta
    return (be * (W_out @ A_last + b_out[:, None]) + a * Y + de * Z_out) / (a + be + de)


@torch.no_grad()
def sweep(net: LogPBCDNet, state: BCDState) -> None:
    """One iteration of Algorithm 1 over every layer, in forward order (lines 5-20)."""
    config = net.config
    L = len(net.layers)
    A, Z = state.A, state.Z
    for l in range(1, L + 1):  # noqa: E741 - the paper's index
        W, b = net.layers[l - 1].weight, net.layers[l - 1].bias
        update_weights(W, b, Z[l], A[l - 1], config.rho, config.delta)  # type: ignore[arg-type]
        if l == L:
            Z[L] = update_output_z(Z[L], W, b, A[L - 1], state.Y, config)  # type: ignore[arg-type]
            break
        Z[l] = update_z(Z[l], A[l], W, b, A[l - 1], config)  # type: ignore[arg-type]
        nxt = net.layers[l]
        if l <= L - 2:
            A[l] = update_sparse_a(A[l], Z[l], nxt.weight, nxt.bias, Z[l + 1], config)  # type: ignore[arg-type]
        else:
            A[l] = update_last_a(A[l], Z[l], nxt.weight, nxt.bias, Z[l + 1], config)  # type: ignore[arg-type]


@torch.no_grad()
def objective(net: LogPBCDNet, state: BCDState) -> float:
    """The value of Eq. 4 at the current blocks (without the proximal terms)."""
    config = net.config
    L = len(net.layers)
    A, Z = state.A, state.Z
    total = 0.0
    for l in range(1, L):  # noqa: E741
        W, b = net.layers[l - 1].weight, net.layers[l - 1].bias
        total += config.gamma / 2 * float((A[l] - torch.relu(Z[l])).pow(2).sum())  # type: ignore[arg-type]
        total += config.rho / 2 * float((Z[l] - W @ A[l - 1] - b[:, None]).pow(2).sum())
        if l <= L - 2:
            total += float(log_penalty(A[l], config.lam, config.eps).sum())
    W, b = net.layers[-1].weight, net.layers[-1].bias
    total += config.beta / 2 * float((Z[L] - W @ A[L - 1] - b[:, None]).pow(2).sum())
    total += config.alpha / 2 * float((Z[L] - state.Y).pow(2).sum())  # type: ignore[operator]
    return total


def activation_sparsity(state: BCDState) -> float:
    """Fraction of exact zeros in the log-regularised activations A_1 .. A_{L-2} (all hidden ones when L = 2)."""
    blocks = state.A[1:-1] or state.A[1:]
    zeros = sum(int((a == 0).sum()) for a in blocks)
    return zeros / max(1, sum(a.numel() for a in blocks))
