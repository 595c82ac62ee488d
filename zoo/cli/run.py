"""``zoo train``, ``zoo eval`` and ``zoo infer``: a method's lifecycle from the command line.

::

    zoo train protonet --variant tiny --data digits --steps 200 --out runs/protonet
    zoo eval protonet sac --data synthetic --weights runs/           # one table, one row per model
    zoo infer driving --weights runs/fadnet --out preds --image road.png

``train`` builds the model, makes the data (``synthetic``, a bundled set such as ``digits``, or a dataset
folder), runs the plugin's ``zoo_train`` (normally the shared trainer: progress bar, checkpoints,
``history.json``, ``curves.png``), saves the model folder (``zoo.save``: ``config.json``,
``model.safetensors``, ``README.md``) in ``--out`` and evaluates it on the test split. The same ``--seed`` gives
bitwise-identical weights and metrics on the same machine (it seeds initialisation and the data order). ``infer``
turns ``--key value`` options into inputs through the plugin's ``zoo_prepare_inputs`` hook (falling back to the
method's example inputs), runs ``zoo.infer``, prints the outputs as a table (``--json`` for machines) and writes
them with ``zoo_save_outputs`` when ``--out`` is given.

``eval`` and ``infer`` never run on random weights silently: they take ``--weights`` (a model folder, a released
name such as ``sac-tiny.digits`` or ``org/repo@commit``), a released name as NAME, or ``--random-weights``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo.errors import ConfigError


WEIGHTS_HELP = ("trained weights: a model folder (zoo train --out), a folder of them by name, a released name "
                "(sac-tiny.digits) or org/repo@commit")
RANDOM_HELP = "run on randomly initialised weights (seed 0), on purpose"
#: What a ``zoo train --out`` folder holds; another run into it needs --resume or --overwrite.
RUN_FILES = ("config.json", "model.safetensors", "README.md", "history.json", "curves.png", "metrics.json")


def register(subparsers: Any) -> None:
    """Add the ``train``, ``eval`` and ``infer`` commands."""
    t = subparsers.add_parser("train", help="train a model and write checkpoints, curves and weights")
    t.add_argument("name", help="method or method-variant (e.g. protonet, sac-tiny)")
    t.add_argument("--variant", help="variant (default: the one in NAME, else the method's default)")
    t.add_argument(
        "--data", default="synthetic", help="synthetic, a bundled set (digits) or a dataset folder"
    )
    t.add_argument("--steps", type=int, help="optimizer steps (default: the variant's recipe)")
    t.add_argument(
        "--out", required=True, help="output folder (checkpoints, history.json, curves.png, weights)"
    )
    t.add_argument("--seed", type=int, default=0,
                   help="seeds initialisation and data order: the same seed gives the same weights (default 0)")
    t.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    t.add_argument("--overwrite", action="store_true", help="replace a run already in --out")
    t.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    t.add_argument(
        "--checkpoint-every", type=int, help="steps between checkpoints (default: only at the end)"
    )
    t.add_argument("--eval-every", type=int, help="steps between evaluations")
    t.add_argument("--log-every", type=int, default=10, help="steps between progress-bar refreshes")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    t.add_argument("--no-eval", action="store_true", help="skip the evaluation on the test split")
    t.set_defaults(handler=_train)

    e = subparsers.add_parser("eval", help="evaluate one or several models and print one table")
    e.add_argument("names", nargs="+", help="methods or method-variants")
    e.add_argument("--variant", help="variant for names that do not carry one")
    e.add_argument(
        "--data", default="synthetic", help="synthetic, a bundled set (digits) or a dataset folder"
    )
    e.add_argument("--split", default="test")
    e.add_argument("--weights", help=WEIGHTS_HELP)
    e.add_argument("--random-weights", action="store_true", help=RANDOM_HELP)
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")
    e.add_argument("--accept-license", help="accept a non-commercial or gated licence (SPDX id) of the weights")
    e.set_defaults(handler=_eval)

    i = subparsers.add_parser(
        "infer",
        help="run inference; extra --key value options go to the plugin",
        epilog="Any further --key value pairs are passed to the plugin's zoo_prepare_inputs "
        "hook and to zoo.infer (e.g. --image road.png --top-k 5).",
    )
    i.add_argument("name", help="method or method-variant")
    i.add_argument("--variant")
    i.add_argument("--weights", help=WEIGHTS_HELP)
    i.add_argument("--random-weights", action="store_true", help=RANDOM_HELP)
    i.add_argument("--out", help="folder for the outputs (zoo_save_outputs)")
    i.add_argument("--json", action="store_true", help="print the outputs as JSON instead of a table")
    i.add_argument("--accept-license", help="accept a non-commercial or gated licence (SPDX id) of the weights")
    i.add_argument("options", nargs=argparse.REMAINDER, help="--key value pairs for the plugin")
    i.set_defaults(handler=_infer)


# ----------------------------------------------------------------------------------------------- helpers


def model_name(name: str, variant: str | None) -> str:
    """``method-variant[.tag]`` from a NAME and an optional ``--variant`` (a released tag is kept)."""
    from zoo import registry

    resolved = registry.resolve(name)
    tag = f".{resolved.name.tag}" if resolved.name.tag else ""
    return f"{resolved.spec.name}-{variant or resolved.variant.name}{tag}"


def parse_options(tokens: Sequence[str]) -> dict[str, Any]:
    """``--key value`` / ``--key=value`` / ``--flag`` tokens as a dict (``-`` -> ``_``).

    Values stay strings: :func:`split_options` types them with the kinds the method declares. A key given twice
    (``--image a.png --image b.png``) collects a list.
    """
    options: dict[str, Any] = {}
    items = [t for t in tokens if t != "--"]
    i = 0
    while i < len(items):
        token = items[i]
        short = len(token) == 2 and token[0] == "-" and token[1].isalpha()  # -k 10 is --k 10
        if not (token.startswith("--") and len(token) > 2) and not short:
            raise ConfigError(f"expected --key value options, got {token!r}")
        key, eq, value = token.lstrip("-").partition("=")
        key = key.replace("-", "_")
        if not eq:
            if i + 1 < len(items) and not items[i + 1].startswith("--"):
                value = items[i + 1]
                i += 1
            else:
                options[key] = True
                i += 1
                continue
        if key in options:
            previous = options[key]
            options[key] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            options[key] = value
        i += 1
    return options


def load_model(
    name: str,
    weights: str | None,
    accept_license: str | None = None,
    *,
    random_weights: bool = False,
    explicit_variant: bool = True,
) -> tuple[Any, str]:
    """The model to evaluate or run and the label it is reported under.

    ``weights``: a model folder, a folder holding one per name (``runs/`` with ``runs/sac-tiny``), a released
    name or a hub reference. Without it, NAME must be a released name (``sac-tiny.digits``) or
    ``random_weights`` must be set. A folder whose weights are of another variant than an explicitly named one is
    refused; without an explicit variant, the variant the weights record is used and named in the label.

    Raises:
        ConfigError: no weights and no ``random_weights``, or weights of another variant than the one named.
    """
    import zoo
    from zoo import registry

    parsed = registry.parse(name)
    resolved = registry.resolve(name)
    base = f"{resolved.spec.name}-{resolved.variant.name}"
    if random_weights:
        if weights or parsed.tag:
            raise ConfigError("--random-weights and trained weights (--weights or a released name) exclude each other")
        print(f"zoo: warning: {base} runs on RANDOM weights (--random-weights): its outputs and metrics are those "
              "of an untrained model", file=sys.stderr)
        return zoo.build(base, seed=0), f"{base} (random weights)"
    if not weights:
        if parsed.tag:
            loaded = zoo.load(name, accept_license=accept_license)
            return loaded.model, f"{base}.{parsed.tag}"
        raise ConfigError(f"{base}: no weights given. " + _weights_hint(resolved.spec.name, resolved.variant.name))
    root = Path(weights)
    target: str = weights
    if root.is_dir():
        method = resolved.spec.name
        found = next((c for c in (root / base, root / name, root / method, root) if (c / "config.json").is_file()),
                     None)
        if found is None:
            raise ConfigError(
                f"no model folder for {name!r} under {root}: expected {root}/config.json, "
                f"{root / base}/config.json or {root / method}/config.json (written by `zoo train --out`)"
            )
        target = str(found)
    loaded = zoo.load(target, accept_license=accept_license)
    tag = loaded.model.zoo
    if tag.method != resolved.spec.name:
        raise ConfigError(f"{weights} holds weights of {tag.method!r}, not {resolved.spec.name!r}")
    if tag.variant != resolved.variant.name and explicit_variant:
        raise ConfigError(
            f"{weights} holds {tag.method}-{tag.variant} weights, not {base}: name it {tag.method}-{tag.variant} "
            f"(or just {tag.method}) to use them"
        )
    return loaded.model, f"{tag.method}-{tag.variant}"


def _weights_hint(method: str, variant: str) -> str:
    """What to pass instead: the released weights of the method, a folder, or --random-weights."""
    from zoo import registry

    entry = registry.resolve(method).entry
    released = [f"{method}-{w.variant}.{w.tag}" for w in (entry.weights if entry else ()) if w.variant == variant]
    hint = "Pass --weights FOLDER (from `zoo train --out`)"
    if released:
        hint += f", use released weights ({', '.join(released)})"
    return hint + ", or --random-weights to run an untrained model on purpose."


def has_explicit_variant(name: str, variant: str | None) -> bool:
    """Whether the user named a variant (``sac-tiny`` or ``--variant tiny``), not just the method."""
    from zoo import registry

    return bool(variant) or registry.parse(name).variant is not None


def format_table(rows: Mapping[str, Mapping[str, Any]]) -> str:
    """A plain-text table: one row per model, one column per metric (union over models, ``-`` when absent)."""
    from zoo.cli._format import fmt, text_table

    columns: list[str] = []
    for metrics in rows.values():
        columns.extend(c for c in metrics if c not in columns)
    body = [[name, *(fmt(m[c]) if c in m else "-" for c in columns)] for name, m in rows.items()]
    return text_table(["model", *columns], body)


def _plain_metrics(values: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in values.items():
        try:
            out[str(k)] = float(v)
        except (TypeError, ValueError):
            continue
    return out


# ----------------------------------------------------------------------------------------------- handlers


def prepare_out(out: Path, *, resume: bool, overwrite: bool) -> None:
    """Check ``--out`` before training: a folder holding a run needs ``--resume`` or ``--overwrite``.

    ``--overwrite`` removes the previous run's files and checkpoints; ``--resume`` says which checkpoint it
    continues from (or that there is none, so training starts at step 0).
    """
    import shutil

    from zoo.engines.checkpoint import list_checkpoints

    if resume and overwrite:
        raise ConfigError("--resume continues the run in --out and --overwrite replaces it: choose one")
    previous = [n for n in RUN_FILES if (out / n).exists()] + (["checkpoints/"] if (out / "checkpoints").is_dir()
                                                                else [])
    if resume:
        found = list_checkpoints(out / "checkpoints")
        if found:
            step, folder = found[-1]
            print(f"resuming {out} from its checkpoint at step {step} ({folder})", file=sys.stderr)
        else:
            print(f"zoo: warning: --resume: no checkpoint in {out / 'checkpoints'}; training from step 0",
                  file=sys.stderr)
        return
    if previous and not overwrite:
        raise ConfigError(
            f"{out} already holds a run ({', '.join(previous)}): pass --resume to continue it, --overwrite to "
            "replace it, or choose another --out"
        )
    if previous:
        print(f"--overwrite: removing the previous run in {out} ({', '.join(previous)})", file=sys.stderr)
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "checkpoints", ignore_errors=True)


def train_command(args: argparse.Namespace, name: str, steps: int | None) -> str:
    """The ``zoo train`` command that reproduces this run (the steps actually run, the seed, the data)."""
    from zoo import registry

    resolved = registry.resolve(name)
    parts = ["zoo train", resolved.spec.name, "--variant", resolved.variant.name, "--data", args.data]
    if steps:
        parts += ["--steps", str(steps)]
    parts += ["--seed", str(args.seed)]
    return " ".join(parts)


def _train(args: argparse.Namespace) -> int:
    import zoo
    from zoo import discovery
    from zoo.options import TrainOptions

    name = model_name(args.name, args.variant)
    out = Path(args.out)
    prepare_out(out, resume=args.resume, overwrite=args.overwrite)
    model = zoo.build(name, seed=args.seed)
    data = zoo.make_data(model, args.data, "train")
    options = TrainOptions(
        steps=args.steps,
        out_dir=str(out),
        seed=args.seed,
        device=args.device,
        resume=args.resume,
        progress=not args.no_progress,
        log_every=args.log_every,
        checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every,
    )
    result = zoo.train(model, data, options=options)
    from zoo import constants

    if constants.dist_rank() != 0:  # under torchrun only rank 0 evaluates and writes the model folder
        return 0
    history = dict(
        getattr(result, "history", None) or (result.get("history", {}) if isinstance(result, Mapping) else {})
    )
    if history and not (out / "curves.png").is_file():  # a plugin with its own loop: still write the outputs
        from zoo.io import atomic_write_json
        from zoo.viz import training_curves

        atomic_write_json(out / "history.json", history)
        training_curves(history, out / "curves.png", title=name)
    metrics = _plain_metrics(
        getattr(result, "metrics", None) or (result.get("metrics", {}) if isinstance(result, Mapping) else {})
    )
    if not args.no_eval and discovery.plugins().implements("zoo_evaluate", model.zoo.method):
        from zoo.api import seeded

        test = zoo.make_data(model, args.data, "test")
        with seeded(args.seed):  # an evaluation that samples (diffusion, dropout at test time) repeats too
            metrics.update({f"test_{k}": v for k, v in _plain_metrics(zoo.evaluate(model, test)).items()})
    steps = _steps_run(result, args.steps)
    command = train_command(args, name, steps)
    training = {"data": args.data, "seed": args.seed, "steps": steps, "command": command}
    zoo.save(model.to("cpu"), out, metrics={args.data: metrics} if metrics else None, command=command,
             training=training)
    from zoo.io import atomic_write_json

    atomic_write_json(out / "metrics.json", metrics)
    print(format_table({name: metrics}))
    written = sorted(
        p.name + ("/" if p.is_dir() else "") for p in out.iterdir() if not p.name.startswith(".")
    )
    print(f"wrote {out}/: {', '.join(written)}")
    return 0


def _steps_run(result: Any, asked: int | None) -> int | None:
    """The optimizer steps the run reached (the trainer's count), else what was asked."""
    reached = getattr(result, "steps", None)
    if reached is None and isinstance(result, Mapping):
        reached = result.get("steps")
    try:
        return int(reached) if reached is not None else asked
    except (TypeError, ValueError):
        return asked


def _eval(args: argparse.Namespace) -> int:
    import zoo
    from zoo.api import seeded

    rows: dict[str, dict[str, float]] = {}
    for raw in args.names:
        name = model_name(raw, args.variant)
        model, label = load_model(name, args.weights, args.accept_license, random_weights=args.random_weights,
                                  explicit_variant=has_explicit_variant(raw, args.variant))
        data = zoo.make_data(model, args.data, args.split)
        with seeded(0):
            rows[label] = _plain_metrics(zoo.evaluate(model, data))
    print(json.dumps(rows, indent=2, sort_keys=True) if args.json else format_table(rows))
    return 0


def _infer(args: argparse.Namespace) -> int:
    import zoo
    from zoo import discovery

    # argparse's REMAINDER also swallows known flags that come after NAME: pick them out again
    known = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for flag in ("--variant", "--weights", "--out", "--accept-license"):
        known.add_argument(flag, default=getattr(args, flag[2:].replace("-", "_")))
    for flag in ("--random-weights", "--json"):
        known.add_argument(flag, action="store_true", default=getattr(args, flag[2:].replace("-", "_")))
    own, rest = known.parse_known_args(args.options)
    args.variant, args.weights, args.out = own.variant, own.weights, own.out
    args.accept_license, args.random_weights, args.json = own.accept_license, own.random_weights, own.json
    name = model_name(args.name, args.variant)
    given = parse_options(rest)
    model, label = load_model(name, args.weights, args.accept_license, random_weights=args.random_weights,
                              explicit_variant=has_explicit_variant(args.name, args.variant))
    tag = model.zoo
    found = discovery.plugins()
    spec = found.methods[tag.method]
    from zoo.options import route_options

    routed = route_options(spec, given, ("prepare_inputs", "infer", "save_outputs"))
    prepare_opts, infer_opts, save_opts = routed
    if found.implements("zoo_prepare_inputs", tag.method):
        inputs = found.call("zoo_prepare_inputs", tag.method, config=tag.config, options=prepare_opts)
    else:
        if any(v is not None for v in prepare_opts.values()):
            raise ConfigError(
                f"{tag.method} has no zoo_prepare_inputs hook, so options "
                f"{', '.join('--' + k for k in prepare_opts)} cannot be turned into inputs"
            )
        print(
            f"{tag.method} takes no file inputs from the command line; using its example inputs",
            file=sys.stderr,
        )
        inputs = zoo.example_inputs(model)
    from zoo.api import seeded

    with seeded(0):  # sampling methods (diffusion) give the same outputs for the same inputs
        outputs = zoo.infer(model, inputs, **infer_opts)
    if args.json:
        from zoo.cli._format import to_jsonable

        json.dump({"model": label, "outputs": to_jsonable(outputs)}, sys.stdout)
        print()
    else:
        from zoo.cli._format import format_outputs

        print(f"{label}:")
        print(format_outputs(outputs))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        if found.implements("zoo_save_outputs", tag.method):
            paths = found.call("zoo_save_outputs", tag.method, outputs=outputs, out_dir=out, config=tag.config,
                               options=save_opts)
            for path in paths or []:
                print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
            return 0
        _save_generic(outputs, out)
    return 0


def _save_generic(outputs: Any, out: Path) -> None:
    """Tensors of the outputs as ``outputs.safetensors`` (for methods without ``zoo_save_outputs``)."""
    import torch
    from safetensors.torch import save

    from zoo.io import atomic_write_bytes

    flat: dict[str, torch.Tensor] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            flat[prefix or "output"] = value.detach().to("cpu").contiguous()
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, (list, tuple)):
            for j, v in enumerate(value):
                walk(f"{prefix}.{j}" if prefix else str(j), v)

    walk("", outputs)
    if not flat:
        raise ConfigError("the outputs hold no tensors to save and the method has no zoo_save_outputs hook")
    atomic_write_bytes(out / "outputs.safetensors", save(flat))
    print(out / "outputs.safetensors")
