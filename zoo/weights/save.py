"""``zoo.save``: a model folder with ``config.json``, ``model.safetensors`` (with provenance metadata) and a
generated ``README.md`` model card. The same folder is what ``zoo.push`` uploads and ``zoo.load`` reads.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.io import atomic_write_bytes, atomic_write_json, atomic_write_text
from zoo.configs import config_sha256, config_to_dict
from zoo.errors import WeightsError
from zoo.weights import card as cards
from zoo.weights.records import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE
from zoo.weights.statedict import ALIASES_KEY, export_state_dict

#: ``config.json`` format version.
CONFIG_FORMAT = 1


@dataclass(frozen=True)
class Saved:
    """What ``zoo.save`` wrote: the folder and the weights' digest, size and config digest."""

    path: Path
    sha256: str
    size: int
    config_sha256: str
    method: str
    variant: str
    license: str


def code_version(method: str) -> str:
    """``zoo <version>; <plugin distribution> <version>``: the code that produced the weights."""
    from zoo import __version__, discovery

    found = discovery.plugins()
    owner = found.owners.get(method)
    plugin = found.plugins.get(owner) if owner else None
    parts = [f"zoo {__version__}"]
    if plugin is not None:
        parts.append(f"{plugin.dist} {plugin.version}".strip())
    return "; ".join(parts)


def preprocessing_of(method: str, config: Any) -> dict[str, Any]:
    """The plugin's ``zoo_preprocessing`` parameters (empty when the plugin has none); must be JSON-able."""
    from zoo import discovery

    found = discovery.plugins()
    if not found.implements("zoo_preprocessing", method):
        return {}
    value = found.call("zoo_preprocessing", method, config=config)
    data = dict(value or {})
    try:
        json.dumps(data)
    except TypeError as exc:
        raise WeightsError(f"zoo_preprocessing of {method!r} must return JSON-able values: {exc}") from exc
    return data


def safetensors_metadata(
    method: str, variant: str, config: Any, aliases: Mapping[str, str]
) -> dict[str, str]:
    """The ``__metadata__`` strings written into ``model.safetensors``."""
    from zoo import __version__

    meta = {
        "format": "pt",
        "zoo.version": __version__,
        "zoo.method": method,
        "zoo.variant": variant,
        "zoo.config_sha256": config_sha256(config),
        "zoo.code_version": code_version(method),
    }
    if aliases:
        meta[ALIASES_KEY] = json.dumps(dict(aliases), sort_keys=True)
    return meta


def canonical_safetensors(payload: bytes) -> bytes:
    """Rewrite a safetensors header in a canonical order (``__metadata__`` first with sorted keys, tensors by offset).

    ``safetensors`` writes its metadata map in hash order, which changes from one process to the next, so the same
    weights would get a different sha256 each time they are saved. Data offsets are relative to the end of the
    header, so only the header is rewritten (padded with spaces to 8 bytes, as safetensors does).
    """
    (length,) = struct.unpack("<Q", payload[:8])
    header = json.loads(payload[8 : 8 + length])
    metadata = header.pop("__metadata__", None)
    ordered: dict[str, Any] = {}
    if metadata:
        ordered["__metadata__"] = dict(sorted(metadata.items()))
    ordered.update(sorted(header.items(), key=lambda item: (item[1]["data_offsets"], item[0])))
    text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + payload[8 + length :]


def save(
    model: Any,
    directory: str | Path,
    *,
    metrics: Mapping[str, Mapping[str, float]] | None = None,
    repo_id: str | None = None,
    training: Mapping[str, Any] | None = None,
    **card: Any,
) -> Saved:
    """Write ``model`` (built by ``zoo.build``/``zoo.load``) to ``directory``.

    Args:
        model: a model carrying ``model.zoo`` (method, variant, config), or a :class:`~zoo.weights.Loaded`.
        directory: the folder to write (created; other files in it are left alone).
        metrics: ``{dataset: {metric: value}}`` measured for these weights (goes into the card's model-index).
        repo_id: the hub repo the folder is meant for (only used in the card's usage snippet).
        training: the run that produced the weights as it actually ran (``steps``, ``seed``, ``data``,
            ``command``): recorded in ``config.json`` under ``"training"`` and shown in the card.
        **card: model-card fields: ``command`` (training command), ``intended_use``, ``deviations`` (default: the
            plugin README's deviations section), ``license``/``paper``/``title``/``task`` (default: the spec's).

    Returns:
        :class:`Saved` with the weights' sha256 and size (what a registry record or lock entry needs).
    """
    import safetensors.torch

    from zoo.api import spec_of, tag_of

    extra = cards.card_fields(card)
    model = getattr(model, "model", model)  # a Loaded bundle saves its model
    tag = tag_of(model)
    spec = spec_of(model)
    target = Path(directory)
    tensors, aliases = export_state_dict(model)
    payload = canonical_safetensors(
        safetensors.torch.save(
            tensors, metadata=safetensors_metadata(tag.method, tag.variant, tag.config, aliases)
        )
    )
    digest = hashlib.sha256(payload).hexdigest()
    atomic_write_bytes(target / WEIGHTS_FILE, payload)
    license_id = extra.pop("license", None) or spec.license
    cfg_digest = config_sha256(tag.config)
    config_cls = type(tag.config)
    from zoo import __version__

    atomic_write_json(
        target / CONFIG_FILE,
        {
            "format": CONFIG_FORMAT,
            "zoo_version": __version__,
            "method": tag.method,
            "variant": tag.variant,
            "config": config_to_dict(tag.config),
            "config_class": f"{config_cls.__module__}:{config_cls.__qualname__}",
            "config_sha256": cfg_digest,
            "license": license_id,
            "paper": extra.get("paper") or spec.paper,
            "preprocessing": preprocessing_of(tag.method, tag.config),
            "code_version": code_version(tag.method),
            "weights": {"file": WEIGHTS_FILE, "sha256": digest, "size": len(payload)},
            **({"training": dict(training)} if training else {}),
        },
    )
    info = cards.CardInfo(
        method=tag.method,
        variant=tag.variant,
        title=extra.get("title") or spec.title,
        task=extra.get("task") or spec.task,
        paper=extra.get("paper") or spec.paper,
        license=license_id,
        metrics=dict(metrics or {}),
        command=extra.get("command", "") or str((training or {}).get("command", "")),
        training=dict(training or {}),
        intended_use=extra.get("intended_use", ""),
        deviations=extra.get("deviations") or cards.plugin_deviations(tag.method),
        repo_id=repo_id,
        config_sha256=cfg_digest,
        code_version=code_version(tag.method),
        weights_sha256=digest,
        weights_size=len(payload),
    )
    atomic_write_text(target / CARD_FILE, cards.render(info))
    return Saved(target, digest, len(payload), cfg_digest, tag.method, tag.variant, license_id)
