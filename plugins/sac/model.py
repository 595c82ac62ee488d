"""SAC: a timm backbone (TCCS, the 1st classifier) plus the Self-Assessment Classifier branch.

Forward pass for an image batch ``x`` (paper symbols):

1. TCCS: the backbone gives the feature map ``F`` (``f = m*n`` positions of ``d_f`` channels) and, through its own
   head, the 1st-classifier logits over N classes; ``C_k`` = the top-k classes (indices, no gradient).
2. Top-k class embedding: every class name (<= ``max_words`` words, zero-padded) goes through a word embedding
   and a GRU once per forward (``[N, d_e]``), then the ``C_k`` rows are gathered: ``E_k`` ``[B, k, d_e]``.
3. Joint embedding with low-rank bilinear attention: ``P_i = ReLU(W_F F_i)``, ``Q_j = ReLU(W_E E_j)``;
   ``M = softmax_i(<P^M_i, Q^M_j>)`` and ``J = sum_ij M_ij (P_i * Q_j)``. With the softmax over positions this is
   exactly ``J = sum_j Q_j * SDPA(q=Q^M_j, k=P^M, v=P, scale=1)``, so it runs on PyTorch's fused attention.
4. Self assessment: the 2nd classifier maps ``J`` to logits over N classes, and
   ``Pr = alpha * Pr_1 + (1 - alpha) * Pr_2``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from zoo.errors import ConfigError
from zoo_plugins.sac.backbones import create_backbone
from zoo_plugins.sac.config import SACConfig
from zoo_plugins.sac.text import build_vocabulary, encode_names, initial_word_vectors


@dataclass
class SACOutput:
    """What one forward pass gives.

    ``logits1``/``logits2``: ``[B, N]`` of the 1st (coarse) and 2nd (self-assessment) classifiers; ``topk``:
    ``[B, k]`` candidate classes ``C_k`` (sorted by the 1st classifier); ``attention``: ``[B, f, k]`` map ``M``
    (only when asked for); ``grid``: ``(m, n)`` of the feature map.
    """

    logits1: torch.Tensor
    logits2: torch.Tensor
    topk: torch.Tensor
    grid: tuple[int, int]
    attention: torch.Tensor | None = None

    def spatial_attention(self) -> torch.Tensor:
        """``M`` summed over the k classes, as a ``[B, m, n]`` map (used for pictures and for dropping)."""
        if self.attention is None:
            raise ValueError("this output holds no attention map; call the model with return_attention=True")
        return self.attention.sum(-1).reshape(-1, *self.grid)


class ClassNameEncoder(nn.Module):
    """Word embedding + GRU over every class name; ``forward()`` gives the ``[N, d_e]`` class embeddings."""

    def __init__(self, names: tuple[str, ...], max_words: int, word_dim: int, class_dim: int,
                 word_vectors: str | None = None) -> None:
        super().__init__()
        self.vocabulary = build_vocabulary(names)
        self.register_buffer("token_ids", encode_names(names, self.vocabulary, max_words), persistent=False)
        self.embedding = nn.Embedding(len(self.vocabulary), word_dim, padding_idx=0)
        with torch.no_grad():
            self.embedding.weight.copy_(initial_word_vectors(self.vocabulary, word_dim, word_vectors))
        self.gru = nn.GRU(word_dim, class_dim, batch_first=True)
        self._cache: tuple[tuple[int, ...], torch.Tensor] | None = None

    def _versions(self) -> tuple[int, ...]:
        """In-place versions of the parameters: they change on every optimizer step or weight load."""
        return tuple(p._version for p in self.parameters())

    def forward(self) -> torch.Tensor:
        """Class embeddings ``E`` of all N classes: the GRU's last state after the (left-padded) name words.

        Outside autograd and training the result is cached until a parameter changes.
        """
        cacheable = not self.training and not torch.is_grad_enabled()
        if cacheable and self._cache is not None and self._cache[0] == self._versions():
            return self._cache[1]
        _, last = self.gru(self.embedding(self.token_ids))
        embeddings = last[-1]
        if cacheable:
            self._cache = (self._versions(), embeddings)
        return embeddings


class LowRankBilinearAttention(nn.Module):
    """Joint embedding of feature positions ``F`` ``[B, f, d_f]`` and class embeddings ``E_k`` ``[B, k, d_e]``.

    ``T_u`` (the joint tensor) is factorised as ``P_i * Q_j`` with ``P = ReLU(W_F F)``, ``Q = ReLU(W_E E)`` of
    rank ``h``; ``T_M`` (the attention tensor) likewise, with its own factors unless ``shared``.
    """

    def __init__(self, d_f: int, d_e: int, h: int, *, shared: bool, norm: str, drop_f: float, drop_e: float) -> None:
        super().__init__()
        self.norm = norm
        self.value_f = nn.Sequential(nn.Linear(d_f, h), nn.ReLU(), nn.Dropout(drop_f))
        self.value_e = nn.Sequential(nn.Linear(d_e, h), nn.ReLU(), nn.Dropout(drop_e))
        self.attn_f = None if shared else nn.Sequential(nn.Linear(d_f, h), nn.ReLU(), nn.Dropout(drop_f))
        self.attn_e = None if shared else nn.Sequential(nn.Linear(d_e, h), nn.ReLU(), nn.Dropout(drop_e))

    def factors(self, feats: torch.Tensor, classes: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(P^M, Q^M, P, Q)``: the attention and the joint factors (the same tensors when shared)."""
        p, q = self.value_f(feats), self.value_e(classes)
        if self.attn_f is None or self.attn_e is None:
            return p, q, p, q
        return self.attn_f(feats), self.attn_e(classes), p, q

    @staticmethod
    def attention_map(pa: torch.Tensor, qa: torch.Tensor, norm: str) -> torch.Tensor:
        """``M`` ``[B, f, k]`` from the bilinear logits ``<P^M_i, Q^M_j>`` (no 1/sqrt(h) scaling)."""
        logits = torch.einsum("bfh,bkh->bfk", pa, qa)
        if norm == "positions":
            return logits.softmax(dim=1)
        b, f, k = logits.shape
        return logits.reshape(b, f * k).softmax(dim=1).reshape(b, f, k)

    @staticmethod
    def joint_explicit(m: torch.Tensor, p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """``J = sum_i sum_j M_ij (P_i * Q_j)`` ``[B, h]``, the paper's sum over couples, written out."""
        return (torch.einsum("bfk,bfh->bkh", m, p) * q).sum(dim=1)

    @staticmethod
    def joint_fused(pa: torch.Tensor, qa: torch.Tensor, p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """The same ``J`` for the per-position softmax through ``scaled_dot_product_attention`` (scale 1)."""
        attended = F.scaled_dot_product_attention(qa, pa, p, scale=1.0)  # [B, k, h] = sum_i M_ij P_i
        return (attended * q).sum(dim=1)

    def forward(self, feats: torch.Tensor, classes: torch.Tensor,
                return_attention: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(J [B, h], M [B, f, k] or None)``."""
        pa, qa, p, q = self.factors(feats, classes)
        if self.norm == "positions":
            joint = self.joint_fused(pa, qa, p, q)
            m = self.attention_map(pa, qa, self.norm) if return_attention else None
            return joint, m
        m = self.attention_map(pa, qa, self.norm)
        return self.joint_explicit(m, p, q), (m if return_attention else None)


class JointHead(nn.Module):
    """2nd classifier of the paper text: dropout and a linear layer on ``J``."""

    def __init__(self, h: int, num_classes: int, drop: float) -> None:
        super().__init__()
        self.drop = nn.Dropout(drop)
        self.fc = nn.Linear(h, num_classes)

    def forward(self, joint: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, N]``."""
        return self.fc(self.drop(joint))


class ResidualHead(nn.Module):
    """2nd classifier of the public code: ``FC(h -> d_f)`` added to every position of F, pooled, dropout, 1x1 conv."""

    def __init__(self, h: int, d_f: int, num_classes: int, drop: float) -> None:
        super().__init__()
        self.up = nn.Linear(h, d_f)
        self.drop = nn.Dropout(drop)
        self.fc = nn.Linear(d_f, num_classes)  # a 1x1 convolution on the pooled 1x1 map

    def forward(self, joint: torch.Tensor, feats: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, N]``."""
        pooled = (feats + self.up(joint).unsqueeze(1)).mean(dim=1)
        return self.fc(self.drop(pooled))


class PlaceholderNamesWarning(UserWarning):
    """SAC was built without class names: its class embedding only sees ``class_1 .. class_N``."""


def placeholder_message(num_classes: int) -> str:
    """Why placeholder class names defeat SAC's class embedding, and what to do."""
    return (f"SAC was built WITHOUT class names: its word-embedding + GRU branch will embed the placeholders "
            f"'class_1' .. 'class_{num_classes}', i.e. one shared word plus a unique number per class, so the "
            "top-k class embedding degenerates into a learned class-id embedding and SAC's use of the names is "
            "lost. Build with the dataset's names: zoo.build('sac-paper', class_names=dataset.class_names) "
            "(CUB: classes.txt, Dogs: breed folders, Aircraft: variants.txt).")


class SACModel(nn.Module):
    """A timm classifier with the Self-Assessment Classifier branch; see the module docstring."""

    def __init__(self, config: SACConfig) -> None:
        super().__init__()
        if not config.class_names and not config.allow_placeholder_names:
            warnings.warn(placeholder_message(config.num_classes), PlaceholderNamesWarning, stacklevel=2)
        self.config = config
        self.backbone = create_backbone(config.backbone, num_classes=config.num_classes, in_chans=config.in_chans,
                                        pretrained=config.pretrained, width=config.backbone_width)
        d_f = int(self.backbone.num_features)
        self.class_encoder = ClassNameEncoder(config.names, config.max_words, config.word_dim, config.class_dim,
                                              config.word_vectors)
        self.joint = LowRankBilinearAttention(d_f, config.class_dim, config.joint_dim,
                                              shared=config.shared_projections, norm=config.attention_norm,
                                              drop_f=config.drop_feature, drop_e=config.drop_class)
        if config.second_head == "joint":
            self.second: nn.Module = JointHead(config.joint_dim, config.num_classes, config.drop_joint)
        else:
            self.second = ResidualHead(config.joint_dim, d_f, config.num_classes, config.drop_joint)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The N class names (placeholders when the config gave none)."""
        return self.config.names

    def feature_map(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
        """``(raw backbone features, F as [B, f, d_f] positions, (m, n))`` for CNN (NCHW/NHWC) and ViT backbones."""
        raw = self.backbone.forward_features(x)
        if raw.ndim == 4:
            if getattr(self.backbone, "output_fmt", "NCHW") == "NHWC":
                b, m, n, c = raw.shape
                return raw, raw.reshape(b, m * n, c), (m, n)
            b, c, m, n = raw.shape
            return raw, raw.flatten(2).transpose(1, 2), (m, n)
        if raw.ndim == 3:  # tokens: drop the class / register tokens, keep the patch positions
            tokens = raw[:, int(getattr(self.backbone, "num_prefix_tokens", 0)):]
            f = tokens.shape[1]
            side = int(round(f ** 0.5))
            return raw, tokens, (side, f // side) if side * (f // side) == f else (1, f)
        raise ConfigError(f"backbone {self.config.backbone!r} returned features of shape {tuple(raw.shape)}; "
                         "expected [B, C, H, W] or [B, tokens, C]")

    def forward(self, x: torch.Tensor, return_attention: bool = False) -> SACOutput:
        """Both classifiers' logits, the top-k candidates and (optionally) the attention map ``M``."""
        raw, feats, grid = self.feature_map(x)
        logits1 = self.backbone.forward_head(raw)
        topk = logits1.detach().topk(self.config.top_k, dim=-1).indices
        class_embeddings = self.class_encoder()[topk]  # [B, k, d_e]
        joint, attention = self.joint(feats, class_embeddings, return_attention)
        logits2 = self.second(joint, feats)
        return SACOutput(logits1, logits2, topk, grid, attention)

    def probabilities(self, out: SACOutput) -> torch.Tensor:
        """The fused prediction ``alpha * Pr_1 + (1 - alpha) * Pr_2`` ``[B, N]`` (see :func:`fuse`)."""
        return fuse(out.logits1, out.logits2, out.topk, self.config.alpha, self.config.second_scope)


def fuse(logits1: torch.Tensor, logits2: torch.Tensor, topk: torch.Tensor, alpha: float,
         scope: str = "all") -> torch.Tensor:
    """``Pr(rho_i) = alpha * Pr_1(rho_i) + (1 - alpha) * Pr_2(rho_i)``.

    ``scope="all"``: ``Pr_2`` is the softmax of the 2nd classifier over all N classes; ``"topk"``: over the k
    candidates only (zero elsewhere).
    """
    pr1 = logits1.softmax(dim=-1)
    if scope == "topk":
        mask = torch.full_like(logits2, float("-inf")).scatter(-1, topk, 0.0)
        pr2 = (logits2 + mask).softmax(dim=-1)
    else:
        pr2 = logits2.softmax(dim=-1)
    return alpha * pr1 + (1.0 - alpha) * pr2
