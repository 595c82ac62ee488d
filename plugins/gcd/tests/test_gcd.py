"""GCD plugin tests: core-API contract, training, masks, gamma guidance, long sequences, audio inputs, outputs."""
from __future__ import annotations

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
