"""CFOR inference: detect, classify coarse to fine, and (with an index) retrieve; plus the result picture."""
from __future__ import annotations

from collections.abc import Mapping

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from zoo.errors import DataError, InputError
from zoo_plugins.cfor.index import CFORIndex
from zoo_plugins.cfor.model import CFORModel
from zoo_plugins.cfor.search import coarse_to_fine


def crop_objects(model: CFORModel, images: torch.Tensor, boxes: torch.Tensor | None = None) -> tuple[torch.Tensor,
                                                                                                     torch.Tensor]:
    """Crop each image to its object box (given, detected, or the whole image) at the model's input size.

    Returns the crops (B, 3, S, S) and the normalised boxes (B, 4) as (cx, cy, w, h).
    """
    size = model.config.image_size
    b = images.shape[0]
    if boxes is None:
        if model.detector is not None:
            with torch.no_grad():
                boxes = model.detector(F.interpolate(images, size=(size, size), mode="bilinear",
                                                     align_corners=False))
        else:
            boxes = torch.tensor([[0.5, 0.5, 1.0, 1.0]]).expand(b, 4)
    crops = []
    h, w = images.shape[-2:]
    for img, (cx, cy, bw, bh) in zip(images, boxes.tolist()):
        x1, x2 = int(max(0, (cx - bw / 2) * w)), int(min(w, (cx + bw / 2) * w))
        y1, y2 = int(max(0, (cy - bh / 2) * h)), int(min(h, (cy + bh / 2) * h))
        if x2 - x1 < 2 or y2 - y1 < 2:  # degenerate box: fall back to the whole image
            x1, y1, x2, y2 = 0, 0, w, h
        crops.append(F.interpolate(img[None, :, y1:y2, x1:x2], size=(size, size), mode="bilinear",
                                   align_corners=False)[0])
    return torch.stack(crops), boxes


def load_index(path: str | Path) -> tuple[CFORIndex, Any]:
    """An index folder written by ``zoo index build`` and the model that built it (its ``model/`` folder)."""
    import zoo

    folder = Path(path)
    index = CFORIndex.load(folder / "index")
    model_dir = folder / "model"
    if not model_dir.is_dir():
        raise DataError(f"missing {model_dir}: an index folder carries the model that computed its descriptors")
    return index, zoo.load(str(model_dir)).model


def infer(model: CFORModel, inputs: Mapping[str, torch.Tensor], options: Mapping[str, Any]) -> dict[str, Any]:
    """Per image: box, region, category, attributes (names), the descriptor and the network that computed it
    (``descriptor_space``), and, with ``options['index']``, the top-k hits.

    A leaf chosen by the user (``region``/``category`` options) is searched with a descriptor computed by that
    leaf's region's network, so the query and the leaf's items are comparable.
    """
    images = inputs["image"]
    index: CFORIndex | None = options.get("index")
    if isinstance(options.get("index"), (str, Path)):
        index, model = load_index(options["index"])
    boxes = options.get("boxes")
    if boxes is not None:
        boxes = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        if len(boxes) != len(images):
            raise InputError(f"cfor: {len(boxes)} boxes for {len(images)} images (one (cx, cy, w, h) box each)")
    model.eval()
    crops, boxes = crop_objects(model, images, boxes)
    with torch.no_grad():
        pred = model.predict(crops)
    onto = model.ontology
    k = int(options.get("k") or 10)
    objects = []
    for i in range(len(images)):
        category = onto.categories[int(pred["category"][i])]
        bits = pred["attributes"][i].numpy()
        chosen = options.get("category")
        leaf = (options.get("region") or onto.region_of(chosen or category), chosen or category)
        if leaf not in onto.leaves:
            raise InputError(f"cfor: ({leaf[0]}, {leaf[1]}) is not a leaf of ontology {onto.name or onto.object!r}")
        descriptor, space = pred["descriptor"][i], pred["descriptor_space"][i]
        if space != f"category/{leaf[0]}":  # the user's leaf belongs to another region's network
            with torch.no_grad():
                descriptor = model.descriptor(model._resize(crops[i:i + 1], model.config.image_size), leaf[0])[0]
            space = f"category/{leaf[0]}"
        obj: dict[str, Any] = {
            "box": [float(v) for v in boxes[i]],
            "region": onto.region_names[int(pred["region"][i])],
            "category": category,
            "category_score": float(pred["category_prob"][i].max()),
            "attributes": [a for a, bit in zip(onto.attributes, bits) if bit],
            "descriptor": descriptor,
            "descriptor_space": space,
        }
        if index is not None:
            hits = coarse_to_fine(index, leaf, descriptor.numpy(), bits, k=k, m=model.config.first_stage,
                                  attr_weight=model.config.attr_weight,
                                  expansion=int(options.get("expansion") or model.config.expansion), space=space)
            obj["hits"] = [{"id": h.id, "score": h.score, **index.meta.get(h.id, {})} for h in hits]
        objects.append(obj)
    return {"objects": objects, "crops": crops}


def _hit_image(hit: dict[str, Any], database: Any, size: tuple[int, int]) -> torch.Tensor | None:
    """The picture of a hit: from the in-memory ``database`` dataset, else from its ``path`` metadata."""
    if database is not None and 0 <= hit["id"] < len(database):
        item = database[hit["id"]]
        image = item["image"] if isinstance(item, dict) else item[0]
        return F.interpolate(image[None], size=size, mode="bilinear", align_corners=False)[0]
    path = hit.get("path")
    if path and Path(path).is_file():
        from PIL import Image

        with Image.open(path) as img:
            arr = np.asarray(img.convert("RGB").resize(size[::-1]), dtype=np.float32) / 255
        return torch.from_numpy(arr).permute(2, 0, 1)
    return None


def save_outputs_hook(outputs: dict[str, Any], out_dir: Path, options: Mapping[str, Any]) -> list[Path]:
    """The ``save_outputs`` hook: :func:`save_outputs` with hit pictures from ``options.database`` if given."""
    return save_outputs(outputs, Path(out_dir), options.get("database"))


def save_outputs(outputs: dict[str, Any], out_dir: Path, database: Any = None) -> list[Path]:
    """Write ``results.json`` and a picture of each query with its retrieved images.

    Hit images come from ``database`` (the indexed dataset, when it is in memory) or the hits' ``path``.
    """
    import json

    from zoo.io import atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [{k: v for k, v in obj.items() if k != "descriptor"} for obj in outputs["objects"]]
    written = [out_dir / "results.json"]
    atomic_write_text(written[0], json.dumps(rows, indent=2))
    from zoo.viz import image_grid

    for i, obj in enumerate(outputs["objects"]):
        tiles = [outputs["crops"][i]]
        titles = [f"query: {obj['category']}"]
        for hit in obj.get("hits", []):
            tile = _hit_image(hit, database, tuple(tiles[0].shape[-2:]))
            if tile is not None:
                tiles.append(tile)
                titles.append(f"#{len(tiles) - 1} s={hit['score']:.2f}")
        written.append(image_grid(torch.stack(tiles), out_dir / f"retrieval_{i}.png", captions=titles,
                                  nrow=len(tiles), normalize=False, title="CFOR coarse-to-fine retrieval"))
    return written
