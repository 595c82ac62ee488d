"""The model card (``README.md``) written next to saved weights: YAML front matter with an HF ``model-index`` of
the metrics measured, then the paper, training command, intended use, known deviations and provenance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Metrics = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class CardInfo:
    """Everything the card says beyond what the model itself knows."""

    method: str
    variant: str
    title: str = ""
    task: str = ""
    paper: str = ""
    license: str = ""
    metrics: Metrics = field(default_factory=dict)
    command: str = ""
    intended_use: str = ""
    deviations: str = ""
    repo_id: str | None = None
    config_sha256: str = ""
    code_version: str = ""
    weights_sha256: str = ""
    weights_size: int = 0
    training: Mapping[str, Any] = field(default_factory=dict)


def _hf_license(license_id: str) -> str:
    """The Hub's licence id (lower-case SPDX; ``other`` for custom ones)."""
    text = license_id.strip().lower()
    return "other" if not text or text.startswith("licenseref-") else text


def front_matter(info: CardInfo) -> str:
    """The YAML header: library, licence, tags and the ``model-index`` (one result per dataset and metric)."""
    from huggingface_hub import EvalResult, ModelCardData

    results = [
        EvalResult(
            task_type=info.task or "other",
            dataset_type=dataset,
            dataset_name=dataset,
            metric_type=metric,
            metric_value=float(value),
        )
        for dataset, values in sorted(info.metrics.items())
        for metric, value in sorted(values.items())
    ]
    data = ModelCardData(
        library_name="zoo",
        license=_hf_license(info.license),
        tags=["zoo", info.method, *([info.task] if info.task else [])],
        model_name=f"{info.method}-{info.variant}",
        eval_results=results or None,
    )
    extra = {"license_name": info.license} if _hf_license(info.license) == "other" and info.license else {}
    for key, value in extra.items():
        setattr(data, key, value)
    return data.to_yaml()


def plugin_deviations(method: str) -> str:
    """The 'deviations' section of the method's card (its plugin's ``README.md``; empty when there is none)."""
    from zoo import cards

    return cards.section(cards.read_card(method), "deviation")


def render(info: CardInfo) -> str:
    """The whole ``README.md``."""
    name = f"{info.method}-{info.variant}"
    load_ref = f"{info.repo_id}@<commit>" if info.repo_id else name
    lines = ["---", front_matter(info).rstrip(), "---", "", f"# {name}", ""]
    if info.title:
        lines += [info.title, ""]
    lines += [
        f"- **Method**: `{info.method}`, variant `{info.variant}`"
        + (f", task {info.task}" if info.task else ""),
        f"- **Paper**: {info.paper or 'not given'}",
        f"- **Licence**: {info.license or 'not given'}",
        "",
        "## Usage",
        "",
        "```python",
        "import zoo",
        f'loaded = zoo.load("{load_ref}")  # model + preprocessing + spec, verified',
        "outputs = loaded.infer(inputs)",
        "```",
        "",
        "## Intended use",
        "",
        info.intended_use
        or "Research and reproduction of the paper's results. Not evaluated for production use.",
        "",
        "## Training",
        "",
        f"`{info.command}`" if info.command else "Training command not recorded.",
        "",
        *(["Run as recorded in `config.json` (`training`): "
           + ", ".join(f"{k} {v}" for k, v in info.training.items() if k != "command"), ""]
          if info.training else []),
        "## Metrics (measured with zoo)",
        "",
    ]
    if info.metrics:
        lines += ["| dataset | metric | value |", "|---|---|---|"]
        lines += [
            f"| {d} | {m} | {v:.6g} |"
            for d, vals in sorted(info.metrics.items())
            for m, v in sorted(vals.items())
        ]
    else:
        lines.append("No metrics recorded for these weights.")
    lines += [
        "",
        "## Known deviations from the paper",
        "",
        info.deviations or "None recorded (see the plugin's README for the method card).",
        "",
        "## Provenance",
        "",
        f"- config sha256: `{info.config_sha256}`",
        f"- code version: `{info.code_version}`",
        f"- weights: `model.safetensors`, {info.weights_size} bytes, sha256 `{info.weights_sha256}`",
        "",
    ]
    return "\n".join(lines)


def card_fields(extra: Mapping[str, Any]) -> dict[str, Any]:
    """Keep only the keyword arguments :class:`CardInfo` knows (for ``save``/``push`` passthrough)."""
    allowed = {"command", "intended_use", "deviations", "title", "paper", "license", "task"}
    unknown = sorted(set(extra) - allowed)
    if unknown:
        from zoo.errors import ConfigError

        raise ConfigError(f"unknown model-card fields {unknown}; known: {sorted(allowed)}")
    return dict(extra)
