"""GDanceR plugin tests: the spatial-bias attention formula, masks and dancer permutations, teacher forcing vs the
autoregressive loop, training, generation for any length and number of dancers, the core contract, CLI inputs and
outputs, and the one-table comparison with GCD."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from zoo.errors import InputError
from zoo_plugins.gdancer.config import paper
from zoo_plugins.gdancer.losses import batch_masks, gdancer_loss
from zoo_plugins.gdancer.model import CrossEntityAttention, GDanceR, count_parameters, spatial_encoding
from zoo_plugins.gdancer.pose import motion_to_pose, pose_to_motion

MICRO = dict(d_audio=16, music_ff=32, d_hidden=16, d_key=16, mlp_hidden=32, frames=16, batch_size=8,
             train_size=48, test_size=8)


@pytest.fixture(scope="module", autouse=True)
def single_thread() -> object:
    """Tiny tensors: one intra-op thread avoids OpenMP overhead on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _batch(model: GDanceR, split: str = "train", count: int = 8) -> dict[str, torch.Tensor]:
    from torch.utils.data import default_collate

    data = zoo.make_data(model, "synthetic", split)
    return default_collate([data[i] for i in range(count)])


def test_spatial_encoding_is_the_blogs_formula() -> None:
    tau = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    e = spatial_encoding(tau)
    assert torch.allclose(e.diagonal(), torch.ones(3))
    assert math.isclose(float(e[0, 1]), math.exp(-1.0 / math.sqrt(3.0)), rel_tol=1e-6)
    assert math.isclose(float(e[0, 2]), math.exp(-3.0 / math.sqrt(3.0)), rel_tol=1e-6)  # = exp(-sqrt(3))
    assert math.isclose(float(e[1, 2]), math.exp(-2.0 / math.sqrt(3.0)), rel_tol=1e-6)
    assert torch.allclose(e, e.T)


def test_cross_entity_attention_matches_the_equations_and_ignores_padding() -> None:
    torch.manual_seed(0)
    att = CrossEntityAttention(d_hidden=8, d_key=4)
    h, tau = torch.randn(1, 3, 8), torch.randn(1, 3, 3)
    valid = torch.tensor([[True, True, False]])
    with torch.no_grad():
        g, alpha = att(h, tau, valid, return_weights=True)
        q, k, v = h[0] @ att.w_q.weight.T, h[0] @ att.w_k.weight.T, h[0] @ att.w_v.weight.T
    for i in range(2):  # written out per pair, straight from the blog's equations
        logits = []
        for j in range(2):
            e_ij = math.exp(-float(((tau[0, i] - tau[0, j]) ** 2).sum()) / math.sqrt(3))
            logits.append(float(q[i] @ k[j]) / 2.0 + e_ij)
        a = torch.softmax(torch.tensor(logits), dim=0)
        expected = sum(a[j] * (v[j] + math.exp(-float(((tau[0, i] - tau[0, j]) ** 2).sum()) / math.sqrt(3))
                               * att.gamma) for j in range(2))
        assert torch.allclose(g[0, i], expected, atol=1e-5)
        assert torch.allclose(alpha[0, i, :2], a, atol=1e-6) and float(alpha[0, i, 2]) == 0.0
    assert torch.equal(g[0, 2], torch.zeros(8))  # padded dancer: no output


def test_closer_dancers_get_more_attention_when_features_agree() -> None:
    att = CrossEntityAttention(d_hidden=4, d_key=4)
    h = torch.zeros(1, 3, 4)  # identical features: only the spatial bias differs
    tau = torch.tensor([[[0.0, 0, 0], [0.5, 0, 0], [3.0, 0, 0]]])
    _, alpha = att(h, tau, torch.ones(1, 3, dtype=torch.bool), return_weights=True)
    assert alpha[0, 0, 0] > alpha[0, 0, 1] > alpha[0, 0, 2]


