"""GCD plugin tests: core-API contract, training, masks, gamma guidance, long sequences, audio inputs, outputs."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import zoo
from zoo import discovery
from zoo.api import example_inputs
from zoo.errors import DataError, InputError
from zoo_plugins.gcd.config import paper
from zoo_plugins.gcd.infer import ChunkJoiner, decode_outputs, plan_chunks, sample
from zoo_plugins.gcd.losses import gcd_loss, replace_dancers
from zoo_plugins.gcd.model import GCD, count_parameters, data_mask_from

MICRO = dict(d_model=32, heads=2, ff_dim=64, layers=1, music_layers=1, mapping_layers=2, contrastive_layers=1,
             frames=16, batch_size=4, train_size=32, test_size=4, ddim_steps=4, num_negatives=2)


@pytest.fixture(scope="module", autouse=True)
def single_thread() -> object:
    """These tensors are tiny: one intra-op thread avoids OpenMP overhead (much faster on a busy 2-core box)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained(single_thread: object) -> GCD:
    """A micro GCD trained for a few dozen steps on synthetic beat-synchronised dances (shared by tests)."""
    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", **MICRO)
    data = zoo.make_data(model, "synthetic", "train")
    result = zoo.train(model, data, steps=36, progress=False)
    model.train_history = result.history  # type: ignore[attr-defined]
    return model.eval()


def test_build_infer_and_bad_inputs_through_the_core_api() -> None:
    model = zoo.build("gcd-tiny", **MICRO)
    assert model.zoo.name == "gcd-tiny"
    inputs = example_inputs(model)
    out = zoo.infer(model, inputs, gamma=0.5, seed=0)
    b, t = inputs["music"].shape[:2]
    assert out["motion"].shape == (b, 3, t, 151)
    assert out["smpl_poses"].shape == (b, 3, t, 72) and out["joints"].shape == (b, 3, t, 24, 3)
    assert torch.isfinite(out["motion"]).all()
    with pytest.raises(InputError):  # wrong feature size
        zoo.infer(model, {"music": torch.randn(1, t, 7)})
    with pytest.raises(InputError):  # wrong rank
        zoo.infer(model, {"music": torch.randn(t, 35)})
    with pytest.raises(InputError):  # NaN
        zoo.infer(model, {"music": torch.full((1, t, 35), float("nan"))})
    with pytest.raises(InputError, match="1..3"):  # too many dancers
        zoo.infer(model, {"music": torch.randn(1, t, 35), "n_dancers": torch.tensor([4])})
    with pytest.raises(InputError):  # empty batch
        zoo.infer(model, {"music": torch.randn(0, t, 35)})


def test_paper_variant_has_about_62m_parameters() -> None:
    with torch.device("meta"):
        model = GCD(paper())
    total = count_parameters(model)
    assert 55_000_000 < total < 70_000_000, total
    assert count_parameters(model.denoiser) > count_parameters(model.encoder)


def test_a_few_dozen_steps_reduce_the_loss(trained: GCD) -> None:
    loss = trained.train_history["loss"]  # type: ignore[attr-defined]
    assert len(loss) == 36
    assert np.mean(loss[-8:]) < 0.5 * np.mean(loss[:4])
    assert "nce" in trained.train_history and "geo_joint" in trained.train_history  # type: ignore[attr-defined]


def test_negatives_replace_dancers_from_other_groups_only() -> None:
    x0 = torch.arange(4.0)[:, None, None, None].expand(4, 3, 2, 1).clone()  # group b holds value b everywhere
    x0[:, 2] = -1  # padded slot
    n = torch.tensor([2, 2, 2, 2])
    for seed in range(5):
        neg = replace_dancers(x0, n, prob=0.5, generator=torch.Generator().manual_seed(seed))
        for b in range(4):
            valid = neg[b, :2, 0, 0]
            assert (valid != b).any()  # at least one dancer replaced
            assert ((valid == b) | ((valid >= 0) & (valid != b))).all()  # own dancer or another group's
            assert (neg[b, 2] == -1).all()  # padded slots untouched


def test_loss_ignores_padded_content() -> None:
    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", **MICRO)
    batch = {k: v for k, v in zoo.make_data(model, "synthetic", "train")[0].items()}
    batch = {k: torch.stack([v, v]) if torch.is_tensor(v) else v for k, v in batch.items()}
    batch["n_dancers"] = torch.tensor([1, 2])
    noisy = dict(batch, motion=batch["motion"].clone())
    noisy["motion"][0, 1:] = 100.0  # content in slots beyond n_dancers must not matter
    torch.manual_seed(1)
    a, _ = gcd_loss(model, batch)
    torch.manual_seed(1)
    b, _ = gcd_loss(model, noisy)
    assert torch.allclose(a, b, atol=1e-5)


def test_sampling_respects_dancer_and_frame_masks() -> None:
    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", **MICRO).eval()
    music = torch.randn(2, 16, 35)
    frame_mask = torch.ones(2, 16, dtype=torch.bool)
    frame_mask[1, 10:] = False
    out = sample(model, music, torch.tensor([1, 3]), frame_mask, seed=0)
    motion, mask = out["motion"], out["mask"]
    assert mask[0, 0].all() and not mask[0, 1:].any()
    assert mask[1, :, :10].all() and not mask[1, :, 10:].any()
    assert (motion[~mask] == 0).all()
    assert motion[mask].abs().sum() > 0
    # the denoiser's valid outputs do not depend on padded dancers or padded frames
    den = model.denoiser
    n = torch.tensor([2])
    fm = torch.ones(1, 16, dtype=torch.bool)
    fm[0, 12:] = False
    dmask = data_mask_from(n, fm, 3)
    x = torch.randn(1, 3, 16, 151)
    x_garbage = x.clone()
    x_garbage[0, 2] = 50.0
    x_garbage[0, :, 12:] = -30.0
    music_garbage = music[:1].clone()
    music_garbage[0, 12:] = 9.0
    with torch.no_grad():
        ctx = den.encode_music(music[:1], fm)
        ctx_g = den.encode_music(music_garbage, fm)
        w = den.group_embedding(ctx, n, torch.zeros(1, 32))
        t = torch.tensor([10])
        a = den(x, t, ctx, w, dmask)
        b = den(x_garbage, t, ctx_g, w, dmask)
        logit_a = model.encoder(x, w, t, dmask)
        logit_b = model.encoder(x_garbage, w, t, dmask)
    assert torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(logit_a, logit_b, atol=1e-5)
    # dancers are a set: permuting the valid dancers permutes the outputs
    perm = torch.tensor([1, 0, 2])
    with torch.no_grad():
        c = den(x[:, perm], t, ctx, w, dmask)
    assert torch.allclose(c, a[:, perm], atol=1e-5)


