"""CFOR: ontology, MCC thresholds, leaf indexes, coarse-to-fine search, persistence, training end to end."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from zoo.errors import ConfigError, DataError, InputError
from zoo_plugins.cfor import ontology as ont
from zoo_plugins.cfor.index import CFORIndex
from zoo_plugins.cfor.search import coarse_to_fine, rerank
from zoo_plugins.cfor.thresholds import mcc, mcc_thresholds

TINY = ont.load("tiny")


def test_builtin_fashion_ontology_matches_the_paper() -> None:
    fashion = ont.load("fashion")
    assert fashion.region_names == ("Top", "Bottom", "Body")
    assert [len(c) for c in fashion.regions.values()] == [20, 16, 14]
    assert len(fashion.categories) == 50 and len(fashion.leaves) == 50
    assert fashion.group_names == ("texture", "fabric", "shape", "part", "style")
    assert all(len(a) == 7 for a in fashion.attribute_groups.values())
    assert fashion.region_of("Blazer") == "Top" and fashion.region_of("Dress") == "Body"
    assert {n.relation for n in fashion.nodes()} == {"root", "part_of", "has_a"}
    states = ont.extract_states(fashion)
    assert states["region"] == ("Top", "Bottom", "Body") and len(states) == 1 + 3 + 5


def test_ontology_validation_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'Tee' is in regions 'Top' and 'Bottom'"):
        ont.from_dict({"object": "x", "regions": {"Top": ["Tee"], "Bottom": ["Tee"]}, "attribute_groups": {}})
    with pytest.raises(ConfigError, match="region 'Top' has no categories"):
        ont.from_dict({"object": "x", "regions": {"Top": []}, "attribute_groups": {}})
    with pytest.raises(ConfigError, match="unknown keys"):
        ont.from_dict({"object": "x", "regions": {"Top": ["a"]}, "attribute_groups": {}, "colour": 1})
    path = tmp_path / "o.yaml"
    ont.save(TINY, path)
    assert ont.load(path) == TINY
    path.write_text("object: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        ont.load(path)


def test_build_ontology_keeps_only_used_labels() -> None:
    fashion = ont.load("fashion")
    annotations = [{"category": "Tee", "attributes": ["denim", "chic"]}, {"category": "Jeans", "attributes": []}]
    adapted = ont.build_ontology(annotations, fashion)
    assert adapted.regions == {"Top": ("Tee",), "Bottom": ("Jeans",)}
    assert adapted.attribute_groups == {"fabric": ("denim",), "style": ("chic",)}
    with pytest.raises(ConfigError, match="Toga"):
        ont.build_ontology([{"category": "Toga"}], fashion)


def test_mcc_thresholds_equal_brute_force() -> None:
    rng = np.random.default_rng(0)
    labels = rng.random((200, 5)) < [0.05, 0.2, 0.5, 0.7, 0.0]
    scores = np.clip(labels * 0.3 + rng.random((200, 5)) * 0.7, 0, 1)
    cand = np.linspace(0.01, 0.99, 99)
    best_t, best_m = mcc_thresholds(scores, labels, cand)
    for j in range(5):
        values = []
        for t in cand:
            pred = scores[:, j] >= t
            y = labels[:, j]
            values.append(mcc((pred & y).sum(), (~pred & ~y).sum(), (pred & ~y).sum(), (~pred & y).sum()))
        assert best_m[j] == pytest.approx(max(values))
        assert best_t[j] == pytest.approx(cand[int(np.argmax(values))])
    assert best_m[4] == 0.0  # no positives: MCC is defined as 0
    anti_t, anti_m = mcc_thresholds(np.array([[0.3], [0.4], [0.9], [1.0]]), np.array([[1], [1], [0], [0]], bool))
    assert (anti_t[0], anti_m[0]) == (pytest.approx(0.01), 0.0)  # anti-correlated: only "all positive" scores 0
    high = 0.3 + 0.7 * scores[:, :4]  # every score above the lowest candidates; the default grid 0.01..0.99
    grid = np.linspace(0.01, 0.99, 99)
    default_t, default_m = mcc_thresholds(high, labels[:, :4])
    for j in range(4):
        values = [mcc(((high[:, j] >= t) & labels[:, j]).sum(), ((high[:, j] < t) & ~labels[:, j]).sum(),
                      ((high[:, j] >= t) & ~labels[:, j]).sum(), ((high[:, j] < t) & labels[:, j]).sum()) for t in grid]
        assert default_m[j] == pytest.approx(max(values)) and default_t[j] == pytest.approx(grid[int(np.argmax(values))])


def _index(n_per_leaf: int = 30, dim: int = 8, factory: str = "Flat", seed: int = 0) -> tuple[CFORIndex, dict]:
    rng = np.random.default_rng(seed)
    index = CFORIndex(TINY, dim, factory)
    leaves = [leaf for leaf in TINY.leaves for _ in range(n_per_leaf)]
    feats = rng.normal(size=(len(leaves), dim)).astype(np.float32)
    attrs = (rng.random((len(leaves), len(TINY.attributes))) < 0.3).astype(np.uint8)
    ids = np.arange(1000, 1000 + len(leaves))
    index.add(ids, feats, attrs, leaves, [{"path": f"img{i}.png"} for i in ids])
    return index, {"feats": feats, "attrs": attrs, "ids": ids, "leaves": leaves}


def test_leaf_search_is_exact_and_restricted_to_the_leaf() -> None:
    index, data = _index()
    leaf = ("Bottom", "Skirt")
    rows = [i for i, l in enumerate(data["leaves"]) if l == leaf]
    q = np.random.default_rng(1).normal(size=(3, 8)).astype(np.float32)
    dist, ids = index.search_leaf(leaf, q, 5)
    brute = ((q[:, None] - data["feats"][rows][None]) ** 2).sum(-1)
    order = np.argsort(brute, axis=1)[:, :5]
    assert np.array_equal(ids, data["ids"][rows][order])
    np.testing.assert_allclose(dist, np.take_along_axis(brute, order, 1), rtol=1e-5)
    assert set(ids.ravel()) <= set(data["ids"][rows])
    kd, ki = index.search_leaf(leaf, q, 5, backend="kernel")  # the fused L2 top-k op agrees with faiss
    assert np.array_equal(ki, ids)
    np.testing.assert_allclose(kd, dist, rtol=1e-4, atol=1e-5)


def test_attribute_rerank_and_query_expansion() -> None:
    onto = TINY
    index = CFORIndex(onto, 2, "Flat")
    leaf = ("Top", "Tee")
    feats = np.array([[0.0, 0.0], [1.0, 0.0], [1.1, 0.0], [5.0, 0.0], [5.2, 0.0], [5.1, 0.1]], dtype=np.float32)
    a = len(onto.attributes)
    attrs = np.zeros((6, a), dtype=np.uint8)
    attrs[1, 0] = 1  # item 1 disagrees with the query's (empty) attribute vector
    index.add(range(6), feats, attrs, [leaf] * 6)
    q = np.array([0.2, 0.0], dtype=np.float32)
    no_attr = coarse_to_fine(index, leaf, q, np.zeros(a, np.uint8), k=3, m=6, attr_weight=0.0, expansion=0)
    assert [h.id for h in no_attr] == [0, 1, 2]
    with_attr = coarse_to_fine(index, leaf, q, np.zeros(a, np.uint8), k=3, m=6, attr_weight=5.0, expansion=0)
    assert [h.id for h in with_attr] == [0, 2, 3]  # the attribute mismatch pushes item 1 down
    # query expansion: averaging the query (0.45) with its 3 nearest results (0, 1.0, 1.1) moves it to 0.64,
    # nearer the cluster around 1.0
    q_far = np.array([0.45, 0.0], dtype=np.float32)
    plain = coarse_to_fine(index, leaf, q_far, np.zeros(a, np.uint8), k=1, m=6, attr_weight=0.0, expansion=0)
    expanded = coarse_to_fine(index, leaf, q_far, np.zeros(a, np.uint8), k=1, m=6, attr_weight=0.0, expansion=3)
    assert plain[0].id == 0 and expanded[0].id == 1
    assert rerank(index, np.zeros(a, np.uint8), np.array([1.0]), np.array([-1]), 3, 1.0) == []


def test_persistence_add_remove_and_corruption(tmp_path: Path) -> None:
    index, data = _index(factory="Flat")
    q = data["feats"][:4] + 0.01
    before = [index.search_leaf(l, q, 4) for l in TINY.leaves]
    folder = index.save(tmp_path / "idx")
    again = CFORIndex.load(folder)
    for l, (d, i) in zip(TINY.leaves, before):
        d2, i2 = again.search_leaf(l, q, 4)
        assert np.array_equal(i, i2) and np.allclose(d, d2)
    assert again.meta[1000] == {"path": "img1000.png"}
    assert again.remove([1000, 1001, 99999]) == 2 and len(again) == len(index) - 2
    assert 1000 not in again.search_leaf(data["leaves"][0], q, 10)[1]
    with pytest.raises(InputError, match="already in the index"):
        again.add([1002], data["feats"][:1], data["attrs"][:1], [data["leaves"][0]])
    arrays = folder / "arrays.safetensors"
    blob = bytearray(arrays.read_bytes())
    blob[-5] ^= 0xFF
    arrays.write_bytes(bytes(blob))
    with pytest.raises(DataError, match="corrupted .*arrays.safetensors"):
        CFORIndex.load(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(DataError, match="missing .*manifest.json"):
        CFORIndex.load(folder)
    with pytest.raises(DataError, match="missing"):
        CFORIndex.load(tmp_path / "nowhere")


def test_ivf_pq_factory_and_small_leaf_fallback() -> None:
    index, data = _index(n_per_leaf=700, dim=16, factory="IVF4,PQ4np")
    leaf = TINY.leaves[0]
    assert index.kind(leaf) == "IndexIVFPQ" and index.report()[leaf]["nbits"] == 4  # 700 vectors: 4-bit codes
    q = data["feats"][:5]
    _, ids = index.search_leaf(leaf, q, 1)
    assert (ids[:, 0] == data["ids"][:5]).mean() >= 0.6  # compressed search finds most exact self-matches
    small, _ = _index(n_per_leaf=10, factory="IVF4,PQ4np")
    assert small.kind(leaf) == "IndexFlat"


def test_bad_vectors_are_rejected() -> None:
    index = CFORIndex(TINY, 4)
    with pytest.raises(InputError, match="shape"):
        index.add([1], np.zeros((1, 3), np.float32), np.zeros((1, 6), np.uint8), [TINY.leaves[0]])
    with pytest.raises(InputError, match="NaN"):
        index.add([1], np.full((1, 4), np.nan, np.float32), np.zeros((1, 6), np.uint8), [TINY.leaves[0]])
    with pytest.raises(InputError, match="not in the ontology"):
        index.add([1], np.zeros((1, 4), np.float32), np.zeros((1, 6), np.uint8), [("Top", "Toga")])


def test_train_index_search_end_to_end(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = zoo.build("cfor-tiny")
    train = zoo.make_data(model, "synthetic", "train")
    result = zoo.train(model, train, steps=80, progress=False)
    assert result.history["loss"][-1] < result.history["loss"][0]
    metrics = zoo.evaluate(model, zoo.make_data(model, "synthetic", "test"), database=train)
    assert metrics["category_top1"] > 0.5  # 4 categories: chance 0.25
    assert metrics["map@10"] > metrics["random_map@10"] + 0.2
    out = zoo.infer(model, {"image": train[0]["image"][None]}, index=_trained_index(model, train), k=5)
    assert len(out["objects"][0]["hits"]) == 5
    # the command line: save the model, index an image folder with it, query the index from an image file
    from PIL import Image

    from zoo.cli import main

    images = tmp_path / "images"
    images.mkdir()
    for i in range(12):
        array = (train[i]["image"].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        Image.fromarray(array).save(images / f"{i:02d}.png")
    zoo.save(model, tmp_path / "model")
    assert main(["index", "build", "--model", str(tmp_path / "model"), "--images", str(images),
                 "--out", str(tmp_path / "index")]) == 0
    assert main(["infer", "cfor", "--weights", str(tmp_path / "model"), "--index", str(tmp_path / "index"),
                 "--image", str(images / "03.png"), "-k", "3", "--out", str(tmp_path / "query")]) == 0
    results = json.loads((tmp_path / "query" / "results.json").read_text())
    hits = results[0]["hits"]  # at most k, and only from the query's leaf (12 images over 4 leaves)
    assert 1 <= len(hits) <= 3 and hits[0]["path"].endswith("03.png")  # the query itself comes first
    assert (tmp_path / "query" / "retrieval_0.png").is_file()


def _trained_index(model, data):
    from zoo_plugins.cfor.train import build_index

    return build_index(model, data)


def test_deepfashion_layout(tmp_path: Path) -> None:
    from PIL import Image

    from zoo_plugins.cfor.data import DeepFashionDataset, load_deepfashion

    (tmp_path / "Anno").mkdir()
    (tmp_path / "Eval").mkdir()
    (tmp_path / "img").mkdir()
    names = ["img/a.jpg", "img/b.jpg"]
    for n in names:
        Image.new("RGB", (40, 30), (200, 10, 10)).save(tmp_path / n)
    w = lambda name, rows, header: (tmp_path / name).write_text(f"{len(rows)}\n{header}\n" + "\n".join(rows) + "\n")
    w("Anno/list_category_cloth.txt", ["Tee 1", "Jeans 2", "Dress 3"], "category_name category_type")
    w("Anno/list_category_img.txt", ["img/a.jpg 1", "img/b.jpg 2"], "image_name category_label")
    w("Anno/list_attr_cloth.txt", ["striped 1", "denim 2", "floral print 1"], "attribute_name attribute_type")
    w("Anno/list_attr_img.txt", ["img/a.jpg 1 -1 -1", "img/b.jpg -1 1 1"], "image_name attribute_labels")
    w("Anno/list_bbox.txt", ["img/a.jpg 0 0 20 30", "img/b.jpg 5 5 35 25"], "image_name x_1 y_1 x_2 y_2")
    w("Eval/list_eval_partition.txt", ["img/a.jpg train", "img/b.jpg test"], "image_name evaluation_status")
    items = load_deepfashion(tmp_path, TINY)
    assert [(i.region, i.category, i.attributes, i.split) for i in items] == [
        ("Top", "Tee", ("striped",), "train"), ("Bottom", "Jeans", ("denim",), "test")]
    sample = DeepFashionDataset(items, TINY, 32)[1]
    assert sample["image"].shape == (3, 32, 32) and int(sample["category"]) == TINY.categories.index("Jeans")
    torch.testing.assert_close(sample["box"], torch.tensor([0.5, 0.5, 0.75, 2 / 3]))
    w("Anno/list_bbox.txt", ["img/a.jpg 0 0 20 30"], "image_name x_1 y_1 x_2 y_2 extra")
    (tmp_path / "Anno/list_bbox.txt").write_text("3\nheader\nimg/a.jpg 0 0 20 30\n")
    with pytest.raises(DataError, match="list_bbox.txt: header says 3 entries, found 1"):
        load_deepfashion(tmp_path, TINY)


# --- the review's five faults (issue 24): each test failed on the code before the fix -----------------------

def test_fault1_paper_pretrained_flag_reaches_timm(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from zoo.compat import import_timm
    from zoo_plugins.cfor.config import tiny
    from zoo_plugins.cfor.model import CFORModel

    timm = import_timm()
    real, asked = timm.create_model, []

    def recording(name: str, pretrained: bool = False, **kwargs: object) -> torch.nn.Module:
        asked.append(pretrained)
        return real(name, pretrained=False, **kwargs)  # nothing is downloaded in tests

    monkeypatch.setattr(timm, "create_model", recording)
    CFORModel(replace(tiny(), pretrained=True))
    assert asked and all(asked), f"pretrained=True must reach every timm backbone, got {asked}"
    asked.clear()
    CFORModel(tiny())
    assert asked and not any(asked)


def _two_region_index(factory: str = "Flat", n_per_leaf: int = 20) -> CFORIndex:
    index, _ = _index(n_per_leaf=n_per_leaf, factory=factory)
    return index


def test_fault2_descriptors_of_different_networks_are_never_compared() -> None:
    index = _two_region_index()
    q = np.zeros((1, 8), np.float32)
    with pytest.raises(InputError, match="descriptor networks"):
        index.search_global(q, 5)  # Top and Bottom leaves hold descriptors of two different networks
    with pytest.raises(InputError, match="category/Top.*category/Bottom"):
        index.search_leaf(("Bottom", "Jeans"), q, 5, space="category/Top")
    assert (index.search_leaf(("Bottom", "Jeans"), q, 5, space="category/Bottom")[1] >= 0).all()
    with pytest.raises(InputError, match="category/Top"):
        index.add([5000], q, np.zeros((1, 6), np.uint8), [("Bottom", "Jeans")], spaces=["category/Top"])


def test_fault2_a_chosen_leaf_is_searched_with_its_own_network() -> None:
    torch.manual_seed(0)
    model = zoo.build("cfor-tiny")
    data = zoo.make_data(model, "synthetic", "train")
    from zoo_plugins.cfor.train import build_index

    index = build_index(model, data, use_labels=True)
    image = data[0]["image"][None]
    whole = [[0.5, 0.5, 1.0, 1.0]]  # no detector crop: the query is the whole image
    predicted = zoo.infer(model, {"image": image}, index=index, k=3, boxes=whole)["objects"][0]
    other = next(r for r in TINY.region_names if r != predicted["region"])
    leaf_category = TINY.regions[other][0]
    chosen = zoo.infer(model, {"image": image}, index=index, k=3, category=leaf_category, boxes=whole)["objects"][0]
    assert chosen["descriptor_space"] == f"category/{other}" != predicted["descriptor_space"]
    with torch.no_grad():
        own = model.descriptor(model._resize(image, model.config.image_size), other)
    np.testing.assert_allclose(chosen["descriptor"].numpy(), own[0].numpy(), rtol=1e-5, atol=1e-6)
    assert chosen["hits"] and all(index.leaf_of(h["id"]) == (other, leaf_category) for h in chosen["hits"])


def test_fault3_ivf_lists_are_sized_to_each_leaf_and_reported() -> None:
    index, _ = _index(n_per_leaf=500, dim=16, factory="IVF256,Flat")
    leaf = TINY.leaves[0]
    assert index.kind(leaf) == "IndexIVFFlat"  # not a silent fall-back to exact search
    report = index.report()
    assert report[leaf]["nlist"] == 500 // 39 and "nlist cut from 256" in report[leaf]["note"]
    small, _ = _index(n_per_leaf=30, factory="IVF256,Flat")
    assert small.report()[leaf]["factory"] == "Flat" and "exact search" in small.report()[leaf]["note"]


def test_fault4_single_task_and_global_multi_task_baselines() -> None:
    from dataclasses import replace

    from zoo_plugins.cfor.config import tiny
    from zoo_plugins.cfor.losses import cfor_loss
    from zoo_plugins.cfor.model import CFORModel

    nets = {}
    for mode in ("local", "single", "global"):
        model = CFORModel(replace(tiny(), attribute_mode=mode, detector="none"))
        nets[mode] = {name: len(units) for name, units in model.attribute_units.items()}
        x = torch.rand(4, 3, 32, 32)
        assert model.attribute_scores(x).shape == (4, len(TINY.attributes))
        batch = {"image": x, "region": torch.tensor([0, 1, 0, 1]), "category": torch.tensor([0, 2, 1, 3]),
                 "attributes": torch.zeros(4, len(TINY.attributes)), "box": torch.rand(4, 4)}
        loss, logs = cfor_loss(model, batch)
        assert torch.isfinite(loss) and sum(k.startswith("bce/") for k in logs) == len(nets[mode])
    assert nets["local"] == {g: len(a) for g, a in TINY.attribute_groups.items()}  # one network per group
    assert nets["single"] == {a: 1 for a in TINY.attributes}  # one network per attribute (STL)
    assert nets["global"] == {"all": len(TINY.attributes)}  # one network for every attribute (MTL)
    from zoo_plugins.cfor.compare import attribute_comparison

    table = attribute_comparison(steps=2, train_size=16, test_size=16, seed=0)
    assert set(table["recall"]) == {"local", "single", "global"}
    assert all(len(v) == len(TINY.attributes) for v in table["recall"].values())
    assert set(table["local_better_than"]) == {"single", "global"}


def test_fault5_readme_states_the_tiny_size_and_marks_chosen_recipe_numbers() -> None:
    from zoo_plugins.cfor.config import tiny

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    size = tiny().image_size
    tiny_rows = [line for line in readme.splitlines() if line.startswith("| `tiny`")]
    assert tiny_rows and all(f"{size} px" in row for row in tiny_rows), tiny_rows
    assert "64 px" not in readme
    recipe = {line.split("|")[1].strip().strip("`"): line for line in readme.splitlines()
              if line.startswith("| `") and line.count("|") >= 5}
    for name in ("steps", "batch_size", "lr", "weight_decay", "dropout", "attr_weight", "first_stage", "expansion"):
        assert name in recipe and "chosen here" in recipe[name], f"README recipe row for {name!r}"