def test_generation_feeds_its_own_frames_back() -> None:
    """Teacher forcing with the model's own generated poses reproduces them: the autoregressive loop and the
    parallel training pass compute the same function."""
    torch.manual_seed(0)
    model = zoo.build("gdancer-tiny", **MICRO).eval()
    music = torch.randn(2, 12, 35)
    tau0 = torch.randn(2, 3, 3)
    valid = torch.tensor([[True, True, True], [True, True, False]])
    gen = model.generate(music, tau0, valid)
    with torch.no_grad():
        again = model.teacher_forced(gen, music, valid, torch.ones(2, 12, dtype=torch.bool), tau0)
    assert torch.allclose(again, gen, atol=1e-4)


def test_dancer_permutation_and_padding() -> None:
    torch.manual_seed(0)
    model = zoo.build("gdancer-tiny", **MICRO).eval()
    music, tau0 = torch.randn(1, 10, 35), torch.randn(1, 3, 3)
    base = model.generate(music, tau0, torch.ones(1, 3, dtype=torch.bool))
    perm = torch.tensor([2, 0, 1])
    permuted = model.generate(music, tau0[:, perm], torch.ones(1, 3, dtype=torch.bool))
    assert torch.allclose(permuted, base[:, perm], atol=1e-5)
    padded = model.generate(music, torch.cat([tau0, torch.full((1, 1, 3), 9.0)], 1),
                            torch.tensor([[True, True, True, False]]))
    assert torch.allclose(padded[:, :3], base, atol=1e-5) and torch.equal(padded[:, 3], torch.zeros_like(padded[:, 3]))


def test_cross_entity_attention_couples_dancers() -> None:
    """With the attention a dancer's start position changes the others' motion; the w/o-CA baseline does not."""
    torch.manual_seed(0)
    music, tau0 = torch.randn(1, 6, 35), torch.randn(1, 2, 3)
    moved = tau0.clone()
    moved[0, 1] += 0.7
    for cross, coupled in ((True, True), (False, False)):
        model = zoo.build("gdancer-tiny", cross_entity=cross, **MICRO).eval()
        a = model.generate(music, tau0, torch.ones(1, 2, dtype=torch.bool))[0, 0]
        b = model.generate(music, moved, torch.ones(1, 2, dtype=torch.bool))[0, 0]
        assert (not torch.allclose(a, b, atol=1e-6)) == coupled


def test_pose_round_trip() -> None:
    data = zoo.make_data(zoo.build("gdancer-tiny", **MICRO), "synthetic", "test")
    item = data[0]
    motion = item["motion"][: int(item["n_dancers"]), : int(item["frame_mask"].sum())]
    for repr_ in ("axis_angle", "rot6d"):
        pose = motion_to_pose(motion, repr_)
        assert pose.shape[-1] == (75 if repr_ == "axis_angle" else 147)
        assert torch.allclose(pose_to_motion(pose, repr_)[..., :147], motion[..., :147], atol=1e-4)


def test_tiny_training_reduces_the_loss() -> None:
    torch.manual_seed(0)
    model = zoo.build("gdancer-tiny", **MICRO)
    batch = _batch(model, "test")
    model.eval()
    before = gdancer_loss(model, batch)[1]
    result = zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=60, progress=False)
    model.eval()
    after = gdancer_loss(model, batch)[1]
    loss = result.history["loss"]
    assert np.mean(loss[-5:]) < 0.6 * np.mean(loss[:5])
    # held-out dances, not only the training batches: pose and joint errors fall
    assert after["rec"] < 0.6 * before["rec"] and after["joint"] < 0.5 * before["joint"]
    for term in ("rec", "init", "joint", "smooth", "foot"):
        assert term in result.history


def test_foot_energy_uses_ground_truth_contacts() -> None:
    """E_F = mean over valid frame pairs of sum_feet c_{j,t} |X_{j,t+1} - X_{j,t}|^2 (predicted joints, GT c)."""
    from zoo_plugins.gdancer.pose import pose_joints

    torch.manual_seed(0)
    model = zoo.build("gdancer-tiny", **MICRO).eval()
    batch = _batch(model, "test", 4)
    batch["motion"][..., 147:151] = 0.0
    assert gdancer_loss(model, batch)[1]["foot"] == 0.0
    batch["motion"][..., 147] = 1.0  # left ankle (joint 7) in contact everywhere
    _, _, mask = batch_masks(batch)
    target = motion_to_pose(batch["motion"], "axis_angle") * mask[..., None]
    with torch.no_grad():
        pred = model.teacher_forced(target, batch["music"], *batch_masks(batch)[:2])
        speed = ((pose_joints(pred, "axis_angle")[:, :, 1:, 7] - pose_joints(pred, "axis_angle")[:, :, :-1, 7]) ** 2).sum(-1)
    pair = mask[:, :, 1:] & mask[:, :, :-1]
    expected = float((speed * pair).sum() / pair.sum())
    assert gdancer_loss(model, batch)[1]["foot"] == pytest.approx(expected, rel=1e-4)