@pytest.mark.parametrize("form", ["score", "mean"])
def test_gamma_moves_samples_along_the_gradient_of_log_f(trained: GCD, form: str) -> None:
    music = torch.randn(1, 16, 35, generator=torch.Generator().manual_seed(3))
    first: dict[float, torch.Tensor] = {}
    for gamma in (0.0, 0.5, -0.5):
        def keep(i: int, x: torch.Tensor, gamma: float = gamma) -> None:
            first.setdefault(gamma, x.clone())
        sample(trained, music, 3, gamma=gamma, seed=7, guidance_form=form, on_step=keep)
    # the gradient of log f at the shared starting point x_T (same seed -> same noise, z and w)
    g = torch.Generator().manual_seed(7)
    cfg = trained.cfg
    with torch.no_grad():
        mask = data_mask_from(torch.tensor([3]), torch.ones(1, 16, dtype=torch.bool), 3)
        ctx = trained.denoiser.encode_music(music, torch.ones(1, 16, dtype=torch.bool))
        z = torch.randn(1, cfg.d_model, generator=g)
        w = trained.denoiser.group_embedding(ctx, torch.tensor([3]), z)
        x_t = torch.randn(1, 3, 16, 151, generator=g)
    diffusion = trained.diffusion(f"ddim{cfg.ddim_steps}")
    t = diffusion.model_t(torch.tensor([diffusion.num_timesteps - 1]))
    x = x_t.requires_grad_(True)
    (grad,) = torch.autograd.grad(trained.encoder(x, w, t, mask).sum(), x)
    up = (first[0.5] - first[0.0]).flatten()
    down = (first[-0.5] - first[0.0]).flatten()
    cos = torch.nn.functional.cosine_similarity
    assert cos(up, grad.flatten(), dim=0) > 0.99
    assert cos(down, grad.flatten(), dim=0) < -0.99


def test_chunk_joiner_undoes_dancer_swaps_and_stitches_smoothly() -> None:
    plan = plan_chunks(total=40, length=16, overlap=0.5)
    assert (plan.hop, plan.count, plan.padded) == (8, 4, 40)
    t = torch.arange(plan.padded, dtype=torch.float32)
    truth = torch.zeros(1, 3, plan.padded, 151)
    for d in range(3):
        truth[0, d, :, :3] = (t[:, None] * 0.05 + d * 2.0)  # smooth, well separated root paths
        truth[0, d, :, 3:9] = torch.tensor([1.0, 0, 0, 0, 1, 0])  # identity rotations (rot6d)
        truth[0, d, :, 9:147] = truth[0, d, :, 3:9].repeat(1, 23)
    chunks = torch.stack([truth[:, :, k * 8:k * 8 + 16] for k in range(4)], dim=1).reshape(4, 3, 16, 151)
    chunks[1] = chunks[1, [2, 0, 1]]  # the model may order dancers differently in each chunk
    chunks[3] = chunks[3, [1, 2, 0]]
    joiner = ChunkJoiner(plan, torch.tensor([3]))
    joiner(chunks)
    out = joiner.stitch(chunks)
    assert out.shape == (1, 3, 40, 151)
    assert torch.allclose(out, truth, atol=1e-5)


def test_long_sequences_have_the_requested_length_and_no_seams(trained: GCD) -> None:
    total = 53  # 16-frame chunks, 50 % overlap -> 6 chunks, the last one padded
    g = torch.Generator().manual_seed(1)
    from zoo.data.synthetic.dance import make_music

    music, _ = make_music(torch.tensor([10]), torch.tensor([3]), torch.tensor([1]), total, 35, 4, g)
    out = decode_outputs(sample(trained, music, 3, gamma=0.5, seed=0))
    motion = out["motion"]
    assert motion.shape == (1, 3, total, 151) and bool(out["mask"].all())
    assert out["joints"].shape == (1, 3, total, 24, 3)
    plan = plan_chunks(total, 16, 0.5)
    # frame pairs (i, i+1) where one chunk's contribution starts or stops
    seams = sorted({k * plan.hop - 1 for k in range(1, plan.count)} |
                   {k * plan.hop + plan.overlap - 1 for k in range(1, plan.count)})
    seams = [s for s in seams if s < total - 1]
    inside = [i for i in range(total - 1) if i not in seams]
    for name, values in (("root", motion[0, :, :, :3]), ("pose", motion[0, :, :, 3:147]),
                         ("joints", out["joints"][0].flatten(2))):
        step = (values[:, 1:] - values[:, :-1]).abs().amax(dim=(0, 2))  # [T-1] largest change per frame
        assert step[seams].max() <= step[inside].max(), name


def _wav(path: Path, samples: np.ndarray, rate: int = 22050) -> Path:
    sf.write(str(path), samples.astype(np.float32), rate)
    return path


