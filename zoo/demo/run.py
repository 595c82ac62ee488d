"""The demo pipeline: embedded hub, then train -> evaluate -> push -> pull by pinned revision -> infer per method."""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo import constants
from zoo.io import atomic_write_json, atomic_write_text
from zoo.demo.recipes import RECIPES, Recipe
from zoo.errors import ZooError


@dataclass
class MethodResult:
    """What the demo did for one method (also the reuse record in ``state.json``)."""

    method: str
    variant: str
    data: str
    title: str
    repo: str = ""
    revision: str = ""
    config_sha256: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    train_seconds: float = 0.0
    reload_identical: bool = False
    figures: list[str] = field(default_factory=list)
    reused: bool = False
    error: str = ""


def _hub_token(root: Path) -> str:
    """The demo hub's write token, created once and kept beside its storage (mode 600)."""
    path = root / "demo-token"
    if path.is_file():
        return path.read_text().strip()
    root.mkdir(parents=True, exist_ok=True)
    token = "zoo-demo-" + secrets.token_hex(16)
    atomic_write_text(path, token)
    path.chmod(0o600)
    return token


def _scalar_metrics(metrics: Any) -> dict[str, float]:
    return {k: float(v) for k, v in dict(metrics).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _seeded_infer(model: Any, inputs: Any, **options: Any) -> Any:
    import torch

    import zoo

    torch.manual_seed(0)
    return zoo.infer(model, inputs, **options)


def _run_method(recipe: Recipe, stage: Path, previous: dict[str, Any] | None, console: Any) -> MethodResult:
    """Train (or reuse), push, pull by pinned revision, infer and draw one method."""
    import zoo
    from zoo.configs import config_sha256
    from zoo.discovery import plugins
    from zoo.inference import outputs_equal

    name = f"{recipe.method}-{recipe.variant}"
    result = MethodResult(recipe.method, recipe.variant, recipe.data, recipe.title, repo=f"zoo-demo/{name}")
    cfg_sha = config_sha256(zoo.get_config(name))
    if recipe.accept_license:
        console.print(f"[yellow]{name} is licensed {recipe.accept_license}; the demo accepts it for this "
                      "non-commercial demonstration (zoo.load(..., accept_license=...))[/]")
    model = None
    if previous and previous.get("revision") and previous.get("config_sha256") == cfg_sha:
        try:
            model = zoo.load(f"{result.repo}@{previous['revision']}", accept_license=recipe.accept_license).model
            result = MethodResult(**{**previous, "reused": True, "figures": []})
            console.print(f"[green]reusing[/] {name} @ {previous['revision'][:10]} from the hub cache")
        except ZooError as exc:
            console.print(f"[yellow]cannot reuse {name} ({exc}); training again[/]")
            model = None
    train_data = test_data = None
    if model is None:
        console.rule(f"[bold]{recipe.title}")
        fresh = zoo.build(name)
        train_data = zoo.make_data(fresh, recipe.data, "train")
        test_data = zoo.make_data(fresh, recipe.data, "test")
        start = time.perf_counter()
        trained = zoo.train(fresh, train_data, steps=recipe.steps or None, out_dir=str(stage / "train"),
                            progress=True, seed=0)
        result.train_seconds = time.perf_counter() - start
        result.steps = int(getattr(trained, "steps", 0) or 0)
        result.metrics = _scalar_metrics(zoo.evaluate(fresh, test_data, **recipe.eval_options))
        pushed = zoo.push(fresh, result.repo, metrics={recipe.data: result.metrics},
                          command=f"zoo train {name} --data {recipe.data}"
                                  + (f" --steps {recipe.steps}" if recipe.steps else ""))
        result.revision, result.config_sha256 = pushed.commit, cfg_sha
        model = zoo.load(f"{result.repo}@{pushed.commit}",  # pulled back by pinned revision
                         accept_license=recipe.accept_license).model
        example = zoo.example_inputs(fresh)
        result.reload_identical = outputs_equal(_seeded_infer(fresh, example), _seeded_infer(model, example))
        console.print(f"pushed {result.repo}@{pushed.commit[:10]}; reloaded outputs identical: "
                      f"{result.reload_identical}")
    if train_data is None:
        train_data = zoo.make_data(model, recipe.data, "train")
        test_data = zoo.make_data(model, recipe.data, "test")
    found = plugins()
    from zoo.options import route_options

    given = dict(recipe.options)
    computed = recipe.infer_options(model, train_data) if recipe.infer_options else {}
    spec = found.methods[recipe.method]
    prepare_opts, infer_opts, save_opts = route_options(spec, {**given, **computed},
                                                        ("prepare_inputs", "infer", "save_outputs"))
    if given and found.implements("zoo_prepare_inputs", recipe.method):
        inputs = found.call("zoo_prepare_inputs", recipe.method, config=model.zoo.config, options=prepare_opts)
    elif recipe.infer_inputs:
        inputs = recipe.infer_inputs(model, test_data)
    else:
        inputs = zoo.example_inputs(model)
    outputs = _seeded_infer(model, inputs, **infer_opts)
    figures = []
    curves, history = stage / "train" / "curves.png", stage / "train" / "history.json"
    if not curves.is_file() and history.is_file():  # engines that record a history but draw no curves (federated)
        from zoo.viz import training_curves

        numeric = {k: v for k, v in json.loads(history.read_text()).items()
                   if isinstance(v, list) and v and all(isinstance(x, (int, float)) for x in v)}
        if numeric:
            training_curves(numeric, curves, title=f"{name} training")
    if curves.is_file():
        figures.append(curves)
    if found.implements("zoo_save_outputs", recipe.method):
        written = found.call("zoo_save_outputs", recipe.method, outputs=outputs, out_dir=stage / "outputs",
                             config=model.zoo.config, options=save_opts)
        figures.extend(p for p in written or [] if Path(p).suffix.lower() in (".png", ".gif"))
    result.figures = [str(Path(f).resolve()) for f in figures]
    return result


def _write_report(out_dir: Path, results: Sequence[MethodResult], endpoint: str, seconds: float) -> Path:
    """``report.md`` and ``report.html`` with the results table and every figure."""
    import platform

    import torch

    from zoo import __version__

    lines = ["# zoo demo report", "",
             f"zoo {__version__}, torch {torch.__version__}, Python {platform.python_version()}; embedded hub at "
             f"{endpoint}; total {seconds:.0f} s.", "",
             "| method | variant | data | steps | train s | metrics | hub revision | reload identical |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in sorted(r.metrics.items()))
        rev = f"`{r.repo}@{r.revision[:12]}`" if r.revision else "-"
        status = "error: " + r.error if r.error else ("yes" if r.reload_identical else "no")
        lines.append(f"| {r.method} | {r.variant} | {r.data} | {r.steps} | {r.train_seconds:.0f}"
                     f"{' (reused)' if r.reused else ''} | {metrics} | {rev} | {status} |")
    for r in results:
        lines += ["", f"## {r.title}", ""]
        for fig in r.figures:
            rel = Path(fig).relative_to(out_dir.resolve()) if Path(fig).is_relative_to(out_dir.resolve()) else fig
            lines.append(f"![{Path(fig).name}]({rel})")
    markdown = "\n".join(lines) + "\n"
    atomic_write_text(out_dir / "report.md", markdown)
    html = ["<!doctype html><html><head><meta charset='utf-8'><title>zoo demo</title>",
            "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px}img{max-width:100%;margin:6px 0}</style></head><body>"]
    for line in lines:
        if line.startswith("# "):
            html.append(f"<h1>{line[2:]}</h1>")
        elif line.startswith("## "):
            html.append(f"<h2>{line[3:]}</h2>")
        elif line.startswith("|---"):
            continue
        elif line.startswith("|"):
            cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
            tag = "th" if line.startswith("| method") else "td"
            if tag == "th":
                html.append("<table>")
            html.append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
        elif line.startswith("!["):
            src = line[line.index("(") + 1:-1]
            html.append(f"<img src='{src}' alt='{Path(src).name}'>")
        elif line:
            html.append(f"<p>{line}</p>")
        elif html[-1].startswith("<tr>"):
            html.append("</table>")
    html.append("</table></body></html>" if html[-1].startswith("<tr>") else "</body></html>")
    atomic_write_text(out_dir / "report.html", "\n".join(html))
    return out_dir / "report.md"


def run_demo(out_dir: Path | None = None, methods: Sequence[str] | None = None, *, fresh: bool = False,
             hub_root: Path | None = None) -> Path:
    """Run the demo and return the report path (``report.md``; ``report.html`` beside it)."""
    from rich.console import Console

    import zoo
    from zoo.hub.endpoint import use_hub
    from zoo.hub.server.config import HubConfig
    from zoo.hub.server.runner import serve_in_thread

    console = Console()
    out = (out_dir or constants.demo_dir()).resolve()
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "state.json"
    state: dict[str, Any] = {} if fresh or not state_path.is_file() else json.loads(state_path.read_text())
    root = hub_root or constants.zoo_home() / "demo-hub"
    token = _hub_token(root)
    hub = serve_in_thread(HubConfig(root=root, tokens={token: "zoo-demo"}), "127.0.0.1", 0)
    console.print(f"embedded hub: {hub.endpoint} (storage {root})")
    available = set(zoo.list_models(status="implemented"))
    chosen = [r for r in RECIPES if r.method in available and (not methods or r.method in methods)]
    skipped = [r.method for r in RECIPES if r.method not in available]
    if skipped:
        console.print(f"[yellow]not installed, skipped:[/] {', '.join(skipped)}")
    results: list[MethodResult] = []
    start = time.perf_counter()
    try:
        with use_hub(hub.endpoint, token):
            for recipe in chosen:
                try:
                    result = _run_method(recipe, out / recipe.method, state.get(recipe.method), console)
                except ZooError as exc:
                    result = MethodResult(recipe.method, recipe.variant, recipe.data, recipe.title, error=str(exc))
                    console.print(f"[red]{recipe.method} failed:[/] {exc}")
                results.append(result)
                if not result.error:
                    state[recipe.method] = {k: v for k, v in result.__dict__.items() if k not in ("figures", "reused")}
                    atomic_write_json(state_path, state)
    finally:
        hub.stop()
    report = _write_report(out, results, hub.endpoint, time.perf_counter() - start)
    console.print(f"[bold green]report:[/] {report} (and {report.with_suffix('.html')})")
    return report
