"""What each metric in the demo report means: its direction (↑ higher is better, ↓ lower is better) and one line.

A recipe adds the meanings of its method's own metrics (``Recipe.metrics``); the table here covers the names the
built-in methods and the shared engines report. :func:`describe` falls back on the name's last word
(``test_top1_accuracy`` -> ``accuracy``), and a metric nobody describes is reported as such, not guessed.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

UP, DOWN = "↑", "↓"


@dataclass(frozen=True)
class MetricInfo:
    """A metric's direction (``↑`` or ``↓``; ``·`` when neither is better) and its meaning in one line."""

    direction: str
    meaning: str


METRICS: dict[str, MetricInfo] = {
    "accuracy": MetricInfo(UP, "fraction of test samples whose predicted class is the true one"),
    "top1_accuracy": MetricInfo(UP, "fraction of test images whose top-ranked class is the true one"),
    "top5_accuracy": MetricInfo(UP, "fraction of test images whose true class is among the five top-ranked"),
    "topk_accuracy": MetricInfo(UP, "fraction of test images whose true class is among the k top-ranked"),
    "balanced_accuracy": MetricInfo(UP, "accuracy averaged over classes, so rare classes count as much as common ones"),
    "macro_f1": MetricInfo(UP, "F1 score averaged over classes (harmonic mean of precision and recall)"),
    "f1": MetricInfo(UP, "harmonic mean of precision and recall"),
    "loss": MetricInfo(DOWN, "the training objective on the evaluated data"),
    "final_loss": MetricInfo(DOWN, "the training objective at the last step"),
    "train_loss": MetricInfo(DOWN, "the training objective on the training data at the end"),
    "test_loss": MetricInfo(DOWN, "the training objective on the test data"),
    "nll": MetricInfo(DOWN, "negative log-likelihood of the true labels"),
    "ece": MetricInfo(DOWN, "expected calibration error: gap between confidence and accuracy"),
    "rmse": MetricInfo(DOWN, "root-mean-square error of the predicted value (e.g. steering angle, radians)"),
    "mae": MetricInfo(DOWN, "mean absolute error of the predicted value"),
    "mse": MetricInfo(DOWN, "mean squared error of the predicted value"),
    "fid": MetricInfo(DOWN, "Fréchet distance between generated and real feature statistics (lower: closer to real)"),
    "fid_k": MetricInfo(DOWN, "Fréchet distance on kinetic (velocity) features of the motion"),
    "fid_g": MetricInfo(DOWN, "Fréchet distance on geometric (pose-relation) features of the motion"),
    "gmr": MetricInfo(DOWN, "group motion realism: Fréchet distance of group-level features"),
    "gmc": MetricInfo(UP, "group motion correlation: how alike the dancers of a group move"),
    "trc": MetricInfo(DOWN, "trajectory intersection frequency: how often dancers' paths collide"),
    "mmc": MetricInfo(UP, "motion-music correlation: how well kinematic beats line up with music beats"),
    "bas": MetricInfo(UP, "beat alignment score: how close motion beats fall to music beats"),
    "div": MetricInfo(UP, "diversity: mean distance between generated dances"),
    "div_k": MetricInfo(UP, "diversity of kinetic features between generated dances"),
    "div_g": MetricInfo(UP, "diversity of geometric features between generated dances"),
    "pfc": MetricInfo(DOWN, "physical foot contact score: feet that slide or float (lower: more plausible)"),
    "map": MetricInfo(UP, "mean average precision of the ranked retrieval lists"),
    "mean_ap": MetricInfo(UP, "mean average precision of the ranked retrieval lists"),
    "recall_at_1": MetricInfo(UP, "fraction of queries whose first hit is relevant"),
    "recall_at_k": MetricInfo(UP, "fraction of queries with a relevant hit among the first k"),
    "precision_at_k": MetricInfo(UP, "fraction of the first k hits that are relevant"),
    "leaf_accuracy": MetricInfo(UP, "fraction of queries routed to the right leaf of the ontology"),
    "cycle_time_ms": MetricInfo(DOWN, "time of one communication round over the chosen topology (ms)"),
    "speedup_vs_ring": MetricInfo(UP, "how many times faster a round is than over the RING topology"),
    "bytes_total": MetricInfo(DOWN, "bytes all clients sent and received over the whole training"),
    "bytes": MetricInfo(DOWN, "bytes moved over the network"),
    "rounds": MetricInfo(DOWN, "communication rounds used"),
    "num_states": MetricInfo(DOWN, "states of the multigraph (distinct communication graphs in a cycle)"),
    "peak_memory_mb": MetricInfo(DOWN, "peak activation memory of a training step (MB)"),
    "memory_mb": MetricInfo(DOWN, "activation memory of a training step (MB)"),
    "ccc": MetricInfo(UP, "concordance correlation coefficient between predicted and true values"),
    "ccc_valence": MetricInfo(UP, "concordance correlation of predicted and true valence"),
    "ccc_arousal": MetricInfo(UP, "concordance correlation of predicted and true arousal"),
    "kl": MetricInfo(DOWN, "KL divergence between predicted and target label distributions"),
    "lr": MetricInfo("·", "learning rate at the step"),
    "samples_s": MetricInfo(UP, "training throughput (samples per second)"),
    "grad_norm": MetricInfo("·", "global gradient norm before clipping"),
    "sim_time_s": MetricInfo(DOWN, "simulated wall-clock time of the federated training so far (s)"),
    "time_s": MetricInfo(DOWN, "wall-clock time (s)"),
    "ce": MetricInfo(DOWN, "cross-entropy of the predicted class probabilities"),
    "gen_div": MetricInfo(UP, "diversity: mean distance between the features of generated dances"),
    "tif": MetricInfo(DOWN, "trajectory intersection frequency: how often dancers' paths cross"),
    "mean_class_accuracy": MetricInfo(UP, "accuracy averaged over classes, so rare classes count as much as "
                                          "common ones"),
    "map@10": MetricInfo(UP, "mean average precision of each query's first 10 hits"),
    "recall@10": MetricInfo(UP, "fraction of queries with a relevant hit among the first 10"),
    "random_map@10": MetricInfo("·", "map@10 of a random ranking of the same database: the chance level that "
                                     "map@10 is compared with"),
}

#: Suffix of a metric measured on the real data as a reference for the generated one (``mmc_gt``).
REFERENCE_SUFFIX = "_gt"

#: Prefixes a metric name may carry (``test_accuracy`` is ``accuracy`` on the test split).
PREFIXES = ("test_", "val_", "train_", "eval_", "final_", "mean_", "avg_")


def describe(name: str, extra: Mapping[str, MetricInfo] | None = None) -> MetricInfo | None:
    """The direction and meaning of metric ``name`` (a recipe's own ``extra`` first), or ``None`` if unknown."""
    tables = [dict(extra or {}), METRICS]
    if name.lower().endswith(REFERENCE_SUFFIX):
        base = describe(name[: -len(REFERENCE_SUFFIX)], extra)
        if base is not None:
            return MetricInfo(base.direction, f"{base.meaning}, measured on the real data as a reference")
    candidates = [name, name.lower()]
    for prefix in PREFIXES:
        if name.lower().startswith(prefix):
            candidates.append(name.lower()[len(prefix):])
    for candidate in candidates:
        for table in tables:
            if candidate in table:
                return table[candidate]
    return None
