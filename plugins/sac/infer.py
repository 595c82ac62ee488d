"""Inference: image batch -> fused top-k classes, both classifiers' probabilities and the attention map; CLI
image loading (``zoo_prepare_inputs``) and pictures (``zoo_save_outputs``)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from zoo.io import atomic_write_json
from zoo.errors import InputError
from zoo_plugins.sac.config import SACConfig
from zoo_plugins.sac.model import SACModel


def example_inputs(config: SACConfig) -> dict[str, torch.Tensor]:
    """Two random images of the variant's size and channels."""
    generator = torch.Generator().manual_seed(0)
    return {"image": torch.rand(2, config.in_chans, config.image_size, config.image_size, generator=generator)}


def infer(model: SACModel, inputs: Mapping[str, torch.Tensor], options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``infer`` hook: :func:`predict` on ``inputs["image"]`` with ``options.top`` classes."""
    return predict(model, inputs["image"], top=options.get("top"))


def preprocessing(config: SACConfig) -> dict[str, Any]:
    """Image size, channels and normalisation that travel with the weights."""
    return {"image_size": config.image_size, "in_chans": config.in_chans, "mean": list(config.mean),
            "std": list(config.std), "resize_ratio": config.resize_ratio, "class_names": list(config.names)}


@torch.no_grad()
def predict(model: SACModel, images: torch.Tensor, top: int | None = None) -> dict[str, Any]:
    """Fused prediction for ``images`` ``[B, C, H, W]`` (normalised as the variant expects).

    Returns ``probs`` ``[B, N]`` (``alpha * Pr_1 + (1 - alpha) * Pr_2``), ``top_indices``/``top_probs``/``top_names``
    (the ``top`` best fused classes, default k), ``probs_first``/``probs_second``, ``candidates`` (``C_k`` of the 1st
    classifier), ``attention`` ``[B, m, n]`` (``M`` summed over the k candidates) and ``attention_per_class``
    ``[B, k, m, n]``.
    """
    config = model.config
    if images.shape[1] != config.in_chans:
        raise InputError(f"sac: input 'image' must have {config.in_chans} channels for this variant "
                         f"(shape (B, {config.in_chans}, H, W)), got {tuple(images.shape)}")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = model(images.to(device=device, dtype=torch.float32), return_attention=True)
    model.train(was_training)
    probs = model.probabilities(out)
    count = min(top or config.top_k, config.num_classes)
    top_probs, top_indices = probs.topk(count, dim=-1)
    names = model.class_names
    m, n = out.grid
    attention = out.attention  # [B, f, k]
    assert attention is not None
    return {
        "probs": probs,
        "top_indices": top_indices,
        "top_probs": top_probs,
        "top_names": [[names[i] for i in row] for row in top_indices.tolist()],
        "probs_first": out.logits1.softmax(-1),
        "probs_second": out.logits2.softmax(-1),
        "candidates": out.topk,
        "candidate_names": [[names[i] for i in row] for row in out.topk.tolist()],
        "attention": out.spatial_attention(),
        "attention_per_class": attention.transpose(1, 2).reshape(attention.shape[0], -1, m, n),
        "images": images.detach().cpu(),
    }


def load_image(path: str | Path, config: SACConfig) -> torch.Tensor:
    """One image file as a ``[1, C, S, S]`` tensor, resized to ``image_size`` and normalised like training."""
    from PIL import Image, UnidentifiedImageError

    from zoo_plugins.sac.data import build_transform

    file = Path(path)
    if not file.is_file():
        raise InputError(f"sac: image file {file} does not exist")
    try:
        with Image.open(file) as image:
            picture = image.convert("L" if config.in_chans == 1 else "RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise InputError(f"sac: cannot read image {file} ({exc})") from exc
    return build_transform(config, train=False)(picture).unsqueeze(0)


def prepare_inputs(config: SACConfig, options: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """``--image a.png [--image b.png]`` -> ``{"image": [B, C, S, S]}``."""
    given = options.get("image")
    if not given:
        raise InputError("sac: give an image file (--image path.png)")
    paths = [given] if isinstance(given, (str, Path)) else list(given)
    return {"image": torch.cat([load_image(p, config) for p in paths])}


def save_outputs(outputs: Mapping[str, Any], out_dir: str | Path) -> list[Path]:
    """``predictions.json`` and, per image, ``sac_attention_<i>.png``: the image, the attention map over it, and
    the per-candidate maps titled with the fused top-k classes."""
    import torch.nn.functional as F

    from zoo.viz.mpl import pyplot, save_png

    folder = Path(out_dir)
    written: list[Path] = []
    records = []
    for i, (names, probs) in enumerate(zip(outputs["top_names"], outputs["top_probs"].tolist())):
        records.append({"image": i, "top_k": [{"class": c, "probability": p} for c, p in zip(names, probs)],
                        "candidates_first_classifier": outputs["candidate_names"][i]})
    json_path = folder / "predictions.json"
    atomic_write_json(json_path, records)
    written.append(json_path)
    plt = pyplot()
    images = outputs["images"].float()
    for i in range(images.shape[0]):
        img = images[i]
        img = (img - img.min()) / (img.max() - img.min()).clamp_min(1e-12)
        size = tuple(img.shape[-2:])
        maps = outputs["attention_per_class"][i].float().cpu()
        whole = F.interpolate(outputs["attention"][i][None, None].float().cpu(), size=size, mode="bilinear",
                              align_corners=False)[0, 0]
        cols = 2 + maps.shape[0]
        fig, axes = plt.subplots(1, cols, figsize=(2.2 * cols, 2.6))
        show = img[0].numpy() if img.shape[0] == 1 else img.permute(1, 2, 0).numpy()
        cmap = "gray" if img.shape[0] == 1 else None
        axes[0].imshow(show, cmap=cmap)
        title = ", ".join(f"{c} {p:.2f}" for c, p in zip(outputs["top_names"][i][:3], outputs["top_probs"][i]))
        axes[0].set_title(title, fontsize=7)
        axes[1].imshow(show, cmap=cmap)
        axes[1].imshow(whole.numpy(), cmap="jet", alpha=0.5)
        axes[1].set_title("attention (sum over top-k)", fontsize=7)
        for j in range(maps.shape[0]):
            up = F.interpolate(maps[j][None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
            axes[2 + j].imshow(show, cmap=cmap)
            axes[2 + j].imshow(up.numpy(), cmap="jet", alpha=0.5)
            axes[2 + j].set_title(f"M for '{outputs['candidate_names'][i][j]}'", fontsize=7)
        for ax in axes:
            ax.axis("off")
        written.append(save_png(fig, folder / f"sac_attention_{i}.png"))
    return written