def test_bad_audio_gives_a_clear_error_before_any_model_work(tmp_path: Path) -> None:
    cfg = zoo.build("gcd-tiny", **MICRO).zoo.config
    found = discovery.plugins()

    def prepare(path: Path, **extra: object) -> object:
        return found.call("zoo_prepare_inputs", "gcd", config=cfg, options={"audio": str(path), **extra})

    with pytest.raises(InputError, match="silent"):
        prepare(_wav(tmp_path / "silence.wav", np.zeros(44100)))
    with pytest.raises(InputError, match="sample rate"):
        prepare(_wav(tmp_path / "low.wav", 0.5 * np.sin(np.arange(8000) / 2.0), rate=2000))
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"not a wave file at all")
    with pytest.raises(DataError, match="could not decode"):
        prepare(corrupt)
    with pytest.raises(InputError, match="zero length"):
        prepare(_wav(tmp_path / "empty.wav", np.zeros(0)))
    with pytest.raises(InputError, match="--audio"):
        found.call("zoo_prepare_inputs", "gcd", config=cfg, options={})


def test_audio_to_npz_and_gif_like_the_cli(tmp_path: Path) -> None:
    """zoo infer gcd-tiny --audio song.wav --dancers 2 --gamma 0.5 --seconds 1 --out DIR, through the hooks."""
    rate = 22050
    t = np.arange(int(1.5 * rate)) / rate
    y = 0.1 * np.sin(2 * np.pi * 220 * t)
    for beat in np.arange(0.25, 1.5, 0.5):
        s = int(beat * rate)
        y[s:s + 200] += 0.8
    song = _wav(tmp_path / "song.wav", y, rate)
    model = zoo.build("gcd-tiny", **MICRO)
    found = discovery.plugins()
    options = {"audio": str(song), "dancers": 2, "gamma": 0.5, "seconds": 1}
    inputs = found.call("zoo_prepare_inputs", "gcd", config=model.zoo.config, options=options)
    assert inputs["music"].shape == (1, 30, 35) and int(inputs["n_dancers"]) == 2
    with pytest.raises(InputError, match="lasts"):
        found.call("zoo_prepare_inputs", "gcd", config=model.zoo.config, options=dict(options, seconds=30))
    outputs = zoo.infer(model, inputs, gamma=options["gamma"])
    assert outputs["motion"].shape == (1, 3, 30, 151)
    with pytest.raises(zoo.errors.ConfigError, match="unknown infer option"):
        zoo.infer(model, inputs, audio=str(song))  # a file option belongs to prepare_inputs, not to infer
    paths = found.call("zoo_save_outputs", "gcd", config=model.zoo.config, outputs=outputs, out_dir=tmp_path / "out", options=options)
    names = sorted(p.name for p in paths)
    assert names == ["sample0.gif", "sample0.npz"]
    with np.load(tmp_path / "out" / "sample0.npz") as arrays:
        assert arrays["smpl_poses"].shape == (2, 30, 72)
        assert arrays["root_trans"].shape == (2, 30, 3)
        assert arrays["joints"].shape == (2, 30, 24, 3)


def test_evaluate_reports_the_paper_metrics(trained: GCD) -> None:
    data = zoo.make_data(trained, "synthetic", "test")
    result = zoo.evaluate(trained, data, limit=4, steps=2)
    for key in ("fid_k", "gen_div", "mmc", "pfc", "gmr", "gmc", "tif"):
        assert np.isfinite(result[key]), key
    assert 0.0 <= result["mmc"] <= 1.0 and -1.0 <= result["gmc"] <= 1.0
    assert result["gmc_gt"] > 0.5  # the synthetic groups dance the same choreography


def test_loss_and_gradients_match_between_torch_and_triton_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """GCD's loss through the Triton ops (interpreted on CPU) equals the torch reference path."""
    from torch.utils.data import default_collate

    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", **dict(MICRO, frames=8))
    data = zoo.make_data(model, "synthetic", "train")
    batch = default_collate([data[i] for i in range(2)])
    results = {}
    for policy in ("torch", "triton"):
        monkeypatch.setenv("ZOO_KERNELS", policy)
        torch.manual_seed(1)
        model.zero_grad()
        loss, logs = gcd_loss(model, batch)
        loss.backward()
        results[policy] = (loss.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None])
    assert torch.allclose(results["torch"][0], results["triton"][0], atol=1e-5)
    for a, b in zip(results["torch"][1], results["triton"][1]):
        assert torch.allclose(a, b, atol=1e-4)


def test_public_code_options_train_and_sample() -> None:
    """The code's choices (swap_pred negatives, feature-space velocity, code loss weights, CFG) run end to end."""
    from torch.utils.data import default_collate

    from zoo_plugins.gcd.config import CODE_WEIGHTS

    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", **dict(MICRO, negatives="swap_pred", velocity_space="features",
                                         weights=CODE_WEIGHTS, cfg_drop_prob=0.5, cfg_scale=2.5))
    data = zoo.make_data(model, "synthetic", "train")
    loss, logs = gcd_loss(model, default_collate([data[i] for i in range(4)]))
    loss.backward()
    assert torch.isfinite(loss) and {"nce", "geo_velocity", "simple"} <= set(logs)
    assert model.denoiser.null_music.grad is not None  # dropped music trains the null embedding
    out = sample(model, torch.randn(1, 16, 35), 2, seed=0)
    assert torch.isfinite(out["motion"]).all()