def test_generation_of_n_dancers_for_any_length() -> None:
    torch.manual_seed(0)
    model = zoo.build("gdancer-tiny", **MICRO)
    frames, dancers = 47, 5  # longer than the 16-frame training window, more dancers than max_dancers
    positions = torch.stack([torch.linspace(-2, 2, dancers), torch.full((dancers,), 0.9), torch.zeros(dancers)], -1)
    inputs = {"music": torch.randn(1, frames, 35), "positions": positions[None]}
    out = zoo.infer(model, inputs)
    assert out["motion"].shape == (1, dancers, frames, 151) and out["pose"].shape == (1, dancers, frames, 75)
    assert out["joints"].shape == (1, dancers, frames, 24, 3) and out["smpl_poses"].shape == (1, dancers, frames, 72)
    assert torch.isfinite(out["motion"]).all() and bool(out["mask"].all())
    assert torch.equal(zoo.infer(model, inputs)["motion"], out["motion"])  # deterministic
    with pytest.raises(InputError, match=r"\[B, T, 35\]"):
        zoo.infer(model, {"music": torch.randn(1, frames, 7), "positions": positions[None]})
    with pytest.raises(InputError):
        zoo.infer(model, {"music": torch.randn(1, frames, 35), "positions": torch.randn(1, 2, 2)})
    with pytest.raises(InputError, match="at least one dancer"):
        zoo.infer(model, {"music": torch.randn(1, frames, 35), "positions": positions[None],
                          "dancer_mask": torch.zeros(1, dancers, dtype=torch.bool)})


def test_masks_from_a_batch_cover_only_real_dancers_and_frames() -> None:
    batch = _batch(zoo.build("gdancer-tiny", **MICRO), "train")
    dancer_valid, frame_valid, mask = batch_masks(batch)
    assert torch.equal(dancer_valid.sum(1), batch["n_dancers"])
    assert torch.equal(frame_valid, batch["frame_mask"])
    assert mask.shape == batch["motion"].shape[:3]


def test_conformance() -> None:
    import zoo.testing as t

    checks = t.check_method("gdancer").checks
    assert "safetensors round trip gives identical outputs" in checks


def test_paper_variant_builds_with_the_chosen_sizes() -> None:
    with torch.device("meta"):
        model = GDanceR(paper())
    assert model.pose_dim == 75 and model.cfg.music_dim == 438
    # pinned: the sizes chosen in config.paper() (the blog gives none); see the README's breakdown
    assert count_parameters(model) == 7_814_806
    parts = {name: count_parameters(getattr(model, name)) for name in
             ("music", "initial_pose", "lstm", "attention", "decoder")}
    assert parts == {"music": 4_430_336, "initial_pose": 565_323, "lstm": 1_206_272, "attention": 786_944,
                     "decoder": 825_931}
    assert count_parameters(GDanceR(zoo.build("gdancer-tiny").zoo.config)) == 51_286


def test_cli_inputs_and_outputs(tmp_path: Path) -> None:
    """`--audio feats.npy --dancers 2`: features through the 'file' extractor, then npz + GIF outputs."""
    from zoo import discovery

    model = zoo.build("gdancer-tiny", music_features="file", **MICRO)
    feats = np.random.default_rng(0).normal(size=(20, 35)).astype(np.float32)
    np.save(tmp_path / "song.npy", feats)
    found = discovery.plugins()
    inputs = found.call("zoo_prepare_inputs", "gdancer", config=model.zoo.config,
                        options={"audio": str(tmp_path / "song.npy"), "dancers": 2, "seconds": 0.5})
    assert inputs["music"].shape == (1, 15, 35) and inputs["positions"].shape == (1, 2, 3)
    out = zoo.infer(model, inputs)
    paths = found.call("zoo_save_outputs", "gdancer", config=model.zoo.config, outputs=out, out_dir=tmp_path / "out", options={})
    saved = np.load(tmp_path / "out" / "sample0.npz")
    assert saved["joints"].shape == (2, 15, 24, 3) and saved["pose"].shape == (2, 15, 75)
    assert any(str(p).endswith(".gif") for p in paths)
    with pytest.raises(InputError, match="positions"):
        found.call("zoo_prepare_inputs", "gdancer", config=model.zoo.config,
                   options={"audio": str(tmp_path / "song.npy"), "positions": "1,2"})


