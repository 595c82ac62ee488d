"""GLSCL's losses: symmetric contrastive retrieval, the intra-diversity loss (IDL) and the inter-consistency
loss (ICL), as the public code computes them.

- ``margin_ranking(S, m)``: for a square similarity matrix, ``sum_{i != j} ([m + S_ij - S_ii]_+ + [m + S_ij -
  S_jj]_+) / (n (n - 1))``.
- IDL (within a modality): ``alpha * margin_ranking(mean_b C_b C_b^T, 0.1)`` with ``C_b`` (Q, D) one item's
  concepts: concept ``q`` must be more similar to itself than to any other concept by the margin.
- ICL (across modalities): ``MSE(mean_b V_b, mean_b T_b) + beta * sum_q (M_qq - 0.75)^2`` with
  ``M = mean_b V_b T_b^T``: matching items' visual and textual concept ``q`` agree (cosine 0.75). The public
  code divides the sum over the batch by Q instead of B (``normalisation="queries"``), which makes the target
  depend on the batch size (0.75 Q / B per pair: 0.047 at its batch of 128 and 8 queries).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F


def contrastive(scores: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Mean of the text->video and video->text cross-entropies, matching pairs on the diagonal."""
    logits = scores * logit_scale.exp()
    target = torch.arange(len(scores), device=scores.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def margin_ranking(similarity: torch.Tensor, margin: float) -> torch.Tensor:
    """Both directions of the hinge ``[margin + S_ij - S_ii]_+`` over off-diagonal pairs, averaged."""
    n = similarity.shape[0]
    diag = similarity.diag()
    off = ~torch.eye(n, dtype=torch.bool, device=similarity.device)
    rows = F.relu(margin + similarity - diag[:, None])[off].sum()
    cols = F.relu(margin + similarity - diag[None, :])[off].sum()
    return (rows + cols) / (n * (n - 1))


def intra_diversity(concepts: torch.Tensor, margin: float = 0.1) -> torch.Tensor:
    """IDL of one modality's concepts (B, Q, D) (unweighted)."""
    return margin_ranking(torch.einsum("bqd,bpd->qp", concepts, concepts) / concepts.shape[0], margin)


def inter_consistency(visual: torch.Tensor, textual: torch.Tensor, beta: float, target: float = 0.75,
                      normalisation: str = "batch") -> torch.Tensor:
    """ICL between matching items' visual and textual concepts (B, Q, D)."""
    scale = visual.shape[0] if normalisation == "batch" else visual.shape[1]
    agreement = torch.einsum("bqd,bpd->qp", visual, textual) / scale
    return F.mse_loss(visual.mean(0), textual.mean(0)) + beta * (agreement.diag() - target).pow(2).sum()
