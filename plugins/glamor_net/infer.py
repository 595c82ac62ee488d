"""GLAMOR-Net inference: (face, masked context) -> class distribution, context attention map, fusion weights;
``--image scene.jpg --face x,y,w,h`` -> inputs; outputs -> ``predictions.json`` and an attention-map picture."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zoo.io import atomic_write_json
from zoo.errors import ConfigError, InputError
from zoo_plugins.glamor_net.config import GlamorConfig
from zoo_plugins.glamor_net.preprocess import face_and_context, parse_box


def check_sizes(face: torch.Tensor, context: torch.Tensor, config: GlamorConfig) -> None:
    """The variant was trained at fixed sizes: other sizes are an InputError naming both."""
    want_f, want_c = (config.face_size,) * 2, (config.context_size,) * 2
    if tuple(face.shape[-2:]) != want_f or tuple(context.shape[-2:]) != want_c:
        raise InputError(f"glamor-net: face must be (B, 3, {config.face_size}, {config.face_size}) and context "
                         f"(B, 3, {config.context_size}, {config.context_size}) for this variant, got "
                         f"{tuple(face.shape)} and {tuple(context.shape)}; `zoo infer ... --image PATH --face "
                         "x,y,w,h` crops and resizes a whole image for you")
    if face.shape[0] != context.shape[0]:
        raise InputError(f"glamor-net: face and context batches differ ({face.shape[0]} vs {context.shape[0]})")


def example_inputs(config: GlamorConfig) -> dict[str, torch.Tensor]:
    """Two synthetic faces in context of the variant's sizes."""
    from zoo.data.synthetic.faces_in_context import make_faces_in_context

    data = make_faces_in_context(2, seed=0, num_classes=config.num_classes, class_names=config.class_names,
                                 scene_size=config.context_size, face_size=config.face_size)
    return {"face": data.faces, "context": data.contexts}


def preprocessing(config: GlamorConfig) -> dict[str, Any]:
    """Crop sizes and the face/context preparation that travel with the weights."""
    return {"face_size": config.face_size, "context_size": config.context_size, "range": [0.0, 1.0],
            "face": "crop of the box (x, y, w, h), bilinear resize",
            "context": "whole image, face box set to 0, "
                       + (f"resize to {list(config.context_resize)} then centre crop"
                          if any(config.context_resize) else "bilinear resize"),
            "classes": list(config.class_names)}


def run(model: nn.Module, inputs: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """The ``infer`` hook: :func:`predict_batch` on ``inputs["face"]`` and ``inputs["context"]``."""
    return predict_batch(model, inputs["face"], inputs["context"])


@torch.no_grad()
def predict_batch(model: nn.Module, face: torch.Tensor, context: torch.Tensor) -> dict[str, Any]:
    """``{"probs" (B, C), "label" (B,), "attention" (B, h, w), "fusion_weights" (B, 2), "context" (B, 3, S, S),
    "classes"}`` in eval mode (the context input is handed back so that the attention picture can overlay it)."""
    check_sizes(face, context, model.config)
    model.eval()
    device = next(model.parameters()).device
    out = model(face.float().to(device), context.float().to(device))
    probs = out.logits.softmax(dim=1)
    return {"probs": probs.cpu(), "label": probs.argmax(1).cpu(), "attention": out.attention.cpu(),
            "fusion_weights": out.fusion_weights.cpu(), "context": context.detach().float().cpu(),
            "classes": list(model.config.class_names)}


def _image_and_box(options: Mapping[str, Any]) -> tuple[torch.Tensor, tuple[float, float, float, float]]:
    from zoo.data.layout import image_to_tensor, load_image

    if options.get("image") is None:
        raise ConfigError("glamor-net needs --image PATH (a whole scene) and --face x,y,w,h (the face box, pixels)")
    if options.get("face") is None:
        raise ConfigError("glamor-net needs --face x,y,w,h: the face box in pixels of the image (no face detector "
                          "is bundled; the authors used dlib's CNN detector)")
    return image_to_tensor(load_image(str(options["image"]))), parse_box(options["face"])


def prepare_inputs(config: GlamorConfig, options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``--image scene.jpg --face x,y,w,h`` -> ``{"face": (1, 3, F, F), "context": (1, 3, S, S)}``."""
    image, box = _image_and_box(options)
    face, context = face_and_context(image, box, config.face_size, config.context_size, config.context_resize,
                                     mask=config.context_face == "masked")
    return {"face": face[None], "context": context[None]}


def attention_picture(context: torch.Tensor | None, attention: torch.Tensor, path: Path, *, titles: list[str]) -> Path:
    """One panel per sample: the masked context with its attention map (upsampled) laid over it."""
    from zoo.viz.mpl import pyplot, save_png

    plt = pyplot()
    n = attention.shape[0]
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.4), squeeze=False)
    for i in range(n):
        ax = axes[0, i]
        att = attention[i].float()
        if context is not None:
            side = context.shape[-1]
            ax.imshow(context[i].permute(1, 2, 0).clamp(0, 1).numpy())
            up = torch.nn.functional.interpolate(att[None, None], size=(side, side), mode="nearest")[0, 0]
            ax.imshow(up.numpy(), cmap="jet", alpha=0.45)
        else:
            ax.imshow(att.numpy(), cmap="jet")
        ax.set_title(titles[i], fontsize=8)
        ax.axis("off")
    return save_png(fig, path)


def save_outputs(outputs: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """``predictions.json`` (class probabilities, fusion weights, attention) and ``attention.png``."""
    probs = outputs["probs"]
    names = list(outputs.get("classes") or [str(j) for j in range(probs.shape[1])])
    records = []
    for i in range(probs.shape[0]):
        records.append({"label": names[int(probs[i].argmax())],
                        "probs": {names[j]: round(float(probs[i, j]), 6) for j in range(probs.shape[1])},
                        "fusion_weights": [round(float(w), 6) for w in outputs["fusion_weights"][i]],
                        "attention": [[round(float(v), 6) for v in row] for row in outputs["attention"][i]]})
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "predictions.json", {"predictions": records, "classes": names})
    titles = [f"{r['label']} ({max(r['probs'].values()):.2f}); w_f={r['fusion_weights'][0]:.2f}" for r in records]
    picture = attention_picture(outputs.get("context"), outputs["attention"], out_dir / "attention.png",
                                titles=titles)
    return [out_dir / "predictions.json", picture]
