"""The demo pipeline: embedded hub, then train -> evaluate -> push -> pull by pinned revision -> infer per method,
and a report with one section per family.

The report (``report.html``, ``report.md``) opens with a results table (each metric with its direction and each
method linked to its card, copied into ``cards/``), a glossary of every metric shown, then per family and method:
what the method does, what it was run on, and captioned figures (training curves drawn from the recorded history,
real inputs next to what the model did, the plugin's own pictures).
"""
from __future__ import annotations

import fnmatch
import html
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zoo import constants
from zoo.demo.figures import Figure, history_figure
from zoo.demo.metrics import MetricInfo, describe
from zoo.demo.recipes import Recipe, all_recipes, select
from zoo.errors import ZooError
from zoo.io import atomic_write_json, atomic_write_text


@dataclass
class MethodResult:
    """What the demo did for one method (also the reuse record in ``state.json``)."""

    method: str
    variant: str
    data: str
    title: str
    family: str = ""
    summary: str = ""
    repo: str = ""
    revision: str = ""
    config_sha256: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    train_seconds: float = 0.0
    seconds: float = 0.0
    reload_identical: bool = False
    figures: list[dict[str, str]] = field(default_factory=list)
    card: str = ""
    note: str = ""
    reused: bool = False
    error: str = ""


#: Fields of a result kept in ``state.json`` for the next run to reuse.
_STATE_FIELDS = ("method", "variant", "data", "title", "family", "summary", "repo", "revision", "config_sha256",
                 "metrics", "steps", "train_seconds", "reload_identical")


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


def _seeded_infer(model: Any, inputs: Any, /, **options: Any) -> Any:
    import zoo
    from zoo.api import seeded

    with seeded(0):
        return zoo.infer(model, inputs, **options)


def _copy_card(method: str, out: Path) -> str:
    """Copy the method card into ``cards/`` beside the report; returns its relative link ("" if none)."""
    from zoo.cards import card_path

    path = card_path(method)
    if path is None or not path.is_file():
        return ""
    target = out / "cards" / f"{method}.md"
    atomic_write_text(target, path.read_text(encoding="utf-8"))
    return target.relative_to(out).as_posix()


def _train_or_reuse(recipe: Recipe, stage: Path, previous: dict[str, Any] | None, result: MethodResult,
                    console: Any) -> Any:
    """The trained model: pulled back by its pinned revision when an earlier run pushed the same config, else
    trained, evaluated, pushed and pulled back (checking the reloaded outputs are identical)."""
    import zoo
    from zoo.api import seeded
    from zoo.configs import config_sha256
    from zoo.inference import outputs_equal

    name = f"{recipe.method}-{recipe.variant}"
    cfg_sha = config_sha256(zoo.get_config(name))
    if previous and previous.get("revision") and previous.get("config_sha256") == cfg_sha:
        try:
            model = zoo.load(f"{result.repo}@{previous['revision']}", accept_license=recipe.accept_license).model
            for key in _STATE_FIELDS:
                if key in previous and key not in ("title", "family", "summary"):
                    setattr(result, key, previous[key])
            result.reused = True
            console.print(f"[green]reusing[/] {name} @ {previous['revision'][:10]} from the hub cache")
            return model
        except ZooError as exc:
            console.print(f"[yellow]cannot reuse {name} ({exc}); training again[/]")
    console.rule(f"[bold]{recipe.title}")
    fresh = zoo.build(name, seed=0)
    train_data = zoo.make_data(fresh, recipe.data, "train")
    test_data = zoo.make_data(fresh, recipe.data, "test")
    start = time.perf_counter()
    trained = zoo.train(fresh, train_data, steps=recipe.steps or None, out_dir=str(stage / "train"),
                        progress=True, seed=0)
    result.train_seconds = time.perf_counter() - start
    result.steps = int(getattr(trained, "steps", 0) or 0)
    with seeded(0):
        result.metrics = _scalar_metrics(zoo.evaluate(fresh, test_data, **recipe.eval_options))
    command = f"zoo train {recipe.method} --variant {recipe.variant} --data {recipe.data}" + (
        f" --steps {result.steps}" if result.steps else "") + " --seed 0"
    pushed = zoo.push(fresh, result.repo, metrics={recipe.data: result.metrics}, command=command,
                      training={"data": recipe.data, "seed": 0, "steps": result.steps, "command": command})
    result.revision, result.config_sha256 = pushed.commit, cfg_sha
    model = zoo.load(f"{result.repo}@{pushed.commit}", accept_license=recipe.accept_license).model
    example = zoo.example_inputs(fresh)
    result.reload_identical = outputs_equal(_seeded_infer(fresh, example), _seeded_infer(model, example))
    console.print(f"pushed {result.repo}@{pushed.commit[:10]}; reloaded outputs identical: {result.reload_identical}")
    return model