# ------------------------------------------------------------------------------------------------ fidelity pass
def test_pfc_is_edges_definition_on_a_hand_computed_case() -> None:
    """EDGE's PFC: 10^4 x mean over t of (root acceleration / its max, up part clamped at 0) x min horizontal
    displacement per frame of the left foot joints (7, 10) x that of the right ones (8, 11)."""
    from zoo.dance import metrics

    p = np.zeros((4, 24, 3))
    p[:, 0, 0] = [0.0, 0.0, 0.01, 0.04]  # root x: v = 0, .3, .9 m/s -> a = 9, 18 m/s^2 -> normalised .5, 1
    p[:, 0, 1] = [0.0, 0.0, 0.0, -0.01]  # root falls at the end: a_y = 0, -9 -> clamped to 0 (else a_2 = 20.1)
    steps = {7: [(0.02, -0.5, 0.0), (0.01, 0.0, 0.0)],  # left ankle (the 0.5 m drop is vertical: ignored)
             10: [(0.0, 0.0, 0.03), (0.0, 0.0, 0.04)],  # left foot
             8: [(0.05, 0.0, 0.0), (0.0, 0.0, 0.02)],  # right ankle
             11: [(0.0, 0.0, 0.04), (0.0, 0.0, 0.06)]}  # right foot
    for joint, (s1, s2) in steps.items():
        p[2, joint] = p[1, joint] + s1
        p[3, joint] = p[2, joint] + s2
    # t=1: .5 * min(.02, .03) * min(.05, .04) = 4e-4; t=2: 1 * min(.01, .04) * min(.02, .06) = 2e-4
    assert metrics.pfc(p, fps=30) == pytest.approx(1e4 * (4e-4 + 2e-4) / 2, rel=1e-9)  # 3.0
    # the earlier variant, kept by name: 3D foot speeds in m/s, no 10^4 factor
    # t=1: .5 * min(.5004, .03)*30 * min(.05, .04)*30 = .54; t=2: 1 * .01*30 * .02*30 = .18
    assert metrics.pfc(p, fps=30, definition="speed3d") == pytest.approx((0.54 + 0.18) / 2, rel=1e-9)
    with pytest.raises(InputError, match="definition"):
        metrics.pfc(p, definition="edg")


