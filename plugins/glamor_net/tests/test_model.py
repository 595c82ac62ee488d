"""GLAMOR-Net architecture: shapes, the attention normalisation, the face's role in GLA, fusion, conformance."""
from __future__ import annotations

import pytest
import torch

import zoo
from zoo.errors import InputError
from zoo_plugins.glamor_net.model import GlobalLocalAttention


def test_paper_shapes_follow_the_spec() -> None:
    model = zoo.build("glamor-net-paper").eval()
    assert model.face_encoder(torch.zeros(1, 3, 96, 96)).shape == (1, 256, 6, 6)
    assert model.context_encoder(torch.zeros(1, 3, 112, 112)).shape == (1, 256, 7, 7)
    convs = [m.out_channels for m in model.face_encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == [32, 64, 128, 256, 256]


def test_attention_is_a_distribution_over_context_cells() -> None:
    torch.manual_seed(0)
    model = zoo.build("glamor-net-tiny")
    inputs = zoo.example_inputs(model)
    out = zoo.infer(model, inputs)
    assert out["attention"].shape == (2, 3, 3)  # 48x48 context, 4 pools -> a 3x3 map
    torch.testing.assert_close(out["attention"].sum(dim=(1, 2)), torch.ones(2))
    torch.testing.assert_close(out["probs"].sum(1), torch.ones(2))
    torch.testing.assert_close(out["fusion_weights"].sum(1), torch.ones(2))
    assert out["label"].tolist() == out["probs"].argmax(1).tolist()


def test_gla_scores_cells_against_the_face_but_ca_does_not() -> None:
    torch.manual_seed(0)
    v_f, v_f2 = torch.randn(2, 8), torch.randn(2, 8)
    cmap = torch.randn(2, 6, 3, 3)
    gla = GlobalLocalAttention(8, 6, 16, "gla").eval()
    ca = GlobalLocalAttention(8, 6, 16, "ca").eval()
    none = GlobalLocalAttention(8, 6, 16, "none").eval()
    assert not torch.allclose(gla(v_f, cmap)[1], gla(v_f2, cmap)[1])
    torch.testing.assert_close(ca(v_f, cmap)[1], ca(v_f2, cmap)[1])
    v_c, att = none(v_f, cmap)
    torch.testing.assert_close(att, torch.full((2, 3, 3), 1 / 9))
    torch.testing.assert_close(v_c, cmap.mean(dim=(2, 3)))
    # v_c is the attention-weighted sum of the cells
    v_c, att = gla(v_f, cmap)
    manual = (att.view(2, 1, 9) * cmap.view(2, 6, 9)).sum(-1)
    torch.testing.assert_close(v_c, manual)


def test_fusion_scales_each_branch_by_its_softmax_weight() -> None:
    torch.manual_seed(0)
    model = zoo.build("glamor-net-tiny").eval()
    v_f, v_c = torch.randn(3, 32), torch.randn(3, 32)
    fused, w = model.fusion(v_f, v_c)
    s = torch.cat([model.fusion.face_score(v_f), model.fusion.context_score(v_c)], 1)
    torch.testing.assert_close(w, s.softmax(1))
    torch.testing.assert_close(fused, torch.cat([v_f * w[:, :1], v_c * w[:, 1:]], 1))


def test_context_only_ablation_still_uses_the_face_for_attention() -> None:
    torch.manual_seed(0)
    model = zoo.build("glamor-net-tiny", fusion_inputs="context").train()  # batch statistics: untrained
    face, context = torch.rand(4, 3, 32, 32), torch.rand(4, 3, 48, 48)  # running stats would shrink features
    a = model(face, context)
    b = model(face.flip(0), context)
    assert (a.attention - b.attention).abs().max() > 1e-3  # the face guides GLA ...
    assert a.fusion_weights.shape == (4, 1)
    assert model.classifier[0].in_features == 32  # ... but only v_c reaches the classifier


def test_wrong_sizes_raise_input_error() -> None:
    model = zoo.build("glamor-net-tiny")
    with pytest.raises(InputError, match="context"):
        zoo.infer(model, {"face": torch.rand(1, 3, 32, 32), "context": torch.rand(1, 3, 40, 40)})


def test_conformance() -> None:
    report = zoo.testing.check_method("glamor-net")
    assert "safetensors round trip gives identical outputs" in report.checks


# ------------------------------------------------------------------------------------------------ fidelity pass
def test_setting_iii_context_with_the_face_visible() -> None:
    """The paper's ablation settings: (i) face only, (ii) masked context, (iii) context WITH the face visible,
    (iv) face + masked context. Setting (iii) feeds the whole scene as the context input."""
    from zoo_plugins.glamor_net.data import synthetic
    from zoo_plugins.glamor_net.preprocess import face_and_context

    masked_cfg = zoo.build("glamor-net-tiny", fusion_inputs="context").zoo.config
    visible_cfg = zoo.build("glamor-net-tiny", fusion_inputs="context", context_face="visible").zoo.config
    masked, visible = synthetic(masked_cfg, "test"), synthetic(visible_cfg, "test")
    x, y, w, h = (int(v) for v in masked.boxes[0])
    assert float(masked[0]["context"][:, y:y + h, x:x + w].abs().max()) == 0.0  # the face box is zeroed ...
    assert torch.equal(visible[0]["context"], masked[0]["scene"])  # ... or the whole scene is seen
    assert float(visible[0]["context"][:, y:y + h, x:x + w].abs().max()) > 0.1
    assert torch.equal(visible[0]["face"], masked[0]["face"]) and torch.equal(visible.labels, masked.labels)
    image = torch.rand(3, 40, 60)
    _, ctx_masked = face_and_context(image, (10, 5, 20, 20), 16, 40)
    _, ctx_visible = face_and_context(image, (10, 5, 20, 20), 16, 40, mask=False)
    assert float(ctx_masked[:, 8:12, 10:16].abs().max()) == 0.0 and float(ctx_visible[:, 8:12, 10:16].min()) > 0
    with pytest.raises(zoo.errors.ConfigError, match="context_face"):
        zoo.build("glamor-net-tiny", context_face="blurred")


def test_resnet18_variant_sizes() -> None:
    """The paper's ResNet-18 GLAMOR-Net: a ResNet-18 trunk per branch, 512-channel maps (4x4 face, 7x7 context)."""
    from zoo_plugins.glamor_net.config import paper_resnet18
    from zoo_plugins.glamor_net.model import GlamorNet

    model = GlamorNet(paper_resnet18()).eval()
    with torch.no_grad():
        assert model.face_encoder(torch.zeros(1, 3, 112, 112)).shape == (1, 512, 4, 4)
        out = model(torch.zeros(2, 3, 112, 112), torch.zeros(2, 3, 224, 224))
    assert out.logits.shape == (2, 7) and out.attention.shape == (2, 7, 7)
    trunk = sum(p.numel() for p in model.face_encoder.parameters())
    assert trunk == 11_176_512  # torchvision/timm resnet18 without its 1000-way classifier
    total = sum(p.numel() for p in model.parameters())
    gla = (1024 * 128 + 128) + 2 * 128 + (128 + 1)  # Dense(128) on [v_f; v_ij], BN, Dense(1)
    fusion = 2 * ((512 * 128 + 128) + (128 + 1))
    classifier = (1024 * 128 + 128) + (128 * 7 + 7)
    assert total == 2 * trunk + gla + fusion + classifier
    assert zoo.build("glamor-net-resnet18").zoo.config.encoder == "resnet18"


def test_gla_scores_are_the_ffn_of_face_and_cell_and_the_loss_is_cross_entropy() -> None:
    """s_ij = FFN([v_f; v_ij]); a = softmax over the cells (CA: FFN(v_ij)); training loss = CE of the logits."""
    from zoo_plugins.glamor_net.train import make_loss_fn

    torch.manual_seed(0)
    v_f, cmap = torch.randn(2, 8), torch.randn(2, 6, 2, 3)
    cells = cmap.flatten(2).transpose(1, 2)
    for mode in ("gla", "ca"):
        att_layer = GlobalLocalAttention(8, 6, 16, mode).eval()
        feats = torch.cat([v_f[:, None].expand(2, 6, 8), cells], -1) if mode == "gla" else cells
        scores = att_layer.score(feats.reshape(12, -1)).view(2, 6)
        v_c, att = att_layer(v_f, cmap)
        torch.testing.assert_close(att, scores.softmax(1).view(2, 2, 3))
        torch.testing.assert_close(v_c, (scores.softmax(1)[..., None] * cells).sum(1))
    model = zoo.build("glamor-net-tiny", augment=False).eval()
    batch = {"face": torch.rand(3, 3, 32, 32), "context": torch.rand(3, 3, 48, 48), "label": torch.tensor([0, 3, 6])}
    loss, logs = make_loss_fn(model.zoo.config)(model, batch)
    out = model(batch["face"], batch["context"])
    assert float(loss) == pytest.approx(float(torch.nn.functional.cross_entropy(out.logits, batch["label"])))
    assert logs["train_accuracy"] == pytest.approx(float((out.logits.argmax(1) == batch["label"]).float().mean()))


@pytest.mark.parametrize("inputs", ["face", "context"])
def test_settings_i_and_ii_classify_the_pooled_face_or_the_attended_context(inputs: str) -> None:
    """Setting (i) classifies v_f = the face map's GLOBAL AVERAGE (not sum); (ii) classifies the GLA-pooled v_c."""
    torch.manual_seed(0)
    model = zoo.build("glamor-net-tiny", fusion_inputs=inputs).eval()
    cfg = model.zoo.config
    face, context = torch.rand(2, 3, cfg.face_size, cfg.face_size), torch.rand(2, 3, cfg.context_size, cfg.context_size)
    with torch.no_grad():
        fmap = model.face_encoder(face)
        v_f = fmap.sum(dim=(2, 3)) / (fmap.shape[2] * fmap.shape[3])
        v_c, _ = model.attention(v_f, model.context_encoder(context))
        out = model(face, context)
        assert torch.allclose(out.logits, model.classifier(v_f if inputs == "face" else v_c), atol=1e-5)
        assert torch.equal(out.fusion_weights, torch.ones(2, 1))
