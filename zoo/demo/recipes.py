"""What the demo runs for each method: data, training length, real inputs, captions, and its family.

A **family** (classification, dance generation, federated learning, ...) gets one section of the report; by default
the demo runs one representative per family, ``zoo demo --all`` runs every recipe and ``zoo demo --family NAME``
one family.

Recipes come from two places, so a new family needs no edit here:

- a plugin package may hold a ``demo`` module whose ``recipes()`` returns :class:`Recipe` objects for its methods
  (found through the plugin that owns the method, e.g. ``zoo_plugins.sac.demo``); these win;
- :data:`BUILTIN` below covers the methods whose plugins have no such module yet.

A recipe's figures must each carry a caption that says what to look at: plugin-written pictures are shown only
when a caption in ``captions`` (by file-name pattern) describes them.
"""
from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.demo.figures import Figure, labelled_images
from zoo.demo.metrics import MetricInfo

Inputs = dict[str, Any]


@dataclass(frozen=True)
class Prepared:
    """Options made for the run (``zoo infer``-style, e.g. a rendered music file) and a sentence about them."""

    options: dict[str, Any]
    note: str = ""


@dataclass(frozen=True)
class Recipe:
    """One method in the demo.

    Args:
        method, variant, data, steps: what is trained (``steps`` 0: the variant's own recipe).
        title: the section heading; ``summary``: one sentence on what the method does.
        family: the report section; ``representative``: run by default (one per family).
        options: command-line style options: inputs then come from the plugin's ``zoo_prepare_inputs`` hook (as
            ``zoo infer NAME --key value`` would make them) and the options also reach ``zoo.infer`` and
            ``zoo_save_outputs``. ``prepare(stage)`` makes more of them at run time (a music file).
        infer_options(model, train_data): computed options (e.g. CFOR's index).
        infer_inputs(model, test_data): inputs built directly (real test samples). Default: the example inputs.
        figures(model, inputs, outputs, test_data, out_dir): the recipe's own captioned figures.
        captions: caption per file-name pattern (``fnmatch``) of the pictures the plugin's ``zoo_save_outputs``
            writes; a picture without a caption is left out of the report.
        metrics: direction and meaning of the method's own metric names (see :mod:`zoo.demo.metrics`).
    """

    method: str
    variant: str
    data: str
    steps: int
    title: str
    family: str
    summary: str = ""
    representative: bool = False
    infer_options: Callable[[Any, Any], dict[str, Any]] | None = None
    infer_inputs: Callable[[Any, Any], Inputs] | None = None
    prepare: Callable[[Path], Prepared] | None = None
    figures: Callable[[Any, Inputs, Any, Any, Path], list[Figure]] | None = None
    eval_options: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    metrics: Mapping[str, MetricInfo] = field(default_factory=dict)
    accept_license: str | None = None


# ---------------------------------------------------------------------------------------------- classification

SAC_SHOWN = 8


def _first_test_images(count: int) -> Callable[[Any, Any], Inputs]:
    def make(model: Any, test: Any) -> Inputs:
        import torch

        return {"image": torch.stack([test[i][0] for i in range(min(count, len(test)))])}

    return make


def _sac_figure(model: Any, inputs: Inputs, outputs: Any, test: Any, out_dir: Path) -> list[Figure]:
    """Real test digits with their true label, SAC's top class and probability, and its attention over them."""
    truth = [int(test[i][1]) for i in range(inputs["image"].shape[0])]
    names = outputs["top_names"]
    probs = outputs["top_probs"][:, 0].tolist()
    titles = [f"true {t}\n{n[0]} {p:.2f}" for t, n, p in zip(truth, names, probs, strict=True)]
    right = sum(int(t) == int(i) for t, i in zip(truth, outputs["top_indices"][:, 0].tolist(), strict=True))
    path = labelled_images(inputs["image"], titles, out_dir / "test_digits_attention.png",
                           overlays=outputs.get("attention"), suptitle="SAC on real test digits")
    return [Figure(path, f"{len(truth)} real test digits (scikit-learn's digits, held out from training) with their "
                         f"true label, SAC's top class and its probability ({right} of {len(truth)} right); the heat "
                         "map is SAC's attention over its 4x4 feature grid. Look for attention on the strokes that "
                         "tell a digit apart (the loop of a 9, the bar of a 7) rather than on the empty border.")]


# ---------------------------------------------------------------------------------------------- dance generation

MUSIC_PIECE = "bach/bwv66.6"
MUSIC_SECONDS = 8.0


def music_available() -> str:
    """Why real music cannot be rendered here ("" when it can): music21, pretty_midi and librosa are needed."""
    missing = [m for m in ("music21", "pretty_midi", "librosa", "soundfile") if importlib.util.find_spec(m) is None]
    return f"not installed: {', '.join(missing)} (pip install 'zoo[music,audio]')" if missing else ""