def _run_method(recipe: Recipe, stage: Path, out: Path, previous: dict[str, Any] | None,
                console: Any) -> MethodResult:
    """Train (or reuse), push, pull by pinned revision, run on real inputs and draw one method."""
    import zoo
    from zoo.discovery import plugins
    from zoo.options import route_options

    started = time.perf_counter()
    name = f"{recipe.method}-{recipe.variant}"
    result = MethodResult(recipe.method, recipe.variant, recipe.data, recipe.title, family=recipe.family,
                          summary=recipe.summary, repo=f"zoo-demo/{name}")
    if recipe.accept_license:
        console.print(f"[yellow]{name} is licensed {recipe.accept_license}; the demo accepts it for this "
                      "non-commercial demonstration (zoo.load(..., accept_license=...))[/]")
    model = _train_or_reuse(recipe, stage, previous, result, console)
    train_data = zoo.make_data(model, recipe.data, "train")
    test_data = zoo.make_data(model, recipe.data, "test")
    found = plugins()
    prepared = recipe.prepare(stage) if recipe.prepare else None
    given = {**recipe.options, **(prepared.options if prepared else {})}
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
    result.note = prepared.note if prepared else ""
    outputs = _seeded_infer(model, inputs, **infer_opts)
    figures: list[Figure] = []
    history = stage / "train" / "history.json"
    if history.is_file():
        drawn = history_figure(json.loads(history.read_text()), stage / "training.png", name)
        if drawn is not None:
            figures.append(drawn)
    if recipe.figures:
        figures.extend(recipe.figures(model, inputs, outputs, test_data, stage))
    if found.implements("zoo_save_outputs", recipe.method):
        written = found.call("zoo_save_outputs", recipe.method, outputs=outputs, out_dir=stage / "outputs",
                             config=model.zoo.config, options=save_opts)
        for path in written or []:
            caption = next((c for pattern, c in recipe.captions.items() if fnmatch.fnmatch(Path(path).name, pattern)),
                           None)
            if caption and Path(path).suffix.lower() in (".png", ".gif"):
                figures.append(Figure(Path(path), caption + (f" Music: {result.note}." if result.note else "")))
    result.figures = [{"path": str(f.path.resolve()), "caption": f.caption} for f in figures]
    result.card = _copy_card(recipe.method, out)
    result.seconds = time.perf_counter() - started
    return result


# ----------------------------------------------------------------------------------------------- the report


def _metric_cell(name: str, value: float, info: MetricInfo | None) -> str:
    arrow = f" {info.direction}" if info and info.direction != "·" else ""
    return f"{name}{arrow} {value:.4g}"


def _glossary(results: Sequence[MethodResult], recipes: dict[str, Recipe]) -> dict[str, MetricInfo | None]:
    seen: dict[str, MetricInfo | None] = {}
    for r in results:
        extra = recipes[r.method].metrics if r.method in recipes else {}
        for metric in sorted(r.metrics):
            seen.setdefault(metric, describe(metric, extra))
    return seen


def _rel(path: str, out: Path) -> str:
    p = Path(path)
    return p.relative_to(out.resolve()).as_posix() if p.is_relative_to(out.resolve()) else p.as_posix()