def _f_inputs(seed: int = 0) -> tuple[GCD, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    model = zoo.build("gcd-tiny", **MICRO).eval()
    fm = torch.ones(2, 16, dtype=torch.bool)
    fm[1, 11:] = False
    mask = data_mask_from(torch.tensor([2, 3]), fm, 3)
    x = torch.randn(2, 3, 16, 151) * mask[..., None]
    return model, x, torch.randn(2, 32), torch.tensor([5, 30]), mask


@pytest.mark.parametrize("pool", ["frames", "tokens", "first"])
def test_contrastive_encoder_reads_out_the_average_of_its_output_frames(pool: str) -> None:
    """Blog: f's output sequence is averaged (``frames``: the valid motion frames, not the appended time token)."""
    model, x, w, t, mask = _f_inputs()
    model.encoder.cfg = dataclasses.replace(model.encoder.cfg, encoder_pool=pool)
    seen: list[torch.Tensor] = []
    handle = model.encoder.out_norm.register_forward_hook(lambda m, i, o: seen.append(o.detach()))
    with torch.no_grad():
        logit = model.encoder(x, w, t, mask)
    handle.remove()
    h = seen[0].reshape(2, 3, 17, -1)  # [B, N, T + 1 (the time-aware token last), D]
    token_valid = mask.any(-1, keepdim=True)
    if pool == "frames":
        weights = mask.float()[..., None]
        pooled = (h[:, :, :16] * weights).sum((1, 2)) / weights.sum((1, 2))
    elif pool == "tokens":
        weights = torch.cat([mask, token_valid], 2).float()[..., None]
        pooled = (h * weights).sum((1, 2)) / weights.sum((1, 2))
    else:
        pooled = h[:, 0, 0]
    expected = model.encoder.head(pooled).squeeze(-1)
    assert torch.allclose(logit, expected, atol=1e-5)
    assert zoo.build("gcd-tiny").zoo.config.encoder_pool == "frames"


@pytest.mark.parametrize("form", ["mean", "score"])
def test_guidance_shifts_the_first_step_by_the_papers_formula(form: str) -> None:
    """gamma-guidance of one DDIM step (eta 0) at x_T: mean form (the paper's default) adds gamma Sigma_T grad log f;
    score form adds gamma (sqrt(abar') (1 - abar) / sqrt(abar) - sqrt(1 - abar') sqrt(1 - abar)) grad log f."""
    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", **MICRO).eval()
    assert model.cfg.guidance_form == "mean"
    music = torch.randn(1, 16, 35, generator=torch.Generator().manual_seed(3))
    first: dict[float, torch.Tensor] = {}
    for gamma in (0.0, 0.5):
        def keep(i: int, x: torch.Tensor, gamma: float = gamma) -> None:
            first.setdefault(gamma, x.clone())
        sample(model, music, 2, gamma=gamma, seed=7, guidance_form=None if form == "mean" else form, on_step=keep)
    g = torch.Generator().manual_seed(7)
    mask = data_mask_from(torch.tensor([2]), torch.ones(1, 16, dtype=torch.bool), 3)
    with torch.no_grad():
        ctx = model.denoiser.encode_music(music, torch.ones(1, 16, dtype=torch.bool))
        w = model.denoiser.group_embedding(ctx, torch.tensor([2]), torch.randn(1, 32, generator=g))
        x_t = torch.randn(1, 3, 16, 151, generator=g) * mask[..., None]
    diffusion = model.diffusion(f"ddim{model.cfg.ddim_steps}")
    last = diffusion.num_timesteps - 1
    x = x_t.requires_grad_(True)
    (grad,) = torch.autograd.grad(model.encoder(x, w, diffusion.model_t(torch.tensor([last])), mask).sum(), x)
    grad = grad * mask[..., None]
    abar, abar_prev = diffusion.alphas_cumprod[last], diffusion.alphas_cumprod_prev[last]
    if form == "mean":
        coef = diffusion.posterior_variance[last]
    else:
        coef = abar_prev.sqrt() * (1 - abar) / abar.sqrt() - (1 - abar_prev).sqrt() * (1 - abar).sqrt()
    assert float(grad.abs().max()) > 0
    assert torch.allclose(first[0.5] - first[0.0], 0.5 * coef * grad, atol=1e-6, rtol=1e-4)


def test_l_nce_is_off_without_weight_or_negatives() -> None:
    from torch.utils.data import default_collate

    from zoo_plugins.gcd.config import LossWeights

    torch.manual_seed(0)
    for overrides in ({"weights": LossWeights(nce=0.0)}, {"num_negatives": 0}):
        model = zoo.build("gcd-tiny", **dict(MICRO, **overrides))
        data = zoo.make_data(model, "synthetic", "train")
        total, logs = gcd_loss(model, default_collate([data[0], data[1]]))
        assert "nce" not in logs and "nce_skipped" not in logs
        assert float(total.detach()) == pytest.approx(logs["simple"] + logs["geo"], rel=1e-5)


def test_l_nce_with_a_single_group_warns_instead_of_skipping_silently() -> None:
    from torch.utils.data import default_collate

    from zoo_plugins.gcd.losses import ContrastiveSkipped

    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", **MICRO)
    data = zoo.make_data(model, "synthetic", "train")
    with pytest.warns(ContrastiveSkipped, match="L_nce"):
        _, logs = gcd_loss(model, default_collate([data[0]]))
    assert logs["nce_skipped"] == 1.0 and "nce" not in logs
    _, logs = gcd_loss(model, default_collate([data[0], data[1]]))
    assert "nce" in logs and "nce_skipped" not in logs


@pytest.mark.parametrize("t_value", [0, 6])
def test_redenoise_negatives_go_through_g_and_f_scores_at_m_minus_1(monkeypatch: pytest.MonkeyPatch,
                                                                     t_value: int) -> None:
    """Blog: the positive is x_{m-1} ~ p(.|x_m); each negative (dancers of x0 replaced from other groups) is
    noised to x^j_m, DENOISED BY G with the current music, and x^j_{m-1} sampled; f scores both at m - 1."""
    from torch.utils.data import default_collate

    from zoo_plugins.gcd.losses import contrastive_logits

    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", **MICRO)
    assert model.cfg.negatives == "redenoise"
    data = zoo.make_data(model, "synthetic", "train")
    batch = default_collate([data[i] for i in range(4)])
    diffusion = model.diffusion()
    n, fmask = batch["n_dancers"].long(), batch["frame_mask"].bool()
    fmask[2, 13:] = False  # a shorter song
    mask = data_mask_from(n, fmask, 3)
    x0 = batch["motion"] * mask[..., None]
    t = torch.full((4,), t_value)
    x_t = diffusion.q_sample(x0, t) * mask[..., None]
    ctx = model.denoiser.encode_music(batch["music"], fmask)
    w = model.denoiser.group_embedding(ctx, n, torch.randn(4, 32))
    x0_hat = torch.randn_like(x0) * mask[..., None]
    g_inputs: list[torch.Tensor] = []

    def fake_g(x: torch.Tensor, tt: torch.Tensor, c: object, ww: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        g_inputs.append(x.detach().clone())
        assert torch.equal(tt, t.repeat(model.cfg.num_negatives))  # negatives are denoised from step m
        return torch.full_like(x, 7.0) * m[..., None]

    scored: list[tuple[torch.Tensor, torch.Tensor]] = []

    def fake_f(x: torch.Tensor, ww: torch.Tensor, tt: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        scored.append((x.detach().clone(), tt.clone()))
        return x.sum(dim=(1, 2, 3))

    monkeypatch.setattr(model.denoiser, "forward", fake_g)
    monkeypatch.setattr(model.encoder, "forward", fake_f)
    logits = contrastive_logits(model, diffusion, x0, x_t, x0_hat, t, ctx, w, mask, n)
    k = model.cfg.num_negatives
    assert logits.shape == (4, 1 + k)
    assert len(g_inputs) == 1 and g_inputs[0].shape[0] == 4 * k
    assert float(g_inputs[0][~mask.repeat(k, 1, 1)].abs().max()) == 0.0  # padded frames of negatives stay zero
    samples, t_f = scored[0]
    assert torch.equal(t_f, torch.full((4 * (1 + k),), max(t_value - 1, 0)))
    mean_pos, _, _ = diffusion.q_posterior(x0_hat, x_t, t)
    mean_neg, _, _ = diffusion.q_posterior(torch.full_like(g_inputs[0], 7.0) * mask.repeat(k, 1, 1)[..., None],
                                           g_inputs[0], t.repeat(k))
    if t_value == 0:  # no noise at the last step: x_{m-1} is the posterior mean exactly
        assert torch.allclose(samples[:4], mean_pos * mask[..., None], atol=1e-6)
        assert torch.allclose(samples[4:], mean_neg * mask.repeat(k, 1, 1)[..., None], atol=1e-6)
    else:  # a sample around the posterior mean, with the posterior's (fixed-small) standard deviation
        std = float(diffusion.posterior_variance[t_value].sqrt())
        resid = (samples[:4] - mean_pos)[mask]
        assert 0.7 * std < float(resid.std()) < 1.3 * std
        assert 0.7 * std < float((samples[4:] - mean_neg)[mask.repeat(k, 1, 1)].std()) < 1.3 * std
        assert abs(float(resid.mean())) < 0.2 * std
    # the negatives G saw are noised copies of x0 with dancers replaced: never the positive itself
    assert not torch.allclose(g_inputs[0][:4], x_t, atol=1e-3)


def test_paper_variant_sizes_are_pinned() -> None:
    from zoo_plugins.gcd.config import global_batch

    with torch.device("meta"):
        model = GCD(paper())
    assert count_parameters(model) == 63_661_720
    assert count_parameters(model.denoiser) == 49_657_495 and count_parameters(model.encoder) == 14_004_225
    cfg = paper()
    assert (cfg.d_model, cfg.heads, cfg.ff_dim, cfg.layers, cfg.music_layers, cfg.mapping_layers) == \
        (512, 8, 1024, 5, 2, 8)
    assert (cfg.batch_size, cfg.devices, global_batch(cfg)) == (64, 4, 256)  # 64 per GPU on 4 GPUs
    assert (cfg.diffusion_steps, cfg.ddim_steps, cfg.num_negatives, cfg.frames) == (1000, 50, 10, 150)


@pytest.mark.slow
def test_trains_under_torchrun_with_a_per_device_batch(tmp_path: Path) -> None:
    """Two CPU processes with torchrun's environment (gloo): each denoises its 3 of the 6 groups of a step, and the
    replicas end with identical weights."""
    import os
    import socket
    import subprocess
    import sys

    from safetensors.torch import load_file

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    worker = Path(__file__).parent / "ddp_train.py"
    procs = [subprocess.Popen([sys.executable, str(worker), str(tmp_path)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              env=dict(env, WORLD_SIZE="2", RANK=str(r), LOCAL_RANK=str(r), LOCAL_WORLD_SIZE="2",
                                       MASTER_ADDR="127.0.0.1", MASTER_PORT=port))
             for r in range(2)]
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=300)
            assert proc.returncode == 0, out[-3000:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    import json

    for r in range(2):
        seen = json.loads((tmp_path / f"rank{r}.json").read_text())["denoiser_batches"]
        assert seen[:2] == [3, 3 * 2]  # per device: 3 groups, then their 2 x 3 negatives
    a, b = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    fresh = zoo.build("gcd-tiny", seed=0, **dict(MICRO, batch_size=3)).state_dict()
    assert any(not torch.equal(a[k], fresh[k]) for k in a)  # it trained


def test_contrastive_encoder_learns_to_separate_real_groups_from_mixed_ones() -> None:
    """f's defining property: with L_nce alone (100 steps, denoiser untouched), it scores held-out real groups above
    the same groups with dancers replaced from other groups (chance: 1 in 1 + K = 3)."""
    from torch.utils.data import default_collate

    from zoo.kernels import ops

    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", **dict(MICRO, test_size=16))
    train, test = zoo.make_data(model, "synthetic", "train"), zoo.make_data(model, "synthetic", "test")

    def logits(batch: dict[str, torch.Tensor], gen: torch.Generator) -> torch.Tensor:
        n = batch["n_dancers"].long()
        mask = data_mask_from(n, batch["frame_mask"].bool(), 3)
        x0 = batch["motion"] * mask[..., None]
        negs = torch.cat([replace_dancers(x0, n, 0.5, gen) for _ in range(2)]) * mask.repeat(2, 1, 1)[..., None]
        b = x0.shape[0]
        scores = model.encoder(torch.cat([x0, negs]), torch.zeros(3 * b, 32), torch.zeros(3 * b, dtype=torch.long),
                               mask.repeat(3, 1, 1))
        return scores.view(3, b).t()

    with torch.no_grad():
        before = logits(default_collate([test[i] for i in range(16)]), torch.Generator().manual_seed(5))
    opt = torch.optim.Adam(model.encoder.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(100):
        idx = torch.randint(0, len(train), (8,), generator=g).tolist()
        loss = ops.info_nce(logits(default_collate([train[i] for i in idx]), g), 1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        after = logits(default_collate([test[i] for i in range(16)]), torch.Generator().manual_seed(5))
    accuracy = float((after.argmax(1) == 0).float().mean())
    gap = float((after[:, :1] - after[:, 1:]).mean())
    assert accuracy >= 0.55 and gap > 0.3, (accuracy, gap)
    assert gap > float((before[:, :1] - before[:, 1:]).mean()) + 0.3


def test_real_music_from_the_music21_corpus_through_the_cli_hooks(tmp_path: Path) -> None:
    """A Bach chorale (music21's corpus) rendered to audio (pretty_midi's sines), the librosa extractor on it, and
    `zoo infer gcd-tiny --audio bach.wav --dancers 2` through the hooks: npz + GIF for every frame of the clip;
    the extractor's beats land on the score's beats."""
    pytest.importorskip("music21")
    pytest.importorskip("pretty_midi")
    from zoo.dance.beats import beat_frames, tracker_agreement
    from zoo.dance.corpus import render_corpus

    piece = render_corpus("bach/bwv66.6", tmp_path / "bach.wav", seconds=4.0, synth="sine")
    assert piece.synth == "sine" and piece.seconds == pytest.approx(4.0) and len(piece.beats) >= 6
    model = zoo.build("gcd-tiny", **MICRO)
    found = discovery.plugins()
    options = {"audio": str(piece.path), "dancers": 2}
    inputs = found.call("zoo_prepare_inputs", "gcd", config=model.zoo.config, options=options)
    assert inputs["music"].shape == (1, 120, 35) and torch.isfinite(inputs["music"]).all()
    recall, precision = tracker_agreement(beat_frames(inputs["beats"][0].numpy()), piece.beats)
    assert recall >= 0.6 and precision >= 0.6, (recall, precision)
    outputs = zoo.infer(model, inputs, seed=0, steps=2)
    assert outputs["motion"].shape == (1, 3, 120, 151)  # 16-frame chunks joined over the 4 s
    paths = found.call("zoo_save_outputs", "gcd", config=model.zoo.config, outputs=outputs,
                       out_dir=tmp_path / "out", options=options)
    assert sorted(p.name for p in paths) == ["sample0.gif", "sample0.npz"]
    with np.load(tmp_path / "out" / "sample0.npz") as arrays:
        assert arrays["joints"].shape == (2, 120, 24, 3) and np.isfinite(arrays["joints"]).all()


# ------------------------------------------------------------------------------------------------ hand-computed losses
def test_masked_mse_and_feature_velocity_by_hand() -> None:
    from zoo_plugins.gcd.losses import feature_velocity_loss, masked_mse

    pred, target = torch.zeros(1, 2, 3, 151), torch.zeros(1, 2, 3, 151)
    pred[0, 0, 0, 0], pred[0, 0, 1, 0], pred[0, 1, 2, 5] = 2.0, 0.5, 9.0  # the last one is masked out
    pred[0, 0, 1, 3], target[0, 0, 0, 3], target[0, 0, 1, 3] = 0.5, 0.3, 1.0
    mask = torch.tensor([[[True, True, False], [True, False, False]]])  # 3 valid dancer-frames
    assert float(masked_mse(pred, target, mask)) == pytest.approx((4.0 + 0.25 + 0.09 + 0.25) / (3 * 151))
    # one valid frame pair (dancer 0, frames 0-1): channel 0: d pred = -1.5, d target = 0; channel 3: 0.5 vs 0.7
    assert float(feature_velocity_loss(pred, target, mask)) == pytest.approx((2.25 + 0.04) / 147)
    pred[0, 0, 1, 150] = 5.0  # a contact channel: not part of the 147 pose features
    assert float(feature_velocity_loss(pred, target, mask)) == pytest.approx((2.25 + 0.04) / 147)
    nothing = torch.zeros_like(mask)  # no valid element: 0, not 0/0
    assert float(masked_mse(pred, target, nothing)) == 0.0 and float(feature_velocity_loss(pred, target, nothing)) == 0


def _walking_pair(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(pred, target, mask): two dancers, 5 frames, different smooth motions; pred's contacts all 1."""
    from zoo.dance import representation

    g = torch.Generator().manual_seed(seed)
    aa = 0.3 * torch.randn(2, 2, 5, 72, generator=g).cumsum(2) / 3
    root = 0.05 * torch.randn(2, 2, 5, 3, generator=g).cumsum(2)
    pred = representation.encode(aa[0:1], root[0:1])
    target = representation.encode(aa[1:2], root[1:2])
    pred[..., 147:] = 1.0  # the model "predicts" every foot in contact
    mask = torch.ones(1, 2, 5, dtype=torch.bool)
    mask[0, 1, 4] = False
    return pred, target, mask


def test_geometric_loss_combines_its_terms_with_the_weights_and_the_models_own_contacts() -> None:
    from zoo.dance import representation
    from zoo.dance.skeleton import FOOT_JOINTS
    from zoo.kernels import ops
    from zoo_plugins.gcd.config import LossWeights
    from zoo_plugins.gcd.losses import feature_velocity_loss, geometric_loss

    pred, target, mask = _walking_pair()
    cfg = dataclasses.replace(zoo.build("gcd-tiny", **MICRO).cfg, weights=LossWeights(pos=2.0, vel=3.0, foot=5.0))
    total, terms = geometric_loss(pred, target, mask, cfg)
    ref = ops.geometric_losses(representation.to_joints(pred), representation.to_joints(target), mask,
                               FOOT_JOINTS, torch.ones(1, 2, 5, 4, dtype=torch.bool))
    for key in ("joint", "velocity", "foot"):
        assert float(terms[key]) == pytest.approx(float(ref[key]), rel=1e-5) and float(ref[key]) > 0
    assert float(total) == pytest.approx(2 * float(ref["joint"]) + 3 * float(ref["velocity"])
                                         + 5 * float(ref["foot"]), rel=1e-5)
    pred[..., 147:] = 0.9  # below the 0.95 threshold: no foot is planted, L_foot vanishes
    assert float(geometric_loss(pred, target, mask, cfg)[1]["foot"]) == 0.0
    feats = dataclasses.replace(cfg, velocity_space="features")
    assert float(geometric_loss(pred, target, mask, feats)[1]["velocity"]) == pytest.approx(
        float(feature_velocity_loss(pred, target, mask)), rel=1e-6)


def test_total_loss_is_simple_plus_geo_plus_lambda_nce_times_nce() -> None:
    from torch.utils.data import default_collate

    from zoo_plugins.gcd.config import LossWeights

    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", weights=LossWeights(simple=2.0, pos=1.5, vel=0.5, foot=0.25, nce=0.7), **MICRO)
    data = zoo.make_data(model, "synthetic", "train")
    total, logs = gcd_loss(model, default_collate([data[i] for i in range(3)]))
    assert float(total.detach()) == pytest.approx(2.0 * logs["simple"] + logs["geo"] + 0.7 * logs["nce"], rel=1e-5)
    assert logs["geo"] == pytest.approx(1.5 * logs["geo_joint"] + 0.5 * logs["geo_velocity"]
                                        + 0.25 * logs["geo_foot"], rel=1e-5)
    assert 0.0 <= logs["nce_acc"] <= 1.0


def test_replace_dancers_probability_extremes() -> None:
    """p = 1: every valid dancer comes from another group; p = 0: exactly one, at a random slot (a negative must
    differ). Donors are valid dancers of uniformly drawn OTHER groups."""
    n = torch.tensor([3, 2, 1, 3, 2])
    x0 = (10 * torch.arange(5.0)[:, None] + torch.arange(3.0)[None])[:, :, None, None].expand(5, 3, 2, 1).clone()
    for slot in range(3):
        x0[n <= slot, slot] = -1.0  # padded slots
    donor_groups, donor_dancers, forced_slots = set(), set(), set()
    for seed in range(12):
        g = torch.Generator().manual_seed(seed)
        every = replace_dancers(x0, n, prob=1.0, generator=g)
        one = replace_dancers(x0, n, prob=0.0, generator=g)
        for b in range(5):
            count = int(n[b])
            got = every[b, :count, 0, 0]
            groups, dancers = (got // 10).long(), (got % 10).long()
            assert (groups != b).all() and (got >= 0).all() and (dancers < n[groups]).all()
            if b == 0:
                donor_groups |= set(groups.tolist())
                donor_dancers |= set(dancers.tolist())
            changed = (one[b, :count, 0, 0] != x0[b, :count, 0, 0]).nonzero().flatten().tolist()
            assert len(changed) == 1 and (one[b, :count] >= 0).all()
            forced_slots.add((count, changed[0]))
            assert (every[b, count:] == -1).all() and (one[b, count:] == -1).all()
    assert donor_groups == {1, 2, 3, 4} and donor_dancers == {0, 1, 2}
    assert {s for c, s in forced_slots if c == 3} == {0, 1, 2}


@pytest.mark.parametrize("k", [4, 5])
def test_swap_pred_negatives_are_intra_swaps_then_whole_other_groups(monkeypatch: pytest.MonkeyPatch,
                                                                      k: int) -> None:
    """The public code's negatives: (k + 1) // 2 swap dancers inside the predicted batch, the rest take another
    group's x0-hat (rolled by 1, 2, ...); f scores them at step m; column 0 of the logits is the positive."""
    from zoo_plugins.gcd.losses import contrastive_logits

    torch.manual_seed(0)
    model = zoo.build("gcd-tiny", **dict(MICRO, negatives="swap_pred", num_negatives=k))
    b = 4
    mask = torch.ones(b, 3, 16, dtype=torch.bool)
    mask[1, :, 12:] = False  # a shorter song: its padded frames must stay zero in every sample
    x0_hat = torch.arange(float(b))[:, None, None, None].expand(b, 3, 16, 151).clone()
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def fake_f(x: torch.Tensor, w: torch.Tensor, t: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        seen.append((x.detach().clone(), t.clone()))
        return x[:, 0, 0, 0] * 10 + x[:, 1, 0, 0]

    monkeypatch.setattr(model.encoder, "forward", fake_f)
    t = torch.tensor([4, 9, 17, 2])
    logits = contrastive_logits(model, model.diffusion(), x0_hat, x0_hat, x0_hat, t, None, torch.zeros(b, 32),
                                mask, torch.tensor([3, 3, 3, 3]))
    x, t_f = seen[0]
    intra = (k + 1) // 2
    m = mask[..., None].float()
    assert torch.equal(t_f, t.repeat(k + 1))  # no re-denoising: f at step m
    assert torch.equal(x[:b], x0_hat * m)  # the positive is x0-hat itself (masked)
    for j in range(intra):  # intra-swap negatives: some dancer differs, every dancer is a real one
        block = x[b * (1 + j): b * (2 + j), :, 0, 0]
        assert ((block != torch.arange(float(b))[:, None]).any(1)).all()
    for j in range(k - intra):  # whole other groups
        start = b * (1 + intra + j)
        assert torch.equal(x[start:start + b], torch.roll(x0_hat, j + 1, 0) * m)
    assert x.shape[0] == b * (k + 1) and float(x[:, :, 12:][torch.arange(b * (k + 1)) % b == 1].abs().max()) == 0
    assert torch.allclose(logits[:, 0], x0_hat[:, 0, 0, 0] * 11)
    assert logits.shape == (b, k + 1)


def test_film_group_modulation_and_group_embedding_by_hand() -> None:
    """FiLM: (scale + 1) h + shift; Group Modulation: S(w) (h - mu) / sigma + b(w) with mu, sigma over the group's
    valid tokens (S starts at 1, b at 0); w = MLP_k(z + mean_t c_t) + e_n with a pixel-normalised input."""
    from zoo_plugins.gcd.model import FiLM, GroupModulation, MappingNetwork, masked_mean

    torch.manual_seed(0)
    film = FiLM(4)
    torch.nn.init.normal_(film.proj[1].weight)
    torch.nn.init.normal_(film.proj[1].bias)
    h, ctx = torch.randn(2, 3, 4), torch.randn(2, 4)
    scale, shift = film.proj[1](torch.nn.functional.mish(ctx)).chunk(2, -1)
    assert torch.allclose(film(h, ctx), (scale[:, None] + 1) * h + shift[:, None], atol=1e-6)

    gm = GroupModulation(4)
    assert torch.equal(gm.proj.bias[:4], torch.ones(4)) and torch.equal(gm.proj.bias[4:], torch.zeros(4))
    valid = torch.tensor([[True, True, True, False, False], [True, False, True, True, True]])
    x, w = torch.randn(2, 5, 4), torch.randn(2, 4)
    s, b = gm.proj(w).chunk(2, -1)
    out = gm(x, valid, w)
    for i in range(2):
        v = x[i][valid[i]]
        mu, var = v.mean(0), v.var(0, unbiased=False)
        expected = s[i] * (v - mu) / torch.sqrt(var + 1e-8) + b[i]
        assert torch.allclose(out[i][valid[i]], expected, atol=1e-5)
        assert (out[i][~valid[i]] == 0).all()

    mapping = MappingNetwork(4, 2)
    z = torch.randn(3, 4)
    normed = z / z.pow(2).mean(-1, keepdim=True).sqrt()
    assert torch.allclose(mapping(z), mapping.net(normed), atol=1e-5)
    assert torch.allclose(mapping(3.0 * z), mapping(z), atol=1e-5)  # scale-free input
    assert torch.allclose(masked_mean(x, valid), torch.stack([x[i][valid[i]].mean(0) for i in range(2)]), atol=1e-6)

    model = zoo.build("gcd-tiny", **MICRO)
    den = model.denoiser
    with torch.no_grad():
        ctx = den.encode_music(torch.randn(2, 16, 35), torch.ones(2, 16, dtype=torch.bool))
        zz = torch.randn(2, 32)
        w = den.group_embedding(ctx, torch.tensor([1, 3]), zz)
        expected = den.mapping(zz + ctx.mean) + den.count_embedding.weight[[0, 2]]
    assert torch.allclose(w, expected, atol=1e-6)


def test_beat_alignment_by_hand() -> None:
    """MMC = mean over motion beats of exp(-d^2 / (2 sigma^2)), d = frames to the nearest music beat."""
    from zoo.dance import metrics

    value = metrics.beat_alignment([10, 20, 33], [9, 20, 40], sigma=2.0)
    expected = (np.exp(-1 / 8) + 1.0 + np.exp(-49 / 8)) / 3
    assert value == pytest.approx(expected, rel=1e-12)
    assert metrics.beat_alignment([], [1]) == 0.0 and metrics.beat_alignment([1], []) == 0.0
    assert metrics.MMC_SIGMA == 2.12
