"""``zoo train``, ``zoo eval`` and ``zoo infer``: a method's lifecycle from the command line.

::

    zoo train protonet --variant tiny --data digits --steps 200 --out runs/protonet
    zoo eval protonet sac --data synthetic --weights runs/           # one table, one row per model
    zoo infer driving --weights runs/fadnet --out preds --image road.png

``train`` builds the model, makes the data (``synthetic``, a bundled set such as ``digits``, or a dataset
folder), runs the plugin's ``zoo_train`` (normally the shared trainer: progress bar, checkpoints,
``history.json``, ``curves.png``), saves the model folder (``zoo.save``: ``config.json``,
``model.safetensors``, ``README.md``) in ``--out`` and evaluates it on the test split. ``infer`` turns ``--key
value`` options into inputs through the plugin's ``zoo_prepare_inputs`` hook (falling back to the method's
example inputs), runs ``zoo.infer`` and writes the outputs with ``zoo_save_outputs``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo.errors import ConfigError


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
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
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
    e.add_argument(
        "--weights", help="a model folder (zoo.save / zoo train --out), or a folder of them by name"
    )
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
    i.add_argument("--weights", help="model folder with trained weights (default: random weights)")
    i.add_argument("--out", help="folder for the outputs (zoo_save_outputs)")
    i.add_argument("--accept-license", help="accept a non-commercial or gated licence (SPDX id) of the weights")
    i.add_argument("options", nargs=argparse.REMAINDER, help="--key value pairs for the plugin")
    i.set_defaults(handler=_infer)


# ----------------------------------------------------------------------------------------------- helpers


def model_name(name: str, variant: str | None) -> str:
    """``method-variant`` from a NAME and an optional ``--variant``."""
    from zoo import registry

    resolved = registry.resolve(name)
    return f"{resolved.spec.name}-{variant or resolved.variant.name}"


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


def _load_model(name: str, weights: str | None, accept_license: str | None = None) -> Any:
    """A built model, with the weights of ``weights`` (a model folder, or a folder holding one per name).

    ``accept_license``: the SPDX id of a non-commercial or gated licence the user accepts (``--accept-license``).
    """
    import zoo

    if not weights:
        return zoo.build(name)
    root = Path(weights)
    method = name.rsplit("-", 1)[0]
    for candidate in (root / name, root / method, root):
        if (candidate / "config.json").is_file():
            return zoo.load(str(candidate), accept_license=accept_license).model
    raise ConfigError(
        f"no model folder for {name!r} under {root}: expected {root}/config.json, "
        f"{root / name}/config.json or {root / method}/config.json (written by `zoo train --out`)"
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def format_table(rows: Mapping[str, Mapping[str, Any]]) -> str:
    """A plain-text table: one row per model, one column per metric (union over models, ``-`` when absent)."""
    columns: list[str] = []
    for metrics in rows.values():
        columns.extend(c for c in metrics if c not in columns)
    header = ["model", *columns]
    body = [[name, *(_fmt(m[c]) if c in m else "-" for c in columns)] for name, m in rows.items()]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    line = lambda r: "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in body)])


def _plain_metrics(values: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in values.items():
        try:
            out[str(k)] = float(v)
        except (TypeError, ValueError):
            continue
    return out


# ----------------------------------------------------------------------------------------------- handlers


def _train(args: argparse.Namespace) -> int:
    import zoo
    from zoo import discovery
    from zoo.options import TrainOptions

    name = model_name(args.name, args.variant)
    out = Path(args.out)
    model = zoo.build(name)
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
        from zoo._io import atomic_write_json
        from zoo.viz import training_curves

        atomic_write_json(out / "history.json", history)
        training_curves(history, out / "curves.png", title=name)
    metrics = _plain_metrics(
        getattr(result, "metrics", None) or (result.get("metrics", {}) if isinstance(result, Mapping) else {})
    )
    if not args.no_eval and discovery.plugins().implements("zoo_evaluate", model.zoo.method):
        test = zoo.make_data(model, args.data, "test")
        metrics.update({f"test_{k}": v for k, v in _plain_metrics(zoo.evaluate(model, test)).items()})
    command = "zoo train " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["train"] else f"zoo train {name}"
    zoo.save(model.to("cpu"), out, metrics={args.data: metrics} if metrics else None, command=command)
    from zoo._io import atomic_write_json

    atomic_write_json(out / "metrics.json", metrics)
    print(format_table({name: metrics}))
    written = sorted(
        p.name + ("/" if p.is_dir() else "") for p in out.iterdir() if not p.name.startswith(".")
    )
    print(f"wrote {out}/: {', '.join(written)}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    import zoo

    rows: dict[str, dict[str, float]] = {}
    for raw in args.names:
        name = model_name(raw, args.variant)
        model = _load_model(name, args.weights, args.accept_license)
        data = zoo.make_data(model, args.data, args.split)
        rows[name] = _plain_metrics(zoo.evaluate(model, data))
    print(json.dumps(rows, indent=2, sort_keys=True) if args.json else format_table(rows))
    return 0


def _describe(outputs: Any, depth: int = 0) -> str:
    if hasattr(outputs, "shape") and hasattr(outputs, "dtype"):
        return f"{type(outputs).__name__}{tuple(outputs.shape)} {outputs.dtype}"
    if isinstance(outputs, Mapping):
        pad = "  " * (depth + 1)
        return (
            "{\n"
            + "".join(f"{pad}{k}: {_describe(v, depth + 1)}\n" for k, v in outputs.items())
            + "  " * depth
            + "}"
        )
    if isinstance(outputs, (list, tuple)):
        return f"{type(outputs).__name__} of {len(outputs)}" + (
            f": [{_describe(outputs[0], depth)}, ...]" if outputs else ""
        )
    return repr(outputs)[:200]


def _infer(args: argparse.Namespace) -> int:
    import zoo
    from zoo import discovery

    # argparse's REMAINDER also swallows known flags that come after NAME: pick them out again
    known = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for flag in ("--variant", "--weights", "--out", "--accept-license"):
        known.add_argument(flag, default=getattr(args, flag[2:].replace("-", "_")))
    own, rest = known.parse_known_args(args.options)
    args.variant, args.weights, args.out = own.variant, own.weights, own.out
    args.accept_license = own.accept_license
    name = model_name(args.name, args.variant)
    given = parse_options(rest)
    model = _load_model(name, args.weights, args.accept_license)
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
    outputs = zoo.infer(model, inputs, **infer_opts)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        if found.implements("zoo_save_outputs", tag.method):
            paths = found.call("zoo_save_outputs", tag.method, outputs=outputs, out_dir=out, config=tag.config,
                               options=save_opts)
            for path in paths or []:
                print(path)
            return 0
        _save_generic(outputs, out)
        return 0
    print(_describe(outputs))
    return 0


def _save_generic(outputs: Any, out: Path) -> None:
    """Tensors of the outputs as ``outputs.safetensors`` (for methods without ``zoo_save_outputs``)."""
    import torch
    from safetensors.torch import save

    from zoo._io import atomic_write_bytes

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
