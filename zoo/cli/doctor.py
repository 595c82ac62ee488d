"""``zoo doctor``: what this installation can do and what is broken, in one report.

Exit code 0 when every setting is valid and every plugin loaded; otherwise the exit code a command would hit
with the first invalid setting (2 for a bad value, 7 for ``ZOO_KERNELS=triton`` where Triton cannot run), else 4
when a plugin failed or two plugins collide. A hub that cannot be reached is a warning (exit code unchanged).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``doctor`` command."""
    p = subparsers.add_parser("doctor", help="check the environment, plugins, kernels and devices")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-v", "--verbose", action="store_true", help="show full tracebacks of plugin failures")
    p.set_defaults(handler=_doctor)


def collect() -> dict[str, Any]:
    """Gather the doctor report as a dict (Python, torch, devices, kernels, plugins, failures, collisions)."""
    from importlib import metadata

    from zoo import __version__, catalogue, discovery

    report: dict[str, Any] = {"zoo": __version__, "python": platform.python_version(),
                              "platform": platform.platform()}
    try:
        import torch

        report["torch"] = torch.__version__
        report["devices"] = ["cpu"] + [f"cuda:{i} ({torch.cuda.get_device_name(i)})"
                                      for i in range(torch.cuda.device_count())]
    except Exception as exc:  # torch missing or broken: report, do not crash
        report["torch"] = f"unavailable: {exc}"
        report["devices"] = []
    for package in ("timm", "torchvision", "huggingface_hub", "safetensors", "pluggy", "triton", "faiss-cpu",
                    "faiss-gpu", "librosa", "flwr"):
        try:
            report.setdefault("packages", {})[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            report.setdefault("packages", {})[package] = None
    try:
        from zoo import kernels

        report["kernels"] = kernels.report()
    except Exception as exc:
        report["kernels"] = f"unavailable: {type(exc).__name__}: {exc}"
    try:
        entries = catalogue.load()
        report["catalogue"] = {"path": str(catalogue.default_path()), "entries": len(entries)}
    except Exception as exc:
        report["catalogue"] = {"error": str(exc)}
        entries = {}
    found = discovery.discover(strict=False)
    if "entries" in report["catalogue"]:  # what `zoo list` shows: the catalogue plus methods only a plugin declares
        extra = sorted(set(found.methods) - set(entries))
        report["catalogue"]["plugin_only"] = extra
        report["catalogue"]["listed"] = len(entries) + len(extra)
    from zoo.cli._settings import check_settings

    report["settings"] = [s.to_dict() for s in check_settings()]
    report["entry_points"] = [f"{ep.name} = {ep.value}" for ep in discovery.iter_entry_points()]
    report["plugins"] = [
        {"name": p.name, "distribution": p.dist, "version": p.version, "methods": list(p.methods),
         "hooks": list(p.hooks)} for p in found.plugins.values()
    ]
    report["failures"] = [f.__dict__ for f in found.failures]
    report["collisions"] = {k: list(v) for k, v in found.collisions.items()}
    return report


def _doctor(args: argparse.Namespace) -> int:
    from zoo import discovery

    report = collect()
    bad_settings = [s for s in report["settings"] if s["problem"] and not s["warning"]]
    plugins_ok = not report["failures"] and not report["collisions"]
    healthy = plugins_ok and not bad_settings
    code = 0 if healthy else (bad_settings[0]["exit_code"] if bad_settings else 4)
    if args.json:
        json.dump(report, sys.stdout, indent=2, default=str)
        print()
        return code
    print(f"zoo {report['zoo']}  python {report['python']}  torch {report['torch']}")
    print(f"platform   {report['platform']}")
    print(f"devices    {', '.join(report['devices']) or 'none'}")
    print("packages   " + ", ".join(f"{k} {v}" for k, v in report["packages"].items() if v))
    cat = report["catalogue"]
    if "entries" in cat:
        extra = cat["plugin_only"]
        more = f" + {len(extra)} declared only by a plugin ({', '.join(extra)})" if extra else ""
        print(f"catalogue  {cat['entries']} entries{more} = {cat['listed']} listed by `zoo list` ({cat['path']})")
    else:
        print(f"catalogue  unreadable: {cat.get('error')}")
    print("settings")
    for item in report["settings"]:
        mark = "ok  " if not item["problem"] else ("warn" if item["warning"] else "BAD ")
        line = f"  {mark}  {item['name']:<16} {item['value']}"
        print(line + (f": {item['problem']}" if item["problem"] else ""))
    kernels = report["kernels"]
    if isinstance(kernels, dict):
        print("kernels    " + ", ".join(f"{op}: {impl}" for op, impl in kernels.items()))
    else:
        print(f"kernels    {kernels}")
    print(f"plugins    {len(report['plugins'])} loaded from {len(report['entry_points'])} entry points")
    for p in report["plugins"]:
        print(f"  ok    {p['name']:<16} {p['distribution']} {p['version']}: {', '.join(p['methods'])}")
    for f in (f for f in report["failures"] if f["stage"] != "collision"):  # collisions: printed below
        print(f"  FAIL  {f['name']:<16} {f['dist']} {f['version']} [{f['stage']}] {f['error']}")
        if args.verbose and f["traceback"]:
            print("        " + f["traceback"].rstrip().replace("\n", "\n        "))
    for method, who in report["collisions"].items():  # the same words as `zoo list`
        print(f"  COLLISION  {discovery.collision_message(method, tuple(who))}")
    if healthy:
        print("healthy")
    elif bad_settings:
        print(f"problems found (exit code {code}): {', '.join(s['name'] for s in bad_settings)} would make commands "
              "fail" + ("" if plugins_ok else "; plugins failed too (`zoo doctor -v` for tracebacks)"))
    else:
        print("problems found (exit code 4); run `zoo doctor -v` for tracebacks")
    return code
