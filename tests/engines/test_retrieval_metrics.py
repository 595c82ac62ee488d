"""Revisited Oxford/Paris mAP, CMC and re-ID mAP by hand; the engine's reports and synthetic sets."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from zoo.engines.retrieval.data.landmarks import make_landmark_benchmark, make_landmarks
from zoo.engines.retrieval.data.places import bev_image, make_places, rotate_cloud
from zoo.engines.retrieval.data.reid import make_reid, make_reid_benchmark
from zoo.engines.retrieval.data.text_video import make_text_video
from zoo.engines.retrieval.evaluate import label_report, rank, revisited_report
from zoo.errors import InputError
from zoo.metrics.retrieval import cmc, protocol_sets, reid_map, revisited_average_precision, revisited_maps


def test_revisited_protocols_by_hand() -> None:
    # database 0..5; query ground truth: easy {0}, hard {1}, junk {5}; ranking 3 0 5 1 2 4
    truth = [{"easy": [0], "hard": [1], "junk": [5]}]
    ranking = np.array([[3, 0, 5, 1, 2, 4]])
    # medium: positives {0, 1}, junk {5} -> junk-free ranking 3 0 1 2 4, positives at ranks 1 and 2:
    # ((0/1 + 1/2) / 2 + (1/2 + 2/3) / 2) / 2
    medium = ((0 + 0.5) / 2 + (0.5 + 2 / 3) / 2) / 2
    # easy: positives {0}, junk {5, 1} -> 3 0 2 4, positive at rank 1; hard: positives {1}, junk {5, 0} -> 3 1 2 4
    assert revisited_maps(ranking, truth) == pytest.approx({"easy": 0.25, "medium": medium, "hard": 0.25})
    first = revisited_average_precision([1, 0, 2], [0, 1])  # positives at ranks 0 and 1: p0 = 1 at rank 0
    assert first == pytest.approx(((1 + 1) / 2 + (1 / 1 + 2 / 2) / 2) / 2)
    assert revisited_average_precision([2, 3], [0, 1]) == 0.0  # positives missing from a truncated list
    assert math.isnan(revisited_average_precision([0, 1], []))
    two = [{"easy": [0], "hard": [], "junk": []}, {"easy": [], "hard": [], "junk": [0]}]
    assert revisited_maps(np.array([[0, 1], [1, 0]]), two)["easy"] == 1.0  # query 2 has no positive: left out
    easy, junk = protocol_sets({"easy": [0, 2], "hard": [1], "junk": [3]}, "hard")
    assert sorted(easy) == [1] and sorted(junk) == [0, 2, 3]
    with pytest.raises(InputError, match="protocol"):
        protocol_sets(truth[0], "extreme")


def test_cmc_and_reid_map_by_hand() -> None:
    rel = np.array([[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]])
    junk = np.array([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)
    # query 1 after junk: 1 0 1 -> first hit at rank 1; AP = (1/1 + 2/3) / 2. Query 2: hit at rank 1, AP 1.
    # query 3 has no match: left out.
    assert cmc(rel, max_rank=3, junk=junk).tolist() == [1.0, 1.0, 1.0]
    assert cmc(rel, max_rank=3).tolist() == [0.5, 1.0, 1.0]
    assert reid_map(rel, junk) == pytest.approx(((1 + 2 / 3) / 2 + 1) / 2)
    assert reid_map(rel) == pytest.approx(((1 / 2 + 2 / 4) / 2 + 1) / 2)


def test_label_report_drops_junk_by_database_index() -> None:
    q = np.array([[1.0, 0.0]])
    db = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    ranking = rank(q, db)
    assert ranking.tolist() == [[0, 1, 2]]
    plain = label_report(ranking, [7], [7, 3, 7], ks=(1, 2))
    assert plain["cmc@1"] == 1.0 and plain["mAP"] == pytest.approx((1 + 2 / 3) / 2)
    junked = label_report(ranking, [7], [7, 3, 7], ks=(1, 2), junk=np.array([[True, False, False]]))
    assert junked["cmc@1"] == 0.0 and junked["cmc@2"] == 1.0 and junked["mAP"] == pytest.approx(0.5)


def test_landmark_sets_are_seeded_and_their_ground_truth_is_consistent() -> None:
    train = make_landmarks(classes=4, per_class=3, size=16, seed=0)
    again = make_landmarks(classes=4, per_class=3, size=16, seed=0)
    assert torch.equal(train.images, again.images) and train.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    bench = make_landmark_benchmark(classes=3, easy=2, hard=1, junk=1, distractors=5, size=16)
    assert len(bench.database) == 3 * 4 + 5 and bench.kinds.count("distractor") == 5
    for c, truth in enumerate(bench.ground_truth):
        assert all(bench.database_labels[i] == c for kind in truth for i in truth[kind])
        assert [len(truth[k]) for k in ("easy", "hard", "junk")] == [2, 1, 1]
    ranking = rank(bench.queries.flatten(1), bench.database.flatten(1))
    maps = revisited_report(ranking, bench.ground_truth)
    assert maps["mAP_easy"] >= maps["mAP_hard"]  # raw pixels: hard views are harder


def test_reid_sets_keypoints_and_occluders() -> None:
    data = make_reid(identities=3, per_identity=4, cameras=2, occlusion=1.0, seed=0)
    assert data.images.shape == (12, 3, 32, 16) and data.camids.tolist()[:4] == [0, 1, 0, 1]
    assert data.occluders.flatten(1).any(1).all() and (data.visible < 1).any()
    item = data[0]
    h, w = data.images.shape[-2:]
    for (x, y), vis in zip(item["keypoints"], item["visible"]):  # a keypoint is hidden iff under the occluder
        assert bool(item["occluder"][min(int(y * h), h - 1), min(int(x * w), w - 1)]) == (vis == 0)
    bench = make_reid_benchmark(identities=4, cameras=2, gallery_per_camera=1)
    junk = bench.junk()
    assert junk.shape == (4, 8) and junk.sum() == 4  # each query's own identity in its own camera


def test_places_bev_rotation_and_ground_truth() -> None:
    places = make_places(places=6, spacing=6.0, radius=12.0, resolution=0.8, seed=0)
    assert places.database.shape == (6, 1, 31, 31) and places.queries.shape == (6, 1, 31, 31)
    assert all(i in pos for i, pos in enumerate(places.positives))  # each query's own place is a positive
    cloud = places.database_clouds[0]
    turned = bev_image(rotate_cloud(cloud, math.pi / 2), 12.0, 0.8)
    same = torch.rot90(bev_image(cloud, 12.0, 0.8), k=1, dims=(1, 2))
    assert (turned - same).abs().mean() < 0.05 * same.mean() + 1e-3  # a yaw turn rotates the BEV image


def test_text_video_pairs_share_concepts() -> None:
    data = make_text_video(n=64, dim=32, seed=0)
    again = make_text_video(n=64, dim=32, seed=0)
    assert torch.equal(data.text_tokens, again.text_tokens)
    sim = data.text_cls @ data.video_frames.mean(1).T
    assert (sim.argmax(1) == torch.arange(64)).float().mean() > 3 / 64  # far above chance, not solved
    assert data.text_mask.sum(1).min() >= 5


def test_task_helpers_search_and_refuse_unknown_sources() -> None:
    from zoo.engines.retrieval.tasks import describe_and_search, landmark_source, margin_loss
    from zoo.errors import DataError

    model = torch.nn.Identity()
    queries = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    database = torch.tensor([[0.0, 2.0], [3.0, 0.1], [1.0, 1.0]])
    out = describe_and_search(model, lambda x: x, queries, database, k=2)
    assert out["hits"].tolist() == [[1, 2], [0, 2]]
    torch.testing.assert_close(out["scores"][0, 0], torch.nn.functional.cosine_similarity(
        queries[0], database[1], dim=0))
    with pytest.raises(InputError, match="database must be images"):
        describe_and_search(model, lambda x: x, queries, torch.zeros(3, 5), k=2)
    with pytest.raises(DataError, match="only 'synthetic'"):
        landmark_source("roxford5k", "test", classes=2, per_class=1, size=16)

    class Head(torch.nn.Module):
        def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.one_hot(y, 3).float() * 10

    loss, logs = margin_loss(Head(), (torch.zeros(2, 1), torch.tensor([0, 2])))
    assert loss.item() < 1e-3 and logs["train_acc"] == 1.0