def _real_music(dancers: int) -> Callable[[Path], Prepared]:
    """Render a Bach chorale from music21's corpus offline, as the dancers' music (falls back to synthetic)."""

    def prepare(stage: Path) -> Prepared:
        missing = music_available()
        if missing:
            return Prepared({}, f"synthetic music (real music {missing})")
        from zoo.dance.corpus import render_corpus

        wav = stage / "music" / "bwv66.6.wav"
        if not wav.is_file():
            render_corpus(MUSIC_PIECE, wav, seconds=MUSIC_SECONDS, synth="sine")
        return Prepared({"audio": str(wav), "dancers": dancers},
                        f"{MUSIC_SECONDS:.0f} s of Bach's chorale BWV 66.6 from music21's corpus, rendered offline "
                        "with sine tones")

    return prepare


DANCE_CAPTION = ("A group of {dancers} generated for the music (front view); the title counts the music's beats and "
                 "shows ● on a beat. Look for movement accents on the beats, and for dancers that move together "
                 "without copying each other.")


# ---------------------------------------------------------------------------------------------- retrieval


def _cfor_index(model: Any, train: Any) -> dict[str, Any]:
    from zoo_plugins.cfor.train import build_index

    return {"index": build_index(model, train), "k": 6, "database": train}


def _cfor_query(model: Any, test: Any) -> Inputs:
    import torch

    return {"image": torch.stack([test[i]["image"] for i in range(2)])}


#: The built-in recipes (plugins without a ``demo`` module). The first of each family is its representative.
BUILTIN: tuple[Recipe, ...] = (
    Recipe("sac", "tiny", "digits", 300, "SAC: self-assessment classifier", "classification",
           summary="A classifier that ranks its top-k candidate classes and re-assesses them with attention over "
                   "the image; trained here on scikit-learn's 8x8 digits.",
           representative=True, infer_inputs=_first_test_images(SAC_SHOWN), figures=_sac_figure,
           metrics={"top1_first": MetricInfo("↑", "top-1 accuracy of the first classifier alone, before "
                                                  "self-assessment"),
                    "top1_second": MetricInfo("↑", "top-1 accuracy of the self-assessment classifier alone "
                                                   "(attention over the candidate classes)")}),
    # GCD is published under a non-commercial licence (CC-BY-NC-4.0); the demo accepts it explicitly, for this
    # non-commercial demonstration only, and says so when it runs.
    Recipe("gcd", "tiny", "synthetic", 200, "GCD: group choreography by contrastive diffusion", "dance generation",
           summary="A diffusion model that generates a group dance for a piece of music, with a contrastive guidance "
                   "that trades group consistency against diversity.",
           representative=True, prepare=_real_music(3), accept_license="CC-BY-NC-4.0",
           captions={"sample*.gif": DANCE_CAPTION.format(dancers="3 dancers")}),
    Recipe("gdancer", "tiny", "synthetic", 200, "GDanceR: music-driven group choreography", "dance generation",
           summary="A transformer that generates each dancer's motion from the music and the others' motion.",
           prepare=_real_music(3), accept_license="CC-BY-NC-4.0",
           metrics={"rec_l2": MetricInfo("↓", "teacher-forced pose error: mean squared difference between "
                                              "the predicted and the true pose vectors")},
           captions={"sample*.gif": DANCE_CAPTION.format(dancers="3 dancers")}),
    Recipe("cfor", "tiny", "synthetic", 80, "CFOR: coarse-to-fine retrieval with an ontology", "retrieval",
           summary="Object retrieval that first routes a query to a leaf of an ontology (region, category), then "
                   "searches that leaf's index.",
           representative=True, infer_options=_cfor_index, infer_inputs=_cfor_query,
           metrics={"region_accuracy": MetricInfo("↑", "fraction of query objects routed to their true region, the "
                                                       "first level of the ontology"),
                    "category_top1": MetricInfo("↑", "fraction of query objects whose top-ranked category is the "
                                                     "true one"),
                    "category_top3": MetricInfo("↑", "fraction of query objects whose true category is among the "
                                                     "three top-ranked"),
                    "attribute_recall": MetricInfo("↑", "fraction of an object's true attributes predicted, "
                                                        "averaged over attributes"),
                    "attribute_accuracy": MetricInfo("↑", "fraction of (object, attribute) pairs predicted right, "
                                                          "present or absent")},
           captions={"retrieval*.png": "Each row: a query object (left) and its nearest database objects in rank "
                                       "order, titled with their category and distance. Look for hits of the "
                                       "query's category first, with the distance growing along the row."}),
    Recipe("multigraph-fl", "tiny", "digits", 0, "MultigraphFL: multigraph topology for cross-silo FL",
           "federated learning",
           summary="Designs a multigraph of silo-to-silo links whose states isolate slow links, so a round of "
                   "decentralised training takes less time; here on the Gaia network.",
           representative=True, options={"network": "gaia", "model": "femnist"},
           captions={"underlay.png": "The Gaia underlay network: silos (nodes) and the links between them, drawn "
                                     "by geographic position.",
                     "overlay_ring.png": "The RING overlay (Christofides' tour), the baseline topology every cycle "
                                         "time is compared with.",
                     "multigraph.png": "The multigraph: each link's edge count is how many states it appears in. "
                                       "Look for long, slow links with few edges: they are used less often."}),
    Recipe("fedavg", "tiny", "digits", 0, "FedAvg: federated averaging (baseline)", "federated learning",
           summary="Clients train locally for a few steps and the server averages their weights each round."),
    Recipe("fedprox", "tiny", "digits", 0, "FedProx: federated averaging with a proximal term (baseline)",
           "federated learning", summary="FedAvg with a proximal term that keeps each client near the global model."),
    Recipe("scaffold", "tiny", "digits", 0, "SCAFFOLD: control variates for client drift (baseline)",
           "federated learning", summary="FedAvg corrected by control variates that cancel each client's drift."),
    Recipe("fadnet", "tiny", "synthetic", 0, "FADNet: federated steering-angle prediction (peer-to-peer, Gaia)",
           "driving", summary="A steering-angle regressor trained by peer-to-peer federated learning over the Gaia "
                              "network; here on synthetic road images.", representative=True),
    Recipe("cdl", "tiny", "synthetic", 0, "CDL: contrastive divergence loss for non-IID federated driving",
           "driving", summary="FADNet's federated training with a contrastive divergence loss that reduces the "
                              "non-IID drift between silos."),
    Recipe("auglocal", "tiny", "digits", 200, "AugLocal: supervised local learning", "local learning",
           summary="Trains each block of a network with its own local loss through an auxiliary network built from "
                   "the layers above it, with no end-to-end backpropagation.", representative=True),
    Recipe("dgl", "tiny", "digits", 200, "DGL: decoupled greedy learning (local learning)", "local learning",
           summary="Each block trains greedily with a small auxiliary classifier."),
    Recipe("man", "tiny", "digits", 200, "MAN: momentum auxiliary network (local learning)", "local learning",
           summary="Local learning whose auxiliary networks are helped by an exponential moving average of the "
                   "next block."),
    Recipe("glamor-net", "tiny", "synthetic", 0, "GLAMOR-Net: context-aware emotion recognition",
           "emotion recognition",
           summary="Recognises a face's emotion from the face and its context, with global-local attention over "
                   "the scene.", representative=True,
           captions={"attention.png": "The scene with the face masked out and GLAMOR-Net's attention over the "
                                      "context: look for weight on other people and objects rather than on the "
                                      "background."}),
    Recipe("ldl-va", "tiny", "synthetic", 0, "LDL-VA: uncertainty-aware label distribution learning for FER",
           "emotion recognition",
           summary="Facial expression recognition that learns a label distribution from valence-arousal "
                   "neighbours, weighted by uncertainty."),
)