def test_eval_command_prints_one_table_for_gdancer_and_gcd(capsys: pytest.CaptureFixture[str]) -> None:
    from zoo.cli import main

    assert main(["eval", "gdancer-tiny", "gcd-tiny", "--data", "synthetic", "--random-weights"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    header = lines[0].split()
    assert header[0] == "model" and {"fid_k", "gmr", "gmc", "tif", "mmc", "gen_div", "pfc"} <= set(header)
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"gdancer-tiny", "gcd-tiny"}
    col = header.index("gmr")
    assert all(rows[name][col] != "-" for name in rows)  # both rows fill the shared metric columns


# ------------------------------------------------------------------------------------------------ fidelity pass
@pytest.mark.parametrize("residual", [True, False])
def test_decoder_root_is_the_mlp_output_or_a_displacement_from_the_previous_root(residual: bool) -> None:
    """``root_residual=False`` is the blog's literal y_t = MLP([z_t; a_t]); ``True`` (default) adds the MLP's three
    root channels to y_{t-1}'s root. The other channels are the MLP's output in both forms."""
    torch.manual_seed(0)
    model = zoo.build("gdancer-tiny", root_residual=residual, **MICRO).eval()
    h, tau, prev_root = torch.randn(2, 3, 16), torch.randn(2, 3, 3), torch.randn(2, 3, 3)
    valid, a_t = torch.tensor([[True, True, True], [True, True, False]]), torch.randn(2, 16)
    with torch.no_grad():
        y = model.fuse_and_decode(h, tau, valid, a_t, prev_root)
        z = h + model.attention(h, tau, valid)
        raw = model.decoder(torch.cat([z, a_t[:, None].expand(-1, 3, -1)], dim=-1))
    assert torch.allclose(y[..., 3:], raw[..., 3:], atol=1e-6)
    assert torch.allclose(y[..., :3], raw[..., :3] + prev_root if residual else raw[..., :3], atol=1e-6)
    assert zoo.build("gdancer-tiny").zoo.config.root_residual is True


def test_initial_pose_generator_adds_tau0_to_the_root_channels() -> None:
    """y_0 = MLP([mean_t a_t; tau_0]) with tau_0 added to the three root channels (a skip connection)."""
    torch.manual_seed(0)
    model = zoo.build("gdancer-tiny", **MICRO).eval()
    a_mean, tau0 = torch.randn(2, 16), torch.randn(2, 3, 3)
    with torch.no_grad():
        y0 = model.initial_poses(a_mean, tau0)
        raw = model.initial_pose(torch.cat([a_mean[:, None].expand(-1, 3, -1), tau0], dim=-1))
    assert torch.allclose(y0, torch.cat([raw[..., :3] + tau0, raw[..., 3:]], -1), atol=1e-6)


@pytest.mark.parametrize("residual", [True, False])
def test_scheduled_sampling_with_probability_one_is_the_autoregressive_rollout(residual: bool) -> None:
    """Every LSTM input is the model's own previous output: the training pass equals generate() exactly; with
    probability 0 it is the parallel teacher-forced pass."""
    torch.manual_seed(0)
    model = zoo.build("gdancer-tiny", root_residual=residual, **MICRO).eval()
    batch = _batch(model, "test", 4)
    dancer_valid, frame_valid, mask = batch_masks(batch)
    target = motion_to_pose(batch["motion"], "axis_angle") * mask[..., None]
    tau0 = target[:, :, 0, :3]
    with torch.no_grad():
        own = model.teacher_forced(target, batch["music"], dancer_valid, frame_valid, tau0=tau0, sample_prob=1.0)
        rollout = model.generate(batch["music"], tau0, dancer_valid, frame_valid)
        forced = model.teacher_forced(target, batch["music"], dancer_valid, frame_valid, tau0=tau0)
        tiny_p = model.teacher_forced(target, batch["music"], dancer_valid, frame_valid, tau0=tau0,
                                      sample_prob=1e-9)
    m = dancer_valid[:, :, None, None]
    assert torch.allclose(own * m, rollout * m, atol=1e-5)
    assert torch.allclose(tiny_p * m, forced * m, atol=1e-5)  # the sequential pass with GT inputs = the parallel
    assert not torch.allclose(own * m, forced * m, atol=1e-3)


def test_scheduled_sampling_probability_ramps_linearly_and_reaches_training() -> None:
    from zoo_plugins.gdancer.train import SamplingSchedule

    schedule = SamplingSchedule(0.5, 0.5, 100)
    values = []
    for step in (0, 10, 25, 50, 80, 100):
        schedule.on_step_end({"step": step})
        values.append(schedule.probability())
    assert values == pytest.approx([0.0, 0.1, 0.25, 0.5, 0.5, 0.5])
    schedule.on_train_start({"step": 40})  # a resumed run continues the ramp
    assert schedule.probability() == pytest.approx(0.4)
    assert SamplingSchedule(0.0, 0.5, 100).probability() == 0.0
    torch.manual_seed(0)
    model = zoo.build("gdancer-tiny", scheduled_sampling=0.6, scheduled_sampling_ramp=0.5, **MICRO)
    result = zoo.train(model, zoo.make_data(model, "synthetic", "train"), steps=4, progress=False)
    assert result.history["sample_prob"] == pytest.approx([0.3, 0.6, 0.6])  # steps 1-3 (step 0 has p = 0)


def test_real_music_from_the_music21_corpus_through_the_cli_hooks(tmp_path: Path) -> None:
    """`zoo infer gdancer-tiny --audio bach.wav --dancers 3` on a rendered Bach chorale (4 s, pretty_midi's sines):
    librosa features, autoregressive generation for the clip's 120 frames, npz + GIF."""
    pytest.importorskip("music21")
    pytest.importorskip("pretty_midi")
    from zoo import discovery
    from zoo.dance.corpus import render_corpus

    piece = render_corpus("bach/bwv66.6", tmp_path / "bach.wav", seconds=4.0, synth="sine")
    model = zoo.build("gdancer-tiny", **MICRO)
    found = discovery.plugins()
    options = {"audio": str(piece.path), "dancers": 3}
    inputs = found.call("zoo_prepare_inputs", "gdancer", config=model.zoo.config, options=options)
    assert inputs["music"].shape == (1, 120, 35) and inputs["positions"].shape == (1, 3, 3)
    assert float(inputs["beats"].sum()) >= 5  # the chorale's quarter notes at 96 bpm
    outputs = zoo.infer(model, inputs)
    paths = found.call("zoo_save_outputs", "gdancer", config=model.zoo.config, outputs=outputs,
                       out_dir=tmp_path / "out", options=options)
    assert {p.name for p in paths} == {"sample0.gif", "sample0.npz"}
    with np.load(tmp_path / "out" / "sample0.npz") as arrays:
        assert arrays["joints"].shape == (3, 120, 24, 3) and np.isfinite(arrays["joints"]).all()


def test_every_loss_term_by_its_formula_and_the_weighted_total() -> None:
    from zoo.dance import representation
    from zoo_plugins.gdancer.config import LossWeights
    from zoo_plugins.gdancer.losses import masked_mean
    from zoo_plugins.gdancer.pose import pose_joints

    torch.manual_seed(0)
    weights = LossWeights(rec=1.5, init=0.5, joint=2.0, smooth=0.3, foot=0.7)
    model = zoo.build("gdancer-tiny", weights=weights, **MICRO).eval()
    batch = _batch(model, "test", 5)
    batch["motion"][..., 147:] = (torch.rand(batch["motion"].shape[:-1] + (4,)) > 0.5).float()  # some contacts
    dancer_valid, frame_valid, mask = batch_masks(batch)
    assert not bool(mask.all())  # padded dancers or frames are part of the case
    target = motion_to_pose(batch["motion"], "axis_angle") * mask[..., None]
    total, logs = gdancer_loss(model, batch)
    with torch.no_grad():
        pred = model.teacher_forced(target, batch["music"], dancer_valid, frame_valid)
        joints, gt_joints = pose_joints(pred, "axis_angle"), representation.to_joints(batch["motion"])
    m = mask.float()
    pair = (mask[:, :, 1:] & mask[:, :, :-1]).float()
    expect = {
        "init": float(((pred[:, :, 0] - target[:, :, 0]) ** 2 * m[:, :, 0, None]).sum() / (m[:, :, 0].sum() * 75)),
        "rec": float(((pred[:, :, 1:] - target[:, :, 1:]) ** 2 * m[:, :, 1:, None]).sum() / (m[:, :, 1:].sum() * 75)),
        "joint": float((((joints - gt_joints) ** 2).sum(-1) * m[..., None]).sum() / (m.sum() * 24)),
        "smooth": float(((((pred[:, :, 1:, 3:] - pred[:, :, :-1, 3:]) ** 2).sum(-1)
                          + ((joints[:, :, 1:] - joints[:, :, :-1]) ** 2).sum((-1, -2))) * pair).sum() / pair.sum()),
        "foot": float(((batch["motion"][:, :, :-1, 147:] * ((joints[:, :, 1:, [7, 8, 10, 11]]
                                                              - joints[:, :, :-1, [7, 8, 10, 11]]) ** 2).sum(-1))
                       .sum(-1) * pair).sum() / pair.sum()),
    }
    for key, value in expect.items():
        assert logs[key] == pytest.approx(value, rel=1e-4), key
        assert value > 0, key
    assert float(total.detach()) == pytest.approx(1.5 * expect["rec"] + 0.5 * expect["init"] + 2.0 * expect["joint"]
                                                  + 0.3 * expect["smooth"] + 0.7 * expect["foot"], rel=1e-4)
    assert float(masked_mean(torch.tensor([1.0, 2.0, 4.0]), torch.tensor([True, False, True]))) == 2.5


@pytest.mark.parametrize("fusion", ["add", "concat", "none"])
def test_fusion_of_local_and_global_motion(fusion: str) -> None:
    """z = h + g (add, the paper's), [h; g] (concat) or g (none), then y = MLP([z; a_t]); w/o CA: z = h."""
    torch.manual_seed(0)
    model = zoo.build("gdancer-tiny", fusion=fusion, root_residual=False, **MICRO).eval()
    h, tau = torch.randn(1, 3, 16), torch.randn(1, 3, 3)
    valid, a_t = torch.ones(1, 3, dtype=torch.bool), torch.randn(1, 16)
    with torch.no_grad():
        g = model.attention(h, tau, valid)
        z = {"add": h + g, "concat": torch.cat([h, g], -1), "none": g}[fusion]
        expected = model.decoder(torch.cat([z, a_t[:, None].expand(-1, 3, -1)], -1))
        assert torch.allclose(model.fuse_and_decode(h, tau, valid, a_t, torch.zeros(1, 3, 3)), expected, atol=1e-6)
    if fusion == "add":
        plain = zoo.build("gdancer-tiny", cross_entity=False, root_residual=False, **MICRO).eval()
        with torch.no_grad():
            y = plain.fuse_and_decode(h, tau, valid, a_t, torch.zeros(1, 3, 3))
            assert torch.allclose(y, plain.decoder(torch.cat([h, a_t[:, None].expand(-1, 3, -1)], -1)), atol=1e-6)


def test_spatial_encoding_uses_the_current_or_the_initial_positions() -> None:
    previous, tau0 = torch.randn(2, 3, 75), torch.randn(2, 3, 3)
    now = zoo.build("gdancer-tiny", **MICRO)
    start = zoo.build("gdancer-tiny", spatial_positions="initial", **MICRO)
    assert torch.equal(now._tau(previous, tau0), previous[..., :3])
    assert torch.equal(start._tau(previous, tau0), tau0)