def write_report(out_dir: Path, results: Sequence[MethodResult], recipes: Sequence[Recipe], endpoint: str,
                 seconds: float) -> Path:
    """``report.md`` and ``report.html``: results table, metric glossary, one section per family."""
    import platform

    import torch

    from zoo import __version__

    by_method = {r.method: r for r in recipes}
    glossary = _glossary(results, by_method)
    header = (f"zoo {__version__}, torch {torch.__version__} ({torch.get_num_threads()} intra-op thread(s)), Python "
              f"{platform.python_version()}; embedded hub at {endpoint}; {len(results)} method(s) in {seconds:.0f} s.")
    rows = []
    for r in results:
        metrics = ", ".join(_metric_cell(k, v, glossary.get(k)) for k, v in sorted(r.metrics.items()))
        status = "error: " + r.error if r.error else ("yes" if r.reload_identical else "no")
        rows.append({"method": r.method, "card": r.card, "family": r.family, "data": r.data, "steps": str(r.steps),
                     "train": f"{r.train_seconds:.0f}" + (" (reused)" if r.reused else ""), "metrics": metrics,
                     "revision": f"{r.repo}@{r.revision[:12]}" if r.revision else "-", "identical": status})
    families: dict[str, list[MethodResult]] = {}
    for r in results:
        families.setdefault(r.family or "other", []).append(r)
    intro = ("Each method below was trained here with seed 0 on the data named, pushed to the embedded hub, pulled "
             "back by its pinned revision (\"reload identical\": the reloaded model gives the same outputs), then run "
             "on the inputs described. ↑ means higher is better, ↓ lower is better.")

    md = ["# zoo demo report", "", header, "", intro, "",
          "| method | family | data | steps | train s | metrics | hub revision | reload identical |",
          "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        link = f"[{row['method']}]({row['card']})" if row["card"] else row["method"]
        md.append(f"| {link} | {row['family']} | {row['data']} | {row['steps']} | {row['train']} | {row['metrics']} "
                  f"| `{row['revision']}` | {row['identical']} |")
    md += ["", "## Metrics", ""]
    for name, info in glossary.items():
        md.append(f"- **{name}** {info.direction}: {info.meaning}" if info else f"- **{name}**: (not described)")
    for family, members in families.items():
        md += ["", f"## {family.capitalize()}"]
        for r in members:
            md += ["", f"### {r.title}", ""]
            if r.summary:
                md.append(r.summary + (f" Card: [{r.card}]({r.card})." if r.card else ""))
            if r.note:
                md += ["", f"Input: {r.note}."]
            for fig in r.figures:
                md += ["", f"![{Path(fig['path']).name}]({_rel(fig['path'], out_dir)})", "", f"*{fig['caption']}*"]
    atomic_write_text(out_dir / "report.md", "\n".join(md) + "\n")

    e = html.escape
    page = ["<!doctype html><html><head><meta charset='utf-8'><title>zoo demo</title><style>",
            "body{font-family:sans-serif;max-width:1100px;margin:auto;line-height:1.4}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}figure{margin:12px 0}"
            "img{max-width:100%}figcaption{color:#333;font-size:0.92em;max-width:900px}code{font-size:0.9em}",
            "</style></head><body>", "<h1>zoo demo report</h1>", f"<p>{e(header)}</p>", f"<p>{e(intro)}</p>",
            "<table><tr><th>method</th><th>family</th><th>data</th><th>steps</th><th>train s</th><th>metrics</th>"
            "<th>hub revision</th><th>reload identical</th></tr>"]
    for row in rows:
        link = f"<a href='{e(row['card'])}'>{e(row['method'])}</a>" if row["card"] else e(row["method"])
        page.append(f"<tr><td>{link}</td><td>{e(row['family'])}</td><td>{e(row['data'])}</td><td>{e(row['steps'])}"
                    f"</td><td>{e(row['train'])}</td><td>{e(row['metrics'])}</td><td><code>{e(row['revision'])}"
                    f"</code></td><td>{e(row['identical'])}</td></tr>")
    page += ["</table>", "<h2>Metrics</h2>", "<ul>"]
    for name, info in glossary.items():
        page.append(f"<li><b>{e(name)}</b> {e(info.direction)}: {e(info.meaning)}</li>" if info
                    else f"<li><b>{e(name)}</b>: (not described)</li>")
    page.append("</ul>")
    for family, members in families.items():
        page.append(f"<h2>{e(family.capitalize())}</h2>")
        for r in members:
            page.append(f"<h3>{e(r.title)}</h3>")
            if r.summary:
                card = f" Card: <a href='{e(r.card)}'>{e(r.card)}</a>." if r.card else ""
                page.append(f"<p>{e(r.summary)}{card}</p>")
            if r.note:
                page.append(f"<p>Input: {e(r.note)}.</p>")
            for fig in r.figures:
                page.append(f"<figure><img src='{e(_rel(fig['path'], out_dir))}' alt='{e(Path(fig['path']).name)}'>"
                            f"<figcaption>{e(fig['caption'])}</figcaption></figure>")
    page.append("</body></html>")
    atomic_write_text(out_dir / "report.html", "\n".join(page))
    return out_dir / "report.md"


def run_demo(out_dir: Path | None = None, methods: Sequence[str] | None = None, *, fresh: bool = False,
             hub_root: Path | None = None, family: str | None = None, everything: bool = False) -> Path:
    """Run the demo and return the report path (``report.md``; ``report.html`` beside it).

    Args:
        out_dir: report folder (default ``ZOO_DEMO_DIR`` or ``./zoo-demo``).
        methods: run exactly these methods; ``family``: every method of one family; ``everything``: every recipe.
            Default: one representative per family.
        fresh: ignore what an earlier run left (train everything again).
        hub_root: the embedded hub's storage (default ``$ZOO_HOME/demo-hub``).
    """
    from rich.console import Console

    import zoo
    from zoo.hub.endpoint import use_hub
    from zoo.hub.server.config import HubConfig
    from zoo.hub.server.runner import serve_in_thread

    constants.apply_num_threads()
    console = Console()
    out = (out_dir or constants.demo_dir()).resolve()
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "state.json"
    state: dict[str, Any] = {} if fresh or not state_path.is_file() else json.loads(state_path.read_text())
    recipes = all_recipes(set(zoo.list_models(status="implemented")))
    chosen = select(recipes, methods=list(methods) if methods else None, family=family, everything=everything)
    root = hub_root or constants.zoo_home() / "demo-hub"
    token = _hub_token(root)
    hub = serve_in_thread(HubConfig(root=root, tokens={token: "zoo-demo"}), "127.0.0.1", 0)
    console.print(f"embedded hub: {hub.endpoint} (storage {root}); methods: {', '.join(r.method for r in chosen)}")
    results: list[MethodResult] = []
    start = time.perf_counter()
    try:
        with use_hub(hub.endpoint, token):
            for recipe in chosen:
                try:
                    result = _run_method(recipe, out / recipe.method, out, state.get(recipe.method), console)
                except ZooError as exc:
                    result = MethodResult(recipe.method, recipe.variant, recipe.data, recipe.title,
                                          family=recipe.family, summary=recipe.summary, error=str(exc))
                    console.print(f"[red]{recipe.method} failed:[/] {exc}")
                results.append(result)
                if not result.error:
                    state[recipe.method] = {k: v for k, v in asdict(result).items() if k in _STATE_FIELDS}
                    atomic_write_json(state_path, state)
    finally:
        hub.stop()
    report = write_report(out, results, chosen, hub.endpoint, time.perf_counter() - start)
    console.print(f"[bold green]report:[/] {report} (and {report.with_suffix('.html')})")
    return report


def list_recipes() -> list[tuple[str, str, bool]]:
    """``(family, method, representative)`` of every demo recipe, for ``zoo demo --list``."""
    import zoo

    recipes = all_recipes(set(zoo.list_models(status="implemented")))
    default = {r.method for r in select(recipes)}
    return [(r.family, r.method, r.method in default) for r in recipes]


__all__ = ["MethodResult", "list_recipes", "run_demo", "write_report"]