def _plugin_recipes(method: str) -> list[Recipe]:
    """The recipes the plugin owning ``method`` declares in its ``demo`` module (``recipes()``), if any."""
    from zoo import discovery

    found = discovery.plugins()
    if method not in found.methods:
        return []
    package = getattr(found.plugin_object(method), "package", None)
    if not package or importlib.util.find_spec(f"{package}.demo") is None:
        return []
    module = importlib.import_module(f"{package}.demo")
    made = module.recipes() if callable(getattr(module, "recipes", None)) else getattr(module, "RECIPES", ())
    return [r for r in made if isinstance(r, Recipe)]


def all_recipes(available: set[str] | None = None) -> list[Recipe]:
    """Every recipe, plugin-declared ones first (they replace a built-in one for the same method), grouped by
    family in order of first appearance; only methods in ``available`` when given."""
    from zoo import registry

    methods = set(available) if available is not None else set(registry.list_models(status="implemented"))
    declared: dict[str, Recipe] = {}
    for method in sorted(methods):
        for recipe in _plugin_recipes(method):
            declared.setdefault(recipe.method, recipe)
    chosen = [declared.pop(r.method, r) for r in BUILTIN if r.method in methods]
    chosen += list(declared.values())
    families: dict[str, list[Recipe]] = {}
    for recipe in chosen:
        families.setdefault(recipe.family, []).append(recipe)
    return [r for group in families.values() for r in group]


def select(recipes: list[Recipe], *, methods: list[str] | None = None, family: str | None = None,
           everything: bool = False) -> list[Recipe]:
    """The recipes to run: named methods, a family, all, or (default) one representative per family."""
    from zoo.errors import ConfigError

    if methods:
        unknown = sorted(set(methods) - {r.method for r in recipes})
        if unknown:
            raise ConfigError(f"no demo recipe for {', '.join(unknown)}; demo methods: "
                              + ", ".join(r.method for r in recipes))
        return [r for r in recipes if r.method in methods]
    if family:
        families = {r.family for r in recipes}
        picked = [r for r in recipes if r.family.lower() == family.lower()]
        if not picked:
            raise ConfigError(f"no demo family {family!r}; families: {', '.join(sorted(families))}")
        return picked
    if everything:
        return recipes
    chosen: dict[str, Recipe] = {}
    for recipe in recipes:  # the first representative of a family, else its first recipe
        current = chosen.get(recipe.family)
        if current is None or (recipe.representative and not current.representative):
            chosen[recipe.family] = recipe
    return [r for r in recipes if chosen.get(r.family) is r]
